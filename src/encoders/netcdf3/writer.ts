/**
 * Streaming NetCDF-3 writer: the header of the plan (./layout.ts) first, then each variable's
 * values in file order, converted to big-endian in bounded buffers. Memory is O(buffer + the
 * caller's chunks), whatever the file size.
 *
 * This module is the writer's public face: callers import the definition types and the layout
 * functions from here too.
 */
import { Buffer } from 'node:buffer';
import type { NumericArray } from '../../readers/types.js';
import type { NcChunk, NcDataSource, NcFileDef, NcValues, NcWriteOptions, NcWriteType } from './definition.js';
import { fail, planFile, serializeHeader, utf8, type Plan, type PlannedVar } from './layout.js';

const DEFAULT_CHUNK = 1 << 20;
const SCRATCH_BYTES = 1 << 20;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type {
  NcAttrs,
  NcAttrValue,
  NcChunk,
  NcDataSource,
  NcDimDef,
  NcFileDef,
  NcValues,
  NcVarDef,
  NcWriteOptions,
  NcWriteType,
} from './definition.js';
export { encodeNetcdf3Header, ncLayout } from './layout.js';

// ---------------------------------------------------------------------------------------------
// Data: pulling values, converting to big-endian, coalescing output

type NumericArrayLike = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

interface Piece {
  src: ArrayLike<number>;
  start: number;
  count: number;
  /** Index of the piece's first value within the variable, for error messages. */
  index: number;
}

/** Pulls a variable's values piece by piece from the caller's chunks, counting them. */
class ValueStream {
  private readonly it: Iterator<NcChunk> | AsyncIterator<NcChunk>;
  private cur: ArrayLike<number> = new Uint8Array(0);
  private pos = 0;
  private received = 0;
  private done = false;
  private finished = false;

  constructor(
    private readonly v: PlannedVar,
    values: NcValues,
  ) {
    this.it =
      Symbol.asyncIterator in values
        ? (values as AsyncIterable<NcChunk>)[Symbol.asyncIterator]()
        : (values as Iterable<NcChunk>)[Symbol.iterator]();
  }

  /** Up to `max` values (at least one), from the current chunk. */
  async take(max: number): Promise<Piece> {
    while (this.pos >= this.cur.length) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        fail(`variable "${this.v.name}" received ${this.received} values, expected ${this.v.elements}`);
      }
      this.cur = normalizeChunk(this.v, r.value, this.received);
      this.pos = 0;
      this.received += this.cur.length;
    }
    const count = Math.min(max, this.cur.length - this.pos);
    const piece = { src: this.cur, start: this.pos, count, index: this.received - this.cur.length + this.pos };
    this.pos += count;
    return piece;
  }

  /** Checks that nothing follows the expected values. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    let extra = this.cur.length - this.pos;
    while (extra === 0) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return;
      }
      extra = normalizeChunk(this.v, r.value, this.received).length;
    }
    fail(`variable "${this.v.name}" received more than the expected ${this.v.elements} values`);
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

function normalizeChunk(v: PlannedVar, chunk: NcChunk, position: number): ArrayLike<number> {
  if (Array.isArray(chunk) && chunk.length > 0 && typeof chunk[0] === 'string') {
    if (v.type !== 'char') fail(`variable "${v.name}" (${v.type}) received strings`);
    return stringRows(v, chunk as string[], position);
  }
  if (typeof chunk !== 'object' || chunk === null || typeof chunk.length !== 'number') {
    fail(
      `variable "${v.name}": each chunk must be an array of values, got ${typeof chunk} (give a whole array as [values])`,
    );
  }
  if (ArrayBuffer.isView(chunk) && (chunk instanceof BigInt64Array || chunk instanceof BigUint64Array)) {
    fail(`variable "${v.name}": 64-bit integers cannot be stored in NetCDF-3 classic formats`);
  }
  return chunk as ArrayLike<number>;
}

function stringRows(v: PlannedVar, rows: string[], position: number): Uint8Array {
  const len = v.rowLength;
  if (position % len !== 0)
    fail(`variable "${v.name}": a string[] chunk must start at a row boundary (value ${position})`);
  const out = new Uint8Array(rows.length * len); // NUL-padded
  rows.forEach((s, i) => {
    const bytes = utf8.encode(s);
    if (bytes.length > len) fail(`variable "${v.name}": string ${JSON.stringify(s)} is longer than ${len} bytes`);
    out.set(bytes, i * len);
  });
  return out;
}

/** The values of a variable the data source left out: its fill value throughout. */
function* fillChunks(v: PlannedVar): Generator<NcChunk> {
  const n = Math.min(v.elements, SCRATCH_BYTES / 8);
  let fill: ArrayLike<number>;
  if (v.type === 'char' || v.type === 'i1') {
    fill = new Uint8Array(n).fill(v.fillBytes[0]!);
  } else {
    const view = new DataView(v.fillBytes.buffer, v.fillBytes.byteOffset, v.fillBytes.byteLength);
    const value =
      v.type === 'f4'
        ? view.getFloat32(0)
        : v.type === 'f8'
          ? view.getFloat64(0)
          : v.type === 'i4'
            ? view.getInt32(0)
            : view.getInt16(0);
    fill = new Float64Array(n).fill(value);
  }
  for (let left = v.elements; left > 0; left -= n) {
    yield left >= n ? fill : (fill as Float64Array | Uint8Array).subarray(0, left);
  }
}

/** Reusable aligned scratch memory for converting one piece to big-endian. */
class Scratch {
  readonly buffer = new ArrayBuffer(SCRATCH_BYTES);
  readonly i8 = new Int8Array(this.buffer);
  readonly i16 = new Int16Array(this.buffer);
  readonly i32 = new Int32Array(this.buffer);
  readonly f32 = new Float32Array(this.buffer);
  readonly f64 = new Float64Array(this.buffer);
}

function sub(src: ArrayLike<number>, start: number, count: number): ArrayLike<number> {
  if (start === 0 && count === src.length) return src;
  if (ArrayBuffer.isView(src)) return (src as NumericArrayLike).subarray(start, start + count);
  return Array.prototype.slice.call(src, start, start + count) as number[];
}

/** Typed arrays whose every value fits the integer type, so no per-value check is needed. */
function fitsWithoutCheck(src: ArrayLike<number>, type: NcWriteType): boolean {
  if (src instanceof Int8Array) return true;
  if (src instanceof Uint8Array || src instanceof Int16Array) return type === 'i2' || type === 'i4';
  if (src instanceof Uint16Array || src instanceof Int32Array) return type === 'i4';
  return false;
}

function convertIntegers(v: PlannedVar, p: Piece, dst: Int8Array | Int16Array | Int32Array): void {
  const { src, start, count } = p;
  if (fitsWithoutCheck(src, v.type)) {
    dst.set(sub(src, start, count));
    return;
  }
  const { min, max } = v.info;
  const fill = v.nanFill;
  for (let i = 0; i < count; i++) {
    let x = missingAsNaN(src[start + i]);
    if (x !== x) {
      if (fill === undefined)
        fail(`variable "${v.name}" (${v.type}) value ${p.index + i} is NaN and no _FillValue is declared`);
      x = fill;
    } else if (x < min || x > max) {
      fail(`variable "${v.name}" (${v.type}) value ${p.index + i} = ${x} is outside the type's range`);
    }
    dst[i] = x;
  }
}

/** Plain arrays may carry null/undefined for missing values (typed arrays cannot). */
function missingAsNaN(x: number | null | undefined): number {
  return x ?? Number.NaN;
}

/** Converts to the float scratch view: typed arrays natively, plain arrays value by value so null is not 0. */
function convertFloats(p: Piece, dst: Float32Array | Float64Array): void {
  const { src, start, count } = p;
  if (ArrayBuffer.isView(src)) {
    dst.set(sub(src, start, count));
    return;
  }
  for (let i = 0; i < count; i++) dst[i] = missingAsNaN(src[start + i]);
}

function replaceNaN(dst: Float32Array | Float64Array, count: number, fill: number | undefined): void {
  if (fill === undefined) return;
  for (let i = 0; i < count; i++) {
    const x = dst[i]!;
    if (x !== x) dst[i] = fill;
  }
}

/** Big-endian bytes of one piece; the result is only valid until the next call (it may be scratch memory). */
function encodePiece(v: PlannedVar, p: Piece, s: Scratch): Uint8Array {
  const { src, start, count } = p;
  switch (v.type) {
    case 'char':
    case 'i1': {
      if (src instanceof Uint8Array || src instanceof Int8Array) {
        return new Uint8Array(src.buffer, src.byteOffset + start, count);
      }
      if (v.type === 'i1') {
        convertIntegers(v, p, s.i8);
      } else {
        const dst = new Uint8Array(s.buffer);
        for (let i = 0; i < count; i++) {
          const x = src[start + i]!;
          if (!(x >= 0 && x <= 255)) fail(`variable "${v.name}" (char) value ${p.index + i} = ${x} is not a byte`);
          dst[i] = x;
        }
      }
      return new Uint8Array(s.buffer, 0, count);
    }
    case 'i2':
      convertIntegers(v, p, s.i16);
      return bigEndian(s, count, 2);
    case 'i4':
      convertIntegers(v, p, s.i32);
      return bigEndian(s, count, 4);
    case 'f4':
      convertFloats(p, s.f32);
      replaceNaN(s.f32, count, v.nanFill);
      return bigEndian(s, count, 4);
    case 'f8':
      convertFloats(p, s.f64);
      replaceNaN(s.f64, count, v.nanFill);
      return bigEndian(s, count, 8);
  }
}

function bigEndian(s: Scratch, count: number, size: 2 | 4 | 8): Uint8Array {
  const bytes = Buffer.from(s.buffer, 0, count * size);
  if (LITTLE_ENDIAN_HOST) {
    if (size === 2) bytes.swap16();
    else if (size === 4) bytes.swap32();
    else bytes.swap64();
  }
  return bytes;
}

/** Collects bytes into fixed-size chunks; full chunks wait in `ready` for the generator to yield. */
class ChunkedOutput {
  readonly ready: Uint8Array[] = [];
  private buf: Uint8Array;
  private pos = 0;
  written = 0;

  constructor(private readonly size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(bytes.length - off, this.size - this.pos);
      this.buf.set(n === bytes.length ? bytes : bytes.subarray(off, off + n), this.pos);
      this.pos += n;
      off += n;
      if (this.pos === this.size) {
        this.ready.push(this.buf);
        // A fresh buffer each time: the consumer may still hold the previous one.
        this.buf = Buffer.allocUnsafeSlow(this.size);
        this.pos = 0;
      }
    }
    this.written += bytes.length;
  }

  end(): void {
    if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }
}

function padding(v: PlannedVar, bytes: number): Uint8Array {
  const n = Math.ceil(bytes / 4) * 4 - bytes;
  const out = new Uint8Array(n);
  // Data padding holds the variable's fill value (the spec); only 1-, 2- and 3-byte pads occur for i1/char/i2.
  for (let i = 0; i < n; i++) out[i] = v.fillBytes[i % v.fillBytes.length]!;
  return out;
}

interface Slab {
  v: PlannedVar;
  count: number;
  pad: boolean;
  /** Last slab of the variable: its stream must then be exhausted. */
  last: boolean;
}

function* slabs(plan: Plan): Generator<Slab> {
  for (const v of plan.vars) if (!v.record) yield { v, count: v.elements, pad: true, last: true };
  const recVars = plan.vars.filter((v) => v.record);
  const n = plan.layout.numrecs;
  for (let r = 0; r < n; r++) {
    for (const v of recVars) yield { v, count: v.slabElements, pad: !plan.packedRecords, last: r === n - 1 };
  }
}

/**
 * Writes a NetCDF-3 file as a stream of byte chunks: the header, then each variable's values in
 * file order. `data(name)` supplies each variable's values (see {@link NcChunk}); each must supply
 * exactly the variable's element count, or the stream fails with an Error naming the variable.
 * When the consumer stops early, every values iterator opened so far is closed (`return()`).
 */
export async function* writeNetcdf3(
  def: NcFileDef,
  data: NcDataSource,
  options: NcWriteOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const plan = planFile(def);
  const { layout } = plan;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunkSize) || chunkSize < 8) fail(`chunkSize must be an integer >= 8, got ${chunkSize}`);
  const out = new ChunkedOutput(chunkSize);
  const scratch = new Scratch();
  const streams = new Map<string, ValueStream>();
  const streamOf = (v: PlannedVar): ValueStream => {
    let s = streams.get(v.name);
    if (!s) {
      s = new ValueStream(v, data(v.name) ?? fillChunks(v));
      streams.set(v.name, s);
    }
    return s;
  };
  try {
    out.write(serializeHeader(layout.format, plan.dims, plan.globalAttrs, plan.vars, layout.numrecs));
    for (const slab of slabs(plan)) {
      const { v } = slab;
      const stream = streamOf(v);
      const perPiece = SCRATCH_BYTES / v.info.size;
      for (let left = slab.count; left > 0;) {
        const piece = await stream.take(Math.min(left, perPiece));
        out.write(encodePiece(v, piece, scratch));
        left -= piece.count;
        while (out.ready.length > 0) yield out.ready.shift()!;
      }
      if (slab.pad && v.slabBytes % 4 !== 0) out.write(padding(v, v.slabBytes));
      if (slab.last) await stream.finish();
    }
    // Variables that hold no values (a zero-length dimension, or no records) must still not receive any.
    for (const v of plan.vars) if (v.elements === 0) await streamOf(v).finish();
    out.end();
    if (out.written !== layout.totalSize)
      fail(`internal error: wrote ${out.written} bytes, layout says ${layout.totalSize}`);
    while (out.ready.length > 0) yield out.ready.shift()!;
  } finally {
    await Promise.allSettled([...streams.values()].map((s) => s.close()));
  }
}
