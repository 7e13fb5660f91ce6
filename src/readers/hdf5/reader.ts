/**
 * NetCDF-4 / HDF5 reader. h5wasm reads synchronously, so every call runs in a worker thread
 * (src/readers/hdf5/worker.ts) behind a small pool; this module validates windows, plans streamed
 * reads along the file's chunk grid and maps worker errors back to the reader error classes.
 * Values are the raw stored values: CF decoding happens in src/cf/.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type {
  Hdf5ErrorCode,
  Hdf5InfoResult,
  Hdf5ReadResult,
  Hdf5Request,
  Hdf5Response,
  Hdf5VariableMeta,
  Hdf5WorkerOptions,
} from './worker-protocol.js';
import { WorkerPool, WorkerTaskError, workerScript, type PoolStats } from '../../workers/pool.js';
import type { Chunk, DatasetInfo, RawArray, ReadRequest, Reader, VariableInfo, Window } from '../types.js';
import { CorruptFileError, ReaderRequestError } from '../types.js';
import { checkPicks, checkWindow, pickCells, picksSpan } from '../window.js';
import { DTYPE_BYTES } from '../dtype.js';
import { readDirect, readDirectPicks, selectionFits } from './direct.js';
import { DirectEngine, type DirectEngineOptions, type Hdf5Log } from './engine.js';

import type { ManifestOrMiss, ManifestStore } from './manifest.js';

export type { ManifestOrMiss, ManifestStore } from './manifest.js';
export { MemoryManifestStore } from './manifest.js';
export type { Hdf5Log } from './engine.js';

/** A dataset is compressed with a filter this server cannot decode (the file itself is fine). */
export class UnsupportedFilterError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly dataset: string,
    readonly filterId: number,
  ) {
    super(message);
    this.name = 'UnsupportedFilterError';
  }
}

// ---- pool ----------------------------------------------------------------------------------

export interface Hdf5PoolOptions extends Hdf5WorkerOptions {
  /** h5wasm worker threads; default 1 with direct reads, else min(2, os.availableParallelism()). */
  size?: number;
  /** Chunk-direct reading (native zlib) of the variables its manifests cover; h5wasm reads the rest. */
  direct?: DirectEngineOptions;
}

/** The worker pool that runs h5wasm, with typed calls. Share one per process (see getHdf5Pool). */
export class Hdf5Pool {
  private readonly pool: WorkerPool<Hdf5Request, Hdf5Response>;
  private readonly infoCache = new Map<string, Hdf5InfoResult>();
  /** Chooses direct reads or h5wasm per file and variable; holds the manifests and file sources. */
  readonly direct: DirectEngine;

  constructor(options: Hdf5PoolOptions = {}) {
    this.direct = new DirectEngine(
      async (filePath, h5path) => (await this.info(filePath)).variables.find((v) => v.h5path === h5path)?.objectAddress,
      options.direct,
    );
    const { url, execArgv } = workerScript('./worker.js', import.meta.url);
    const workerData: Hdf5WorkerOptions = {
      maxOpenFiles: options.maxOpenFiles,
      retireHeapBytes: options.retireHeapBytes,
    };
    // With direct reads, h5wasm serves metadata and the few uncovered variables: one worker (about
    // 55 MB of wasm heap and runtime) is enough, and the memory goes to decoding chunks instead.
    const size = options.size ?? (this.direct.enabled ? 1 : undefined);
    this.pool = new WorkerPool(url, { size, name: 'hdf5', execArgv, workerData });
  }

  warm(): void {
    this.pool.warm();
  }

  get size(): number {
    return this.pool.size;
  }

  get stats(): PoolStats {
    return this.pool.stats;
  }

  /**
   * Metadata of a file, kept per path, size and mtime: every request opens a reader, and walking a
   * file's dimension scales in the worker costs more than many small reads.
   */
  async info(filePath: string, signal?: AbortSignal): Promise<Hdf5InfoResult> {
    const st = await stat(filePath).catch(() => undefined);
    const key = st ? `${filePath}:${st.size}:${st.mtimeMs}` : undefined;
    const hit = key ? this.infoCache.get(key) : undefined;
    if (key && hit) {
      this.infoCache.delete(key);
      this.infoCache.set(key, hit);
      return hit;
    }
    const res = await this.call({ op: 'info', path: filePath }, signal);
    if (res.kind !== 'info') throw new Error(`hdf5 worker answered ${res.kind} to info`);
    if (key) {
      this.infoCache.set(key, res);
      if (this.infoCache.size > INFO_CACHE_FILES) this.infoCache.delete(this.infoCache.keys().next().value!);
    }
    return res;
  }

  /** One hyperslab (`start`, `count` per dimension, inside the dataset's shape) of one dataset. */
  async read(
    filePath: string,
    dataset: string,
    start: number[],
    count: number[],
    signal?: AbortSignal,
  ): Promise<Hdf5ReadResult> {
    const res = await this.call({ op: 'read', path: filePath, dataset, start, count }, signal);
    if (res.kind !== 'read') throw new Error(`hdf5 worker answered ${res.kind} to read`);
    return res;
  }

  /**
   * Index time: the chunk manifest (or the reason there is none) of every non-string variable of a
   * file, keyed by HDF5 dataset path, taken now and put in the ManifestStore so serving never parses.
   */
  async takeManifests(filePath: string): Promise<Record<string, ManifestOrMiss>> {
    const absolute = path.resolve(filePath);
    const info = await this.info(absolute);
    const out: Record<string, ManifestOrMiss> = {};
    for (const v of info.variables) {
      if (v.dtype === 'string') continue;
      const found = await this.direct.manifest(absolute, v.h5path);
      if (found) out[v.h5path] = found.manifest;
    }
    return out;
  }

  /** Where chunk manifests are kept (the catalog): taken once per file version, reused after a restart. */
  setManifestStore(store: ManifestStore): void {
    this.direct.setManifestStore(store);
  }

  /** Where the choice of read path per variable is logged (once per file and variable). */
  setLog(log: Hdf5Log | undefined): void {
    this.direct.setLog(log);
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.direct.close()]);
  }

  private async call(request: Hdf5Request, signal: AbortSignal | undefined): Promise<Hdf5Response> {
    try {
      return await this.pool.run(request, { signal });
    } catch (err) {
      throw mapWorkerError(err, request.path);
    }
  }
}

function mapWorkerError(err: unknown, filePath: string): unknown {
  if (!(err instanceof WorkerTaskError)) return err;
  const code = err.code as Hdf5ErrorCode | undefined;
  const data = (err.data ?? {}) as { dataset?: string; filterId?: number };
  // Worker messages already start with the path; CorruptFileError adds it again, so strip it.
  const detail = err.message.startsWith(`${filePath}: `) ? err.message.slice(filePath.length + 2) : err.message;
  switch (code) {
    case 'corrupt':
      return new CorruptFileError(filePath, detail);
    case 'request':
      return new ReaderRequestError(err.message);
    case 'filter':
      return new UnsupportedFilterError(err.message, filePath, data.dataset ?? '', data.filterId ?? -1);
    case 'notfound':
      return Object.assign(new Error(err.message), { code: 'ENOENT', path: filePath });
    default:
      return new Error(`${filePath}: ${err.message}`);
  }
}

let sharedPool: Hdf5Pool | undefined;

/** The process-wide pool, created on first use. Its idle workers never keep the process alive. */
export function getHdf5Pool(): Hdf5Pool {
  sharedPool ??= new Hdf5Pool();
  return sharedPool;
}

/** Terminates the shared pool (server shutdown, end of tests); the next use creates a new one. */
export async function closeHdf5Pool(): Promise<void> {
  const pool = sharedPool;
  sharedPool = undefined;
  await pool?.close();
}

// ---- reader --------------------------------------------------------------------------------

export interface Hdf5ReaderOptions {
  /** Upper bound of one streamed chunk's values, in bytes (default 8 MiB). */
  maxChunkBytes?: number;
}

/**
 * Files whose metadata is kept on the main thread: enough for a few years of daily files served as one
 * collection (below the number of files one request spans, every request re-reads every file's
 * metadata through the h5wasm worker, one file after the other).
 */
const INFO_CACHE_FILES = 2048;

/** Below this, splitting a read across workers costs more in round trips than it saves. */
const MIN_PARALLEL_PIECE_BYTES = 4 * 1024;
const DEFAULT_MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Variables in the order the file's writer created them, as netCDF-C, GDAL and xarray list them
 * (h5wasm lists links by name): object headers are allocated as datasets are created, so their
 * addresses follow creation order. Kept by name when an address is unknown.
 */
function inCreationOrder<T extends { objectAddress?: number }>(variables: T[]): T[] {
  if (variables.some((v) => v.objectAddress === undefined)) return variables;
  return [...variables].sort((a, b) => a.objectAddress! - b.objectAddress!);
}

/** Start and count per dimension of one variable, in the variable's dimension order. */
export interface Selection {
  start: number[];
  count: number[];
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/**
 * Splits a selection into pieces of at most `maxBytes`: whole selection if it fits, else along the
 * outermost dimension whose single index fits, with piece boundaries on the dataset's chunk grid
 * along that dimension whenever a piece can hold at least one chunk row (so no chunk is decompressed
 * twice). Dimensions outside the split one advance one index at a time.
 */
export function* planChunks(
  sel: Selection,
  chunks: number[] | undefined,
  itemBytes: number,
  maxBytes: number,
): Generator<Selection> {
  const { start, count } = sel;
  const rank = count.length;
  if (count.some((c) => c === 0)) return;
  if (rank === 0 || product(count) * itemBytes <= maxBytes) {
    yield { start: [...start], count: [...count] };
    return;
  }
  let splitDim = 0;
  let sliceBytes = product(count.slice(1)) * itemBytes;
  while (sliceBytes > maxBytes && splitDim < rank - 1) {
    splitDim++;
    sliceBytes /= count[splitDim] as number;
  }
  const fit = Math.max(1, Math.floor(maxBytes / sliceBytes));
  const chunk = chunks?.[splitDim];
  const step = chunk !== undefined && fit >= chunk ? Math.floor(fit / chunk) * chunk : fit;
  const aligned = chunk !== undefined && fit >= chunk;
  const first = start[splitDim] as number;
  const end = first + (count[splitDim] as number);
  const outer = new Array<number>(splitDim).fill(0);
  for (;;) {
    let pos = first;
    while (pos < end) {
      // Aligned: the next boundary is `step` past the start of the chunk holding `pos`.
      const next = Math.min(end, aligned ? Math.floor(pos / (chunk as number)) * (chunk as number) + step : pos + step);
      const partStart = [...start];
      const partCount = [...count];
      for (let i = 0; i < splitDim; i++) {
        partStart[i] = (start[i] as number) + (outer[i] as number);
        partCount[i] = 1;
      }
      partStart[splitDim] = pos;
      partCount[splitDim] = next - pos;
      yield { start: partStart, count: partCount };
      pos = next;
    }
    let d = splitDim - 1;
    while (d >= 0 && ++outer[d]! === count[d]) outer[d--] = 0;
    if (d < 0) return;
  }
}

export class Hdf5Reader implements Reader {
  private readonly byName: Map<string, Hdf5VariableMeta>;
  private readonly dimLengths: Map<string, number>;
  private readonly publicInfo: DatasetInfo;
  private readonly maxChunkBytes: number;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly pool: Hdf5Pool,
    meta: Hdf5InfoResult,
    options: Hdf5ReaderOptions = {},
  ) {
    this.byName = new Map(meta.variables.map((v) => [v.name, v]));
    this.dimLengths = new Map(Object.entries(meta.dims));
    this.maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
    const variables: VariableInfo[] = inCreationOrder(meta.variables).map(
      ({ h5path: _h5path, filters: _filters, objectAddress: _address, ...v }) => v,
    );
    this.publicInfo = { format: 'hdf5', dims: meta.dims, variables, attrs: meta.attrs };
    if (meta.unlimited !== undefined) this.publicInfo.unlimited = meta.unlimited;
  }

  async info(): Promise<DatasetInfo> {
    this.assertOpen();
    return this.publicInfo;
  }

  /**
   * Raw values inside `window`, clamped to the variable's own shape: along an unlimited dimension a
   * variable may hold fewer records than the dimension, and the result is then shorter than asked.
   */
  async readRaw(variable: string, window?: Window, signal?: AbortSignal): Promise<RawArray> {
    this.assertOpen();
    const v = this.variable(variable);
    return this.readSelection(v, this.select(v, window), signal);
  }

  /**
   * Streams each variable in pieces of at most `maxChunkBytes` aligned to its chunk grid (see
   * planChunks). Everything is validated before the first read; a window selecting nothing yields
   * no chunk; the signal is checked between chunks and aborts the one in flight.
   */
  async *read(req: ReadRequest): AsyncGenerator<Chunk> {
    this.assertOpen();
    const planned = req.variables.map((name) => {
      const v = this.variable(name);
      return { v, selection: this.select(v, req.window) };
    });
    // Pieces are read two (or `pool.size` workers) at a time, in order: decompression is the cost,
    // and a window of a few chunks would otherwise keep one core busy while the other waits. Direct
    // reads decode on the libuv pool, whatever the number of h5wasm workers.
    const parallel = Math.max(2, this.pool.size);
    for (const { v, selection } of planned) {
      const item = DTYPE_BYTES[v.dtype];
      const total = product(selection.count) * item;
      // The cost is the chunks decompressed, not the bytes returned: a point time series touches one
      // chunk per step and is worth splitting however few bytes it returns.
      const chunksTouched = v.chunks
        ? selection.start.reduce(
            (n, a, i) =>
              n * (Math.floor((a + selection.count[i]! - 1) / v.chunks![i]!) - Math.floor(a / v.chunks![i]!) + 1),
            1,
          )
        : 1;
      const floor = chunksTouched >= 2 * parallel ? item : MIN_PARALLEL_PIECE_BYTES;
      const pieceBytes = Math.min(this.maxChunkBytes, Math.max(floor, Math.ceil(total / parallel)));
      const parts = [...planChunks(selection, v.chunks, item, pieceBytes)];
      const inflight: Array<Promise<{ ok: true; raw: RawArray } | { ok: false; error: unknown }>> = [];
      let next = 0;
      const launch = () => {
        const part = parts[next++]!;
        // Settled into a value at once, so a piece nobody awaits (the consumer stopped) never rejects unhandled.
        inflight.push(
          this.readSelection(v, part, req.signal).then(
            (raw) => ({ ok: true as const, raw }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        );
      };
      for (let k = 0; k < parts.length; k++) {
        throwIfAborted(req.signal);
        this.assertOpen();
        while (inflight.length < parallel && next < parts.length) launch();
        const result = await inflight.shift()!;
        if (!result.ok) throw result.error;
        const part = parts[k]!;
        const window: Window = {};
        v.dims.forEach((dim, i) => {
          window[dim] = [part.start[i] as number, (part.start[i] as number) + (part.count[i] as number)];
        });
        yield { variable: v.name, window, ...result.raw };
      }
    }
  }

  /**
   * A decimated read (see Reader.readPicks): chunk-direct, every chunk a pick falls in decoded once
   * with several in flight on the libuv pool, only the picked cells kept. Variables h5wasm reads
   * (no manifest) are read over the span of the picks, then picked.
   */
  async readPicks(variable: string, picks: Int32Array[], signal?: AbortSignal): Promise<RawArray> {
    this.assertOpen();
    const v = this.variable(variable);
    checkPicks(this.path, variable, picks, v.shape);
    throwIfAborted(signal);
    const span = picksSpan(picks);
    if (v.dtype !== 'string' && span.count.every((n) => n > 0)) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const target = await this.pool.direct.target(this.path, v);
        if (!target || !selectionFits(target.manifest, span)) break;
        const ctx = {
          source: target.source,
          path: this.path,
          variable: v.name,
          signal,
          cache: this.pool.direct.chunks,
        };
        const outcome = await readDirectPicks(target.manifest, picks, ctx, target.key, this.pool.direct.runPicks).then(
          (raw) => ({ raw }),
          (error: unknown) => ({ error }),
        );
        if (await this.pool.direct.unchanged(this.path, target)) {
          if ('error' in outcome) throw outcome.error;
          return outcome.raw;
        }
      }
    }
    const whole = await this.readSelection(v, span, signal);
    return pickCells(whole, span.start, picks);
  }

  /** Worker-side file handles live in the pool's LRU and are shared with other readers of the file. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.path}: reader is closed`);
  }

  private variable(name: string): Hdf5VariableMeta {
    const v = this.byName.get(name);
    if (!v) throw new ReaderRequestError(`unknown variable "${name}" in ${this.path}`);
    return v;
  }

  /** Validates a window against the file's dimensions, then clamps it to the variable's shape. */
  private select(v: Hdf5VariableMeta, window: Window | undefined): Selection {
    checkWindow(
      this.path,
      window,
      (d) => this.dimLengths.get(d),
      () => [...this.dimLengths.keys()],
    );
    const start: number[] = [];
    const count: number[] = [];
    v.dims.forEach((dim, i) => {
      const own = v.shape[i] as number;
      const range = window?.[dim];
      const stop = Math.min(range ? range[1] : own, own);
      const first = Math.min(range ? range[0] : 0, stop);
      start.push(first);
      count.push(stop - first);
    });
    return { start, count };
  }

  /**
   * Direct when the variable's manifest (for the file as it is now on disk) covers it and the
   * selection lies inside the dataset it describes; h5wasm otherwise.
   */
  private async readSelection(v: Hdf5VariableMeta, sel: Selection, signal: AbortSignal | undefined): Promise<RawArray> {
    throwIfAborted(signal);
    // A file rewritten while a piece was read may have given bytes from other offsets: such a
    // result (or the error it caused) is dropped and the piece read again from the file as it is.
    for (let attempt = 0; v.dtype !== 'string' && attempt < 3; attempt++) {
      const target = await this.pool.direct.target(this.path, v);
      if (!target || !selectionFits(target.manifest, sel)) break;
      const ctx = { source: target.source, path: this.path, variable: v.name, signal, cache: this.pool.direct.chunks };
      const outcome = await readDirect(target.manifest, sel, ctx).then(
        (raw) => ({ raw }),
        (error: unknown) => ({ error }),
      );
      if (await this.pool.direct.unchanged(this.path, target)) {
        if ('error' in outcome) throw outcome.error;
        return outcome.raw;
      }
    }
    const res = await this.pool.read(this.path, v.h5path, sel.start, sel.count, signal);
    return { dtype: res.dtype, shape: res.shape, data: res.data };
  }
}

/**
 * Opens a NetCDF-4 / HDF5 file: reads its metadata in a worker (so a corrupt or non-HDF5 file
 * rejects here with a CorruptFileError). Uses the shared pool unless one is given.
 */
export async function openHdf5(filePath: string, pool?: Hdf5Pool, options?: Hdf5ReaderOptions): Promise<Hdf5Reader> {
  const absolute = path.resolve(filePath);
  const p = pool ?? getHdf5Pool();
  const meta = await p.info(absolute);
  return new Hdf5Reader(absolute, p, meta, options);
}
