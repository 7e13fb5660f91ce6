/**
 * Zarr v2 reader for local directory stores. Each chunk is one file (`i.j.k`, or `i/j/k` with
 * dimension_separator '/'); a missing chunk file holds the fill value. Reads touch only the chunks a
 * window needs, a few at a time: zlib/gzip inflate on the libuv pool, so chunks decompress in
 * parallel. Values are the raw stored values (CF decoding lives in src/cf/).
 */
import { readFile, stat } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import type {
  Chunk,
  DatasetInfo,
  NumericArray,
  RawArray,
  ReadRequest,
  Reader,
  VariableInfo,
  Window,
} from '../types.js';
import { CorruptFileError, ReaderRequestError } from '../types.js';
import { checkWindow } from '../window.js';
import { typedArrayView } from '../dtype.js';
import { CodecError, decompress, unfilter, unsupportedCodec, UnsupportedFilterError } from './codecs.js';
import type { ZarrArrayMeta, ZarrStoreMeta } from './metadata.js';
import { readZarrMetadata } from './metadata.js';

export { UnsupportedFilterError } from './codecs.js';

export interface ZarrReaderOptions {
  /** Upper bound of one streamed Chunk's values, in bytes (default 8 MiB); a single storage chunk may exceed it. */
  maxChunkBytes?: number;
  /** Streamed Chunks being read ahead of the consumer (default 2). */
  readAhead?: number;
  /** Storage chunk files read and decompressed at once per request (default 4, the libuv pool's size). */
  concurrency?: number;
}

const DEFAULTS: Required<ZarrReaderOptions> = { maxChunkBytes: 8 * 1024 * 1024, readAhead: 2, concurrency: 4 };

const HOST_IS_BIG_ENDIAN = endianness() === 'BE';

/** Start and count per dimension of one variable, in its dimension order. */
interface Selection {
  start: number[];
  count: number[];
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** A counting semaphore: bounds the chunk files read at once, shared by all pieces of one request. */
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly slots: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter, so no newcomer can slip in between.
    if (this.active >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Pieces of a selection, aligned to the chunk grid: the whole selection if it fits `maxBytes`; else one
 * chunk row along the outer dimensions, several chunks along a split dimension and everything along
 * the inner ones, so that no storage chunk is decompressed for two pieces. A storage chunk bigger than
 * `maxBytes` is one piece.
 */
export function* planPieces(
  sel: Selection,
  chunks: number[],
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
  const lo = start.map((s, i) => Math.floor(s / chunks[i]!));
  const hi = start.map((s, i) => Math.floor((s + count[i]! - 1) / chunks[i]!));
  // split: the outermost dimension d for which one chunk along dims ≤ d and the whole selection inside fit.
  let split = rank - 1;
  let steps = new Array<number>(rank).fill(1);
  for (let d = 0; d < rank; d++) {
    const rowBytes =
      itemBytes * product(chunks.slice(0, d + 1).map((c, i) => Math.min(c, count[i]!))) * product(count.slice(d + 1));
    if (rowBytes <= maxBytes) {
      split = d;
      steps = chunks.map((_, i) =>
        i < d ? 1 : i === d ? Math.max(1, Math.floor(maxBytes / rowBytes)) : hi[i]! - lo[i]! + 1,
      );
      break;
    }
  }
  const index = lo.slice(0, split + 1);
  for (;;) {
    const partStart: number[] = [];
    const partCount: number[] = [];
    for (let i = 0; i < rank; i++) {
      const first = i <= split ? index[i]! : lo[i]!;
      const from = Math.max(start[i]!, first * chunks[i]!);
      const to = Math.min(start[i]! + count[i]!, (first + steps[i]!) * chunks[i]!);
      partStart.push(from);
      partCount.push(to - from);
    }
    yield { start: partStart, count: partCount };
    let d = split;
    while (d >= 0) {
      index[d] = index[d]! + steps[d]!;
      if (index[d]! <= hi[d]!) break;
      index[d] = lo[d]!;
      d--;
    }
    if (d < 0) return;
  }
}

export class ZarrReader implements Reader {
  private readonly byName: Map<string, ZarrArrayMeta>;
  private readonly dimLengths: Map<string, number>;
  private readonly publicInfo: DatasetInfo;
  private readonly options: Required<ZarrReaderOptions>;
  private closed = false;

  constructor(
    /** Absolute path of the store directory. */
    readonly path: string,
    readonly meta: ZarrStoreMeta,
    options: ZarrReaderOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.byName = new Map(meta.arrays.map((a) => [a.name, a]));
    this.dimLengths = new Map(Object.entries(meta.dims));
    const variables: VariableInfo[] = [];
    for (const a of meta.arrays) {
      if (a.dtype === undefined) continue; // listed nowhere: no DType can describe it (see variable())
      variables.push({
        name: a.name,
        dtype: a.dtype,
        dims: [...a.dims],
        shape: [...a.shape],
        chunks: [...a.chunks],
        attrs: a.attrs,
      });
    }
    this.publicInfo = { format: 'zarr', dims: { ...meta.dims }, variables, attrs: meta.attrs };
  }

  async info(): Promise<DatasetInfo> {
    this.assertOpen();
    return this.publicInfo;
  }

  async readRaw(variable: string, window?: Window, signal?: AbortSignal): Promise<RawArray> {
    this.assertOpen();
    const a = this.variable(variable);
    return this.readSelection(a, this.select(a, window), new Limiter(this.options.concurrency), signal);
  }

  /**
   * Streams each variable in pieces aligned to its chunk grid (see planPieces), in order, with up to
   * `readAhead` pieces read ahead of the consumer. Everything is validated before the first read; a
   * window selecting nothing yields no chunk; an aborted signal, or a consumer that stops, stops the
   * reads in flight.
   */
  async *read(req: ReadRequest): AsyncGenerator<Chunk> {
    this.assertOpen();
    const planned = req.variables.map((name) => {
      const a = this.variable(name);
      return { a, selection: this.select(a, req.window) };
    });
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) onAbort();
    const limiter = new Limiter(this.options.concurrency);
    type Settled = { ok: true; raw: RawArray; part: Selection } | { ok: false; error: unknown };
    try {
      for (const { a, selection } of planned) {
        const parts = planPieces(selection, a.chunks, a.itemBytes, this.options.maxChunkBytes);
        const inflight: Array<Promise<Settled>> = [];
        const launch = (): boolean => {
          const next = parts.next();
          if (next.done) return false;
          const part = next.value;
          // Settled into a value at once, so a piece nobody awaits (the consumer stopped) never rejects unhandled.
          inflight.push(
            this.readSelection(a, part, limiter, stop.signal).then(
              (raw): Settled => ({ ok: true, raw, part }),
              (error: unknown): Settled => ({ ok: false, error }),
            ),
          );
          return true;
        };
        while (inflight.length < this.options.readAhead && launch());
        while (inflight.length > 0) {
          throwIfAborted(req.signal);
          this.assertOpen();
          const result = await inflight.shift()!;
          throwIfAborted(req.signal);
          if (!result.ok) throw result.error;
          launch();
          const window: Window = {};
          a.dims.forEach((dim, i) => {
            window[dim] = [result.part.start[i]!, result.part.start[i]! + result.part.count[i]!];
          });
          yield { variable: a.name, window, ...result.raw };
        }
      }
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  /** Nothing is held open between reads: chunk files are read whole, one call each. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.path}: reader is closed`);
  }

  private variable(name: string): ZarrArrayMeta {
    const a = this.byName.get(name);
    if (!a) throw new ReaderRequestError(`unknown variable "${name}" in ${this.path}`);
    const where = `${this.path}: array "${a.name}"`;
    if (a.dtype === undefined) {
      throw new UnsupportedFilterError(
        `${where} has ${a.unsupported ?? `dtype ${a.zarrDtype}`}, which this reader cannot decode`,
        this.path,
        a.name,
        a.zarrDtype,
      );
    }
    if (a.order !== 'C') {
      throw new UnsupportedFilterError(
        `${where} is stored in order "${a.order}" (Fortran); only order "C" is supported`,
        this.path,
        a.name,
        `order ${a.order}`,
      );
    }
    const codec = unsupportedCodec(a.compressor, a.filters);
    if (codec) throw new UnsupportedFilterError(`${where}: ${codec}`, this.path, a.name, a.compressor?.id ?? 'filters');
    return a;
  }

  private select(a: ZarrArrayMeta, window: Window | undefined): Selection {
    checkWindow(
      this.path,
      window,
      (d) => this.dimLengths.get(d),
      () => [...this.dimLengths.keys()],
    );
    const start: number[] = [];
    const count: number[] = [];
    a.dims.forEach((dim, i) => {
      const range = window?.[dim];
      start.push(range ? range[0] : 0);
      count.push(range ? range[1] - range[0] : a.shape[i]!);
    });
    return { start, count };
  }

  /** The chunk file of one grid index; its key for messages. */
  private chunkFile(a: ZarrArrayMeta, index: number[]): { file: string; key: string } {
    const keyIndex = a.keyRank === 0 ? [0] : index.slice(0, a.keyRank);
    const key = keyIndex.join(a.separator);
    // Keys are built from integers only, so the path stays inside the array's folder.
    return { file: path.join(this.path, a.key, ...key.split('/')), key };
  }

  /** One storage chunk's decoded bytes (stored byte order), or undefined when the chunk file does not exist. */
  protected async loadChunk(
    a: ZarrArrayMeta,
    index: number[],
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array | undefined> {
    const { file, key } = this.chunkFile(a, index);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file, signal ? { signal } : {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    throwIfAborted(signal);
    const expected = product(a.chunks) * a.itemBytes;
    const storedItem = a.keyRank < a.chunks.length ? a.chunks.at(-1)! : a.itemBytes;
    try {
      const decoded = unfilter(a.filters, await decompress(a.compressor, bytes), storedItem, a.bigEndian);
      if (decoded.length !== expected) throw new CodecError(`decodes to ${decoded.length} bytes, expected ${expected}`);
      return decoded;
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      throw new CorruptFileError(this.path, `array "${a.name}", chunk ${key}: ${err.message}`);
    }
  }

  private async readSelection(
    a: ZarrArrayMeta,
    sel: Selection,
    limiter: Limiter,
    signal: AbortSignal | undefined,
  ): Promise<RawArray> {
    throwIfAborted(signal);
    const { start, count } = sel;
    const rank = count.length;
    const item = a.itemBytes;
    const out = new Uint8Array(product(count) * item);
    if (out.length > 0) {
      const lo = start.map((s, i) => Math.floor(s / a.chunks[i]!));
      const hi = start.map((s, i) => Math.floor((s + count[i]! - 1) / a.chunks[i]!));
      const tasks: Array<Promise<void>> = [];
      const index = [...lo];
      for (;;) {
        const at = [...index];
        tasks.push(
          limiter.run(async () => {
            throwIfAborted(signal);
            const chunk = await this.loadChunk(a, at, signal);
            this.copyChunk(a, at, chunk, sel, out);
          }),
        );
        let d = rank - 1;
        while (d >= 0 && ++index[d]! > hi[d]!) index[d--] = lo[d + 1]!;
        if (d < 0) break;
      }
      // Every task settles before this returns, so none writes into `out` afterwards or rejects unhandled.
      const results = await Promise.allSettled(tasks);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return { dtype: a.dtype!, shape: [...count], data: toTyped(a, out) };
  }

  /** Copies the part of one chunk inside `sel` into `out` (row-major over `sel`), or the fill value for a missing chunk. */
  private copyChunk(
    a: ZarrArrayMeta,
    index: number[],
    chunk: Uint8Array | undefined,
    sel: Selection,
    out: Uint8Array,
  ): void {
    const rank = sel.count.length;
    const item = a.itemBytes;
    if (rank === 0) {
      if (chunk) out.set(chunk.subarray(0, item));
      else if (a.fillBytes) out.set(a.fillBytes);
      return;
    }
    // Intersection in absolute indices, then per-dim offsets inside the chunk and the output.
    const from: number[] = [];
    const span: number[] = [];
    for (let i = 0; i < rank; i++) {
      const c0 = index[i]! * a.chunks[i]!;
      const f = Math.max(sel.start[i]!, c0);
      const t = Math.min(sel.start[i]! + sel.count[i]!, c0 + a.chunks[i]!);
      from.push(f);
      span.push(t - f);
    }
    const chunkStrides = new Array<number>(rank);
    const outStrides = new Array<number>(rank);
    let cs = item;
    let os = item;
    for (let i = rank - 1; i >= 0; i--) {
      chunkStrides[i] = cs;
      outStrides[i] = os;
      cs *= a.chunks[i]!;
      os *= sel.count[i]!;
    }
    const runBytes = span[rank - 1]! * item;
    let fillRun: Uint8Array | undefined;
    if (!chunk && a.fillBytes) {
      fillRun = new Uint8Array(runBytes);
      for (let k = 0; k < runBytes; k += item) fillRun.set(a.fillBytes, k);
    }
    if (!chunk && !fillRun) return; // fill is all zero bytes: `out` starts zeroed
    const pos = new Array<number>(rank - 1).fill(0);
    for (;;) {
      let src = 0;
      let dst = 0;
      for (let i = 0; i < rank; i++) {
        const p = i < rank - 1 ? pos[i]! : 0;
        src += (from[i]! - index[i]! * a.chunks[i]! + p) * chunkStrides[i]!;
        dst += (from[i]! - sel.start[i]! + p) * outStrides[i]!;
      }
      if (chunk) out.set(chunk.subarray(src, src + runBytes), dst);
      else out.set(fillRun!, dst);
      let d = rank - 2;
      while (d >= 0 && ++pos[d]! === span[d]) pos[d--] = 0;
      if (d < 0) return;
    }
  }
}

/** Stored bytes → typed array in host order; the buffer is ours, so it is swapped in place. */
function toTyped(a: ZarrArrayMeta, bytes: Uint8Array): NumericArray {
  const { buffer, byteOffset, byteLength } = bytes;
  if (a.itemBytes > 1 && a.bigEndian !== HOST_IS_BIG_ENDIAN && byteLength > 0) {
    const view = Buffer.from(buffer, byteOffset, byteLength);
    if (a.itemBytes === 2) view.swap16();
    else if (a.itemBytes === 4) view.swap32();
    else view.swap64();
  }
  if (a.dtype === undefined || a.dtype === 'string')
    throw new Error(`${a.name}: no typed array for dtype ${String(a.dtype)}`);
  return typedArrayView(a.dtype, buffer, byteOffset, byteLength);
}

/**
 * Opens a Zarr v2 directory store: reads and validates its metadata only. A missing store rejects with
 * the file system's ENOENT error, as a missing file does for the other readers.
 */
export async function openZarr(storePath: string, options?: ZarrReaderOptions): Promise<ZarrReader> {
  const absolute = path.resolve(storePath);
  if (!(await stat(absolute)).isDirectory())
    throw new CorruptFileError(absolute, 'not a directory (a Zarr v2 store is a folder)');
  return new ZarrReader(absolute, await readZarrMetadata(absolute), options);
}
