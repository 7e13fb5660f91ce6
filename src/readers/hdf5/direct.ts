/**
 * Chunk-direct reads: the chunks a selection touches are read with positional reads, inflated by
 * Node's zlib on the libuv pool (in parallel), unshuffled, checksummed, and their part copied into
 * the output; big-endian data is swapped once at the end. Values match h5wasm's byte for byte.
 */
import type { ByteSource, RawArray } from '../types.js';
import { CorruptFileError } from '../types.js';
import type { ChunkCache } from './chunk-cache.js';
import type { ChunkManifest } from './manifest.js';
import { TYPED_ARRAY } from '../dtype.js';
import {
  ChunkDecodeError,
  checkFletcher32,
  FILTER_DEFLATE,
  FILTER_FLETCHER32,
  FILTER_SHUFFLE,
  inflateAsync,
  unshuffle,
} from './filters.js';
import { pickFromBlock, type PickRange } from './picks.js';
import type { PicksChunk, PicksResult, PicksTask } from './picks-protocol.js';
import { WorkerTaskError } from '../../workers/pool.js';

export interface DirectSelection {
  start: number[];
  count: number[];
}

export interface DirectContext {
  source: ByteSource;
  /** File path and variable, named in errors. */
  path: string;
  variable: string;
  signal?: AbortSignal | undefined;
  /** Chunks read and decoded at once (bounds memory: about this many chunks, compressed + raw). */
  concurrency?: number;
  /** Decoded chunks shared across reads, keyed by the source's key and the chunk's file offset. */
  cache?: ChunkCache | undefined;
}

/** Contiguous runs closer than this are read as one: a syscall costs more than the skipped bytes. */
const MAX_GAP_BYTES = 64 * 1024;
/** Per piece; the reader keeps two pieces in flight, so eight chunks for the four libuv threads. */
const DEFAULT_CONCURRENCY = 4;

/** Whether `sel` lies inside the manifest's dataset (a file that grew after it was taken: no). */
export function selectionFits(m: ChunkManifest, sel: DirectSelection): boolean {
  return sel.start.length === m.shape.length && sel.start.every((s, i) => s >= 0 && s + sel.count[i]! <= m.shape[i]!);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

export async function readDirect(m: ChunkManifest, sel: DirectSelection, ctx: DirectContext): Promise<RawArray> {
  const total = sel.count.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(total * m.itemSize);
  if (total > 0) {
    if (m.storage === 'contiguous') await readContiguous(m, sel, out, ctx);
    else await readChunked(m, sel, out, ctx);
    if (!m.littleEndian && m.itemSize > 1) swapBytes(out, m.itemSize);
  }
  const dtype = m.dtype === 'string' ? 'u1' : m.dtype;
  return { dtype: m.dtype, shape: [...sel.count], data: new TYPED_ARRAY[dtype](out.buffer) };
}

function corrupt(ctx: DirectContext, detail: string): CorruptFileError {
  return new CorruptFileError(ctx.path, `variable ${ctx.variable}: ${detail}`);
}

/** Fills `out` with the fill value (zeros when none), doubling copies so large outputs stay cheap. */
function fillWith(out: Uint8Array, fill: number[] | null): void {
  if (!fill || fill.every((b) => b === 0)) return; // a fresh Uint8Array is already zeros
  out.set(fill.slice(0, Math.min(fill.length, out.length)));
  for (let n = fill.length; n < out.length; n *= 2) out.copyWithin(n, 0, Math.min(n, out.length - n));
}

// ---- chunked ------------------------------------------------------------------------------

const lookups = new WeakMap<ChunkManifest, Map<number, number>>();

/** Stored chunk index by linear chunk-grid position, built once per manifest. */
function lookup(m: ChunkManifest, grid: number[]): Map<number, number> {
  let map = lookups.get(m);
  if (map) return map;
  map = new Map();
  const rank = grid.length;
  for (let k = 0; k < m.offsets.length; k++) {
    let linear = 0;
    for (let d = 0; d < rank; d++) linear = linear * grid[d]! + m.coords[k * rank + d]!;
    map.set(linear, k);
  }
  lookups.set(m, map);
  return map;
}

async function readChunked(m: ChunkManifest, sel: DirectSelection, out: Uint8Array, ctx: DirectContext): Promise<void> {
  const rank = m.shape.length;
  const grid = m.shape.map((n, i) => Math.ceil(n / m.chunkShape[i]!));
  const index = lookup(m, grid);
  const lo = sel.start.map((s, i) => Math.floor(s / m.chunkShape[i]!));
  const hi = sel.start.map((s, i) => Math.floor((s + sel.count[i]! - 1) / m.chunkShape[i]!));
  const touched: Array<{ origin: number[]; k: number }> = [];
  let missing = false;
  const pos = [...lo];
  for (;;) {
    let linear = 0;
    for (let d = 0; d < rank; d++) linear = linear * grid[d]! + pos[d]!;
    const k = index.get(linear);
    if (k === undefined) missing = true;
    else touched.push({ origin: pos.map((p, d) => p * m.chunkShape[d]!), k });
    let d = rank - 1;
    while (d >= 0 && pos[d] === hi[d]) pos[d--] = lo[d + 1]!;
    if (d < 0) break;
    pos[d]!++;
  }
  // Unallocated chunks read as the fill value, as HDF5 returns them.
  if (missing) fillWith(out, m.fill);
  const chunkBytes = m.chunkShape.reduce((a, b) => a * b, m.itemSize);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < touched.length) {
      const { origin, k } = touched[next++]!;
      throwIfAborted(ctx.signal);
      const key = `${ctx.source.key}@${m.offsets[k]}`;
      if (shuffledLast(m, k) && sparse(m, origin, sel) && !ctx.cache?.has(key)) {
        // A few values of the chunk (a point time series): gathering them from the shuffled bytes
        // costs less than unshuffling the whole chunk, which nobody else is likely to want.
        const shuffled = await loadChunk(m, k, chunkBytes, ctx, ctx.signal, 1);
        if (ctx.signal?.aborted) return;
        copyBlockShuffled(shuffled, m.chunkShape, origin, out, sel, m.itemSize);
        continue;
      }
      // A shared (cached) decode must not be cancelled by one request's signal.
      const load = () => loadChunk(m, k, chunkBytes, ctx, ctx.cache ? undefined : ctx.signal, 0);
      const raw = await (ctx.cache ? ctx.cache.get(key, load) : load());
      if (ctx.signal?.aborted) return; // the caller has already been answered
      copyBlock(raw, m.chunkShape, origin, out, sel, m.itemSize);
    }
  };
  const workers: Array<Promise<void>> = [];
  const n = Math.min(ctx.concurrency ?? DEFAULT_CONCURRENCY, touched.length);
  for (let i = 0; i < n; i++) workers.push(worker());
  // Every worker is awaited so none is left reading after an error; the first error wins. An abort
  // answers at once: the workers start no new chunk, and the few decodes in flight finish unseen.
  const results = await untilAborted(Promise.allSettled(workers), ctx.signal);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs chunk-decoding tasks of decimated reads on worker threads (see ./picks-worker.ts). */
export type PicksRunner = (task: PicksTask, signal: AbortSignal | undefined) => Promise<PicksResult>;

/** Chunks per worker task: small enough that an abort drops most of a read's work still queued. */
const CHUNKS_PER_TASK = 4;

/**
 * The cells at the cross product of `picks` (strictly ascending absolute indices per dimension),
 * row-major: a decimated read. Chunks holding no pick along some dimension are not read at all;
 * the others are decoded on the worker threads of `run`, several at once, each writing only its
 * picked cells into the shared output, so the output is the picks' size, never the window they span.
 */
export async function readDirectPicks(
  m: ChunkManifest,
  picks: Int32Array[],
  ctx: DirectContext,
  fileKey: string,
  run: PicksRunner,
): Promise<RawArray> {
  const rank = m.shape.length;
  const counts = picks.map((p) => p.length);
  const total = counts.reduce((a, b) => a * b, 1);
  const dtype = m.dtype === 'string' ? 'u1' : m.dtype;
  if (total === 0 || m.storage === 'contiguous') {
    // Contiguous storage (rare for big grids): the span, then its picked cells, in the host's order.
    const start = picks.map((p) => (p.length > 0 ? p[0]! : 0));
    const count = picks.map((p, d) => (p.length > 0 ? p[p.length - 1]! + 1 - start[d]! : 0));
    const out = new Uint8Array(total * m.itemSize);
    if (total > 0) {
      const span = await readDirect(m, { start, count }, ctx);
      const bytes = span.data as Uint8Array;
      pickFromBlock(
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        count,
        start,
        picks,
        out,
        m.itemSize,
      );
    }
    return { dtype: m.dtype, shape: counts, data: new TYPED_ARRAY[dtype](out.buffer) };
  }
  // Per dimension, the picks grouped by the chunk holding them.
  const byChunk = picks.map((list, d) => {
    const groups = new Map<number, PickRange>();
    for (let k = 0; k < list.length; k++) {
      const c = Math.floor(list[k]! / m.chunkShape[d]!);
      const g = groups.get(c);
      if (g) g.to = k + 1;
      else groups.set(c, { from: k, to: k + 1 });
    }
    return [...groups.entries()];
  });
  const grid = m.shape.map((n, i) => Math.ceil(n / m.chunkShape[i]!));
  const index = lookup(m, grid);
  const chunks: PicksChunk[] = [];
  let missing = false;
  const pos = new Array<number>(rank).fill(0);
  for (;;) {
    let linear = 0;
    for (let d = 0; d < rank; d++) linear = linear * grid[d]! + byChunk[d]![pos[d]!]![0];
    const k = index.get(linear);
    if (k === undefined) missing = true;
    else
      chunks.push({
        offset: m.offsets[k]!,
        size: m.sizes[k]!,
        mask: m.masks[k]!,
        origin: pos.map((p, d) => byChunk[d]![p]![0] * m.chunkShape[d]!),
        ranges: pos.map((p, d) => byChunk[d]![p]![1]),
      });
    let d = rank - 1;
    while (d >= 0 && pos[d] === byChunk[d]!.length - 1) pos[d--] = 0;
    if (d < 0) break;
    pos[d]!++;
  }
  const shared = new SharedArrayBuffer(total * m.itemSize);
  const out = new Uint8Array(shared);
  // Unallocated chunks read as the fill value, as HDF5 returns them.
  if (missing) fillWith(out, m.fill);
  const tasks: Array<Promise<PicksResult>> = [];
  for (let i = 0; i < chunks.length; i += CHUNKS_PER_TASK) {
    const task: PicksTask = {
      path: ctx.path,
      fileKey,
      filters: m.filters,
      chunkShape: m.chunkShape,
      itemSize: m.itemSize,
      picks,
      out: shared,
      chunks: chunks.slice(i, i + CHUNKS_PER_TASK),
    };
    const p = run(task, ctx.signal);
    p.catch(() => undefined);
    tasks.push(p);
  }
  const results = await untilAborted(Promise.allSettled(tasks), ctx.signal);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    const err: unknown = failed.reason;
    if (err instanceof WorkerTaskError && err.name === 'ChunkDecodeError') throw corrupt(ctx, err.message);
    throw err;
  }
  if (!m.littleEndian && m.itemSize > 1) swapBytes(out, m.itemSize);
  return { dtype: m.dtype, shape: counts, data: new TYPED_ARRAY[dtype](shared) };
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException('The operation was aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** The shuffle is the pipeline's first filter (so the last undone) and applies to chunk k. */
function shuffledLast(m: ChunkManifest, k: number): boolean {
  return m.itemSize > 1 && m.filters[0]?.id === FILTER_SHUFFLE && (m.masks[k]! & 1) === 0;
}

/** The selection uses under 1/16 of the chunk at `origin`. */
function sparse(m: ChunkManifest, origin: number[], sel: DirectSelection): boolean {
  let part = 1;
  let whole = 1;
  for (let d = 0; d < origin.length; d++) {
    const c = m.chunkShape[d]!;
    part *= Math.max(0, Math.min(sel.start[d]! + sel.count[d]!, origin[d]! + c) - Math.max(sel.start[d]!, origin[d]!));
    whole *= c;
  }
  return part * 16 < whole;
}

/**
 * Reads and decodes stored chunk k, leaving the first `keep` filters applied (1: return it still
 * shuffled). A full decode is shared through the cache, so never modified.
 */
async function loadChunk(
  m: ChunkManifest,
  k: number,
  chunkBytes: number,
  ctx: DirectContext,
  signal: AbortSignal | undefined,
  keep: number,
): Promise<Uint8Array> {
  const stored = await ctx.source.read(m.offsets[k]!, m.sizes[k]!, signal);
  if (stored.length !== m.sizes[k])
    throw corrupt(ctx, `chunk at byte ${m.offsets[k]} is cut short by the end of the file`);
  let raw: Uint8Array;
  try {
    raw = await decode(m, stored, m.masks[k]!, chunkBytes, keep);
  } catch (err) {
    if (err instanceof ChunkDecodeError) throw corrupt(ctx, `chunk at byte ${m.offsets[k]}: ${err.message}`);
    throw err;
  }
  if (raw.length < chunkBytes)
    throw corrupt(ctx, `chunk at byte ${m.offsets[k]} holds ${raw.length} bytes, ${chunkBytes} expected`);
  return raw;
}

/** Undoes the pipeline backwards, skipping the filters this chunk's mask says were not applied. */
async function decode(
  m: ChunkManifest,
  stored: Uint8Array,
  mask: number,
  chunkBytes: number,
  keep: number,
): Promise<Uint8Array> {
  let data = stored;
  for (let i = m.filters.length - 1; i >= keep; i--) {
    if (mask & (1 << i)) continue;
    const f = m.filters[i]!;
    // Room for a fletcher32 checksum that was added before deflating (netCDF-C's filter order).
    if (f.id === FILTER_DEFLATE) data = await inflateAsync(data, chunkBytes + 4);
    else if (f.id === FILTER_SHUFFLE) data = unshuffle(data, f.values[0] ?? m.itemSize);
    else if (f.id === FILTER_FLETCHER32) data = checkFletcher32(data);
    else throw new ChunkDecodeError(`filter ${f.id} is not decoded natively`);
  }
  return data;
}

/**
 * The rows (runs along the last dimension) where a block (`shape` at `origin`) and the selection
 * overlap: `visit(s, o, run)` gets the run's first element in the block and in the output, and its
 * length, all in elements.
 */
function overlapRuns(
  shape: number[],
  origin: number[],
  sel: DirectSelection,
  visit: (s: number, o: number, run: number) => void,
): void {
  const rank = shape.length;
  const from: number[] = [];
  const to: number[] = [];
  for (let d = 0; d < rank; d++) {
    from.push(Math.max(sel.start[d]!, origin[d]!));
    to.push(Math.min(sel.start[d]! + sel.count[d]!, origin[d]! + shape[d]!));
    if (to[d]! <= from[d]!) return;
  }
  // Row-major strides, in elements, of the block and of the output.
  const srcStride = new Array<number>(rank);
  const dstStride = new Array<number>(rank);
  srcStride[rank - 1] = 1;
  dstStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) {
    srcStride[d] = srcStride[d + 1]! * shape[d + 1]!;
    dstStride[d] = dstStride[d + 1]! * sel.count[d + 1]!;
  }
  const last = rank - 1;
  const run = to[last]! - from[last]!;
  const idx = [...from];
  for (;;) {
    let s = 0;
    let o = 0;
    for (let d = 0; d < rank; d++) {
      s += (idx[d]! - origin[d]!) * srcStride[d]!;
      o += (idx[d]! - sel.start[d]!) * dstStride[d]!;
    }
    visit(s, o, run);
    let d = last - 1;
    while (d >= 0 && ++idx[d]! === to[d]) idx[d] = from[d--]!;
    if (d < 0) return;
  }
}

/** Copies the part of a block (a chunk, `shape` at `origin`) that the selection covers into `out`. */
function copyBlock(
  src: Uint8Array,
  shape: number[],
  origin: number[],
  out: Uint8Array,
  sel: DirectSelection,
  item: number,
): void {
  overlapRuns(shape, origin, sel, (s, o, run) => out.set(src.subarray(s * item, (s + run) * item), o * item));
}

/** copyBlock from a still-shuffled chunk: byte b of element e sits at b·n + e (n elements). */
function copyBlockShuffled(
  src: Uint8Array,
  shape: number[],
  origin: number[],
  out: Uint8Array,
  sel: DirectSelection,
  item: number,
): void {
  const n = Math.floor(src.length / item);
  overlapRuns(shape, origin, sel, (s, o, run) => {
    for (let e = 0; e < run; e++) {
      for (let b = 0; b < item; b++) out[(o + e) * item + b] = src[b * n + s + e]!;
    }
  });
}

// ---- contiguous ---------------------------------------------------------------------------

async function readContiguous(
  m: ChunkManifest,
  sel: DirectSelection,
  out: Uint8Array,
  ctx: DirectContext,
): Promise<void> {
  if (m.offsets.length === 0) {
    fillWith(out, m.fill); // storage never allocated
    return;
  }
  const base = m.offsets[0]!;
  const rank = sel.count.length;
  const item = m.itemSize;
  const run = sel.count[rank - 1]! * item;
  const stride = new Array<number>(rank);
  stride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) stride[d] = stride[d + 1]! * m.shape[d + 1]!;
  // File offsets of each output row, in output order (ascending in the file too).
  const rows: number[] = [];
  const idx = [...sel.start];
  for (;;) {
    let e = 0;
    for (let d = 0; d < rank; d++) e += idx[d]! * stride[d]!;
    rows.push(base + e * item);
    let d = rank - 2;
    while (d >= 0 && ++idx[d]! === sel.start[d]! + sel.count[d]!) idx[d] = sel.start[d--]!;
    if (d < 0) break;
  }
  let r = 0;
  while (r < rows.length) {
    throwIfAborted(ctx.signal);
    let end = r + 1;
    while (end < rows.length && rows[end]! - (rows[end - 1]! + run) <= MAX_GAP_BYTES) end++;
    const first = rows[r]!;
    const span = rows[end - 1]! + run - first;
    const bytes = await ctx.source.read(first, span, ctx.signal);
    if (bytes.length !== span) throw corrupt(ctx, `data at byte ${first} is cut short by the end of the file`);
    for (let k = r; k < end; k++) out.set(bytes.subarray(rows[k]! - first, rows[k]! - first + run), k * run);
    r = end;
  }
}

// ---- byte order ---------------------------------------------------------------------------

function swapBytes(data: Uint8Array, size: number): void {
  for (let i = 0; i + size <= data.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = data[a]!;
      data[a] = data[b]!;
      data[b] = t;
    }
  }
}
