/**
 * NetCDF classic (CDF-1, CDF-2, CDF-5) reader over a ByteSource. Data offsets are computed from the
 * header, so a read touches only the bytes of the requested window: contiguous runs of the layout
 * are read with one request each, and runs separated by small gaps (e.g. one value per record) are
 * merged into one request to save round trips.
 */
import { endianness } from 'node:os';
import type {
  ByteSource,
  Chunk,
  DatasetInfo,
  DType,
  NumericArray,
  RawArray,
  ReadRequest,
  Reader,
  VariableInfo,
  Window,
} from '../types.js';
import { CorruptFileError, ReaderRequestError } from '../types.js';
import { checkWindow } from '../window.js';
import type { Nc3Header, Nc3Variable } from './header.js';
import { readNetcdf3Header } from './header.js';

export interface Netcdf3ReaderOptions {
  /** Upper bound of one streamed chunk's values, in bytes (default 4 MiB). */
  maxChunkBytes?: number;
  /** Runs closer than this are fetched with one request, the bytes between them discarded (default 16 KiB). */
  maxGapBytes?: number;
  /** Upper bound of one request to the source, in bytes (default 4 MiB). */
  maxRequestBytes?: number;
}

const DEFAULTS: Required<Netcdf3ReaderOptions> = {
  maxChunkBytes: 4 * 1024 * 1024,
  maxGapBytes: 16 * 1024,
  maxRequestBytes: 4 * 1024 * 1024,
};

const HOST_IS_BIG_ENDIAN = endianness() === 'BE';

/** Start and count per dimension of one variable, in the variable's dimension order. */
interface Selection {
  start: number[];
  count: number[];
}

/** One contiguous stretch of file bytes that lands contiguously in the output. */
interface Run {
  fileOffset: number;
  bytes: number;
}

function abortIfNeeded(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

export class Netcdf3Reader implements Reader {
  private readonly byName: Map<string, Nc3Variable>;
  private readonly dimLengths: Map<string, number>;
  private readonly options: Required<Netcdf3ReaderOptions>;
  private cachedInfo: DatasetInfo | undefined;

  constructor(
    private readonly source: ByteSource,
    readonly path: string,
    readonly header: Nc3Header,
    private readonly fileSize: number,
    options: Netcdf3ReaderOptions = {},
  ) {
    this.byName = new Map(header.variables.map((v) => [v.name, v]));
    this.dimLengths = new Map(header.dimensions.map((d) => [d.name, d.length]));
    this.options = { ...DEFAULTS, ...options };
  }

  async info(): Promise<DatasetInfo> {
    if (!this.cachedInfo) {
      const variables: VariableInfo[] = this.header.variables.map((v) => ({
        name: v.name,
        dtype: v.dtype,
        dims: [...v.dims],
        shape: [...v.shape],
        attrs: v.attrs,
        attrTypes: v.attrTypes,
      }));
      const info: DatasetInfo = {
        format: 'netcdf3',
        dims: Object.fromEntries(this.dimLengths),
        variables,
        attrs: this.header.attrs,
      };
      if (this.header.recordDimension !== undefined) info.unlimited = this.header.recordDimension;
      this.cachedInfo = info;
    }
    return this.cachedInfo;
  }

  async readRaw(variable: string, window?: Window, signal?: AbortSignal): Promise<RawArray> {
    const v = this.variable(variable);
    const selection = this.select(v, window);
    return this.readSelection(v, selection, signal);
  }

  /**
   * Streams each variable in chunks of at most `maxChunkBytes`, split along the outermost dimension
   * that allows it (records, for record variables). A window selecting nothing yields no chunk.
   * Every variable and the window are validated before the first chunk is read.
   */
  async *read(req: ReadRequest): AsyncGenerator<Chunk> {
    const planned = req.variables.map((name) => {
      const v = this.variable(name);
      return { v, selection: this.select(v, req.window) };
    });
    for (const { v, selection } of planned) {
      for (const part of this.chunkSelections(v, selection)) {
        abortIfNeeded(req.signal);
        const raw = await this.readSelection(v, part, req.signal);
        const window: Window = {};
        v.dims.forEach((dim, i) => {
          window[dim] = [part.start[i]!, part.start[i]! + part.count[i]!];
        });
        yield { variable: v.name, window, ...raw };
      }
    }
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  private variable(name: string): Nc3Variable {
    const v = this.byName.get(name);
    if (!v) throw new ReaderRequestError(`unknown variable "${name}" in ${this.path}`);
    return v;
  }

  /** Validates a window against the file's dimensions and resolves it for one variable. */
  private select(v: Nc3Variable, window: Window | undefined): Selection {
    checkWindow(
      this.path,
      window,
      (d) => this.dimLengths.get(d),
      () => [...this.dimLengths.keys()],
    );
    const start: number[] = [];
    const count: number[] = [];
    v.dims.forEach((dim, i) => {
      const range = window?.[dim];
      start.push(range ? range[0] : 0);
      count.push(range ? range[1] - range[0] : v.shape[i]!);
    });
    return { start, count };
  }

  /** Byte distance between consecutive indices of each dimension. */
  private strides(v: Nc3Variable): number[] {
    const rank = v.dims.length;
    const strides = new Array<number>(rank);
    let stride = v.elementBytes;
    for (let i = rank - 1; i >= 0; i--) {
      strides[i] = i === 0 && v.isRecord ? this.header.recordBytes : stride;
      stride *= v.shape[i]!;
    }
    return strides;
  }

  /** The contiguous runs of a selection, in output (row-major) order, which is also increasing file order. */
  private *runs(v: Nc3Variable, { start, count }: Selection): Generator<Run> {
    const rank = v.dims.length;
    if (rank === 0) {
      yield { fileOffset: v.begin, bytes: v.elementBytes };
      return;
    }
    if (count.some((c) => c === 0)) return;
    const strides = this.strides(v);
    // `outerDims` leading dimensions are walked index by index; everything inside them is one run.
    // A run spans several indices of a dimension only if they are back to back in the file, which
    // fails for the record dimension when there are several record variables.
    let outerDims: number;
    let runBytes: number;
    if (strides[rank - 1] !== v.elementBytes) {
      outerDims = rank;
      runBytes = v.elementBytes;
    } else {
      let runDim = rank - 1;
      while (
        runDim > 0 &&
        count[runDim] === v.shape[runDim] &&
        strides[runDim - 1] === v.shape[runDim]! * strides[runDim]!
      ) {
        runDim--;
      }
      outerDims = runDim;
      runBytes = count[runDim]! * strides[runDim]!;
    }
    let base = v.begin;
    for (let i = 0; i < rank; i++) base += start[i]! * strides[i]!;
    if (outerDims === 0) {
      yield { fileOffset: base, bytes: runBytes };
      return;
    }
    const index = new Array<number>(outerDims).fill(0);
    for (;;) {
      let offset = base;
      for (let i = 0; i < outerDims; i++) offset += index[i]! * strides[i]!;
      yield { fileOffset: offset, bytes: runBytes };
      let d = outerDims - 1;
      while (d >= 0 && ++index[d]! === count[d]) index[d--] = 0;
      if (d < 0) return;
    }
  }

  private async readSelection(
    v: Nc3Variable,
    selection: Selection,
    signal: AbortSignal | undefined,
  ): Promise<RawArray> {
    const shape = [...selection.count];
    const totalBytes = product(shape) * v.elementBytes;
    let out: Uint8Array | undefined;
    let written = 0;
    const { maxGapBytes, maxRequestBytes } = this.options;

    let spanStart = 0;
    let spanEnd = 0;
    let spanRuns: Run[] = [];
    const flush = async (): Promise<void> => {
      if (spanRuns.length === 0) return;
      const bytes = await this.fetch(v, spanStart, spanEnd - spanStart, signal);
      // Always copied: a source may hand out cached buffers, and decoding swaps bytes in place.
      out ??= new Uint8Array(totalBytes);
      for (const run of spanRuns) {
        const from = run.fileOffset - spanStart;
        out.set(bytes.subarray(from, from + run.bytes), written);
        written += run.bytes;
      }
      spanRuns = [];
    };

    for (const run of this.runs(v, selection)) {
      const runEnd = run.fileOffset + run.bytes;
      const joins =
        spanRuns.length > 0 && run.fileOffset - spanEnd <= maxGapBytes && runEnd - spanStart <= maxRequestBytes;
      if (!joins) {
        await flush();
        abortIfNeeded(signal);
        spanStart = run.fileOffset;
      }
      if (run.bytes > maxRequestBytes) {
        // A run bigger than one request is fetched in pieces straight into place.
        out ??= new Uint8Array(totalBytes);
        for (let done = 0; done < run.bytes; done += maxRequestBytes) {
          const piece = Math.min(maxRequestBytes, run.bytes - done);
          out.set(await this.fetch(v, run.fileOffset + done, piece, signal), written);
          written += piece;
        }
        continue;
      }
      spanRuns.push(run);
      spanEnd = runEnd;
    }
    await flush();
    const bytes = out ?? new Uint8Array(totalBytes);
    return { dtype: v.dtype, shape, data: toNative(v.dtype, bytes) };
  }

  /** Exactly `length` bytes at `offset`, or a CorruptFileError naming what is missing. */
  private async fetch(
    v: Nc3Variable,
    offset: number,
    length: number,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    const missing = (available: number): CorruptFileError =>
      new CorruptFileError(
        this.path,
        `variable ${v.name} needs bytes ${offset}..${offset + length} but the file ends at byte ${available} (truncated file?)`,
      );
    if (offset + length > this.fileSize) throw missing(this.fileSize);
    const bytes = await this.source.read(offset, length, signal);
    if (bytes.length < length) throw missing(offset + bytes.length);
    return bytes;
  }

  /** Splits a selection into pieces of at most maxChunkBytes, along the outermost dimension possible. */
  private *chunkSelections(v: Nc3Variable, selection: Selection): Generator<Selection> {
    const { start, count } = selection;
    const rank = count.length;
    if (count.some((c) => c === 0)) return;
    if (rank === 0) {
      yield selection;
      return;
    }
    // splitDim: outermost dimension whose single index (with everything inside it) fits a chunk.
    let splitDim = 0;
    let sliceBytes = product(count.slice(1)) * v.elementBytes;
    while (sliceBytes > this.options.maxChunkBytes && splitDim < rank - 1) {
      splitDim++;
      sliceBytes /= count[splitDim]!;
    }
    const step = Math.max(1, Math.floor(this.options.maxChunkBytes / sliceBytes));
    const outer = new Array<number>(splitDim).fill(0);
    for (;;) {
      for (let offset = 0; offset < count[splitDim]!; offset += step) {
        const partStart = [...start];
        const partCount = [...count];
        for (let i = 0; i < splitDim; i++) {
          partStart[i] = start[i]! + outer[i]!;
          partCount[i] = 1;
        }
        partStart[splitDim] = start[splitDim]! + offset;
        partCount[splitDim] = Math.min(step, count[splitDim]! - offset);
        yield { start: partStart, count: partCount };
      }
      let d = splitDim - 1;
      while (d >= 0 && ++outer[d]! === count[d]) outer[d--] = 0;
      if (d < 0) return;
    }
  }
}

/** Big-endian file bytes → native typed array, swapping in place (the buffer is ours). */
function toNative(dtype: DType, bytes: Uint8Array): NumericArray {
  const { buffer, byteOffset, byteLength } = bytes;
  const swap = (width: 2 | 4 | 8): void => {
    if (HOST_IS_BIG_ENDIAN || byteLength === 0) return;
    const view = Buffer.from(buffer, byteOffset, byteLength);
    if (width === 2) view.swap16();
    else if (width === 4) view.swap32();
    else view.swap64();
  };
  switch (dtype) {
    case 'i1':
      return new Int8Array(buffer, byteOffset, byteLength);
    case 'u1':
    case 'char':
      return bytes;
    case 'i2':
      swap(2);
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'u2':
      swap(2);
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'i4':
      swap(4);
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'u4':
      swap(4);
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'f4':
      swap(4);
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'f8':
      swap(8);
      return new Float64Array(buffer, byteOffset, byteLength / 8);
    case 'i8':
      swap(8);
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'u8':
      swap(8);
      return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    case 'string':
      throw new Error('NetCDF classic files have no string type');
  }
}

/** Opens a NetCDF classic file: reads and validates its header only. The reader owns `source` and closes it. */
export async function openNetcdf3(
  source: ByteSource,
  path: string,
  options?: Netcdf3ReaderOptions,
): Promise<Netcdf3Reader> {
  const header = await readNetcdf3Header(source, path);
  return new Netcdf3Reader(source, path, header, await source.size(), options);
}
