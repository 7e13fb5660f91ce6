/**
 * Streaming NetCDF-3 writer: CDF-1 (classic) and CDF-2 (64-bit offset).
 *
 * Every offset in a classic file follows from the declared dimensions and variables, so the
 * header is written first and each variable's values follow in file order, converted to
 * big-endian in bounded buffers. Memory is O(buffer + the caller's chunks), whatever the file size.
 *
 * Format reference: NetCDF "File Format Specifications", classic format (netcdf-c
 * docs/file_format_specifications.md), with netCDF-C's `NC_begins` for the record-size rule.
 */
import { Buffer } from 'node:buffer';
import type { DType, NumericArray } from '../../readers/types.js';

/** Storage types the classic formats can hold (CDF-5's unsigned and 64-bit types are excluded). */
export type NcWriteType = Extract<DType, 'i1' | 'char' | 'i2' | 'i4' | 'f4' | 'f8'>;
type NcFormat = 'cdf1' | 'cdf2';

/** An attribute whose NetCDF type is stated rather than inferred. */
interface NcTypedAttr {
  type: NcWriteType;
  /** A string only for `char`; numbers are range-checked against `type`. */
  value: number | ArrayLike<number> | string;
}

/**
 * Attribute values. Strings are stored as CHAR (UTF-8). Untyped numbers take the variable's
 * type when the attribute name is one CF requires to match it (`_FillValue`, `missing_value`,
 * `valid_min`, `valid_max`, `valid_range`, `actual_range`, `flag_values`, `flag_masks`),
 * otherwise they are stored as `f8` (JavaScript numbers are doubles): pass an {@link NcTypedAttr}
 * for an integer or float attribute.
 */
export type NcAttrValue = string | number | ArrayLike<number> | NcTypedAttr;
export type NcAttrs = Record<string, NcAttrValue>;

export interface NcDimDef {
  name: string;
  /** Length; for the unlimited dimension, the number of records written. */
  size: number;
  unlimited?: boolean;
}

export interface NcVarDef {
  name: string;
  type: NcWriteType;
  /** Dimension names, slowest-varying first; the unlimited dimension may only come first. */
  dims: string[];
  attrs?: NcAttrs;
}

export interface NcFileDef {
  /** `auto` (the default) picks CDF-1 when every offset fits in it, CDF-2 otherwise. */
  format?: NcFormat | 'auto';
  dims: NcDimDef[];
  attrs?: NcAttrs;
  variables: NcVarDef[];
}

/**
 * One chunk of a variable's values, in row-major order, continuing where the previous chunk
 * stopped (chunks may be any size and need not align with rows or records).
 * - numeric variables: any `ArrayLike<number>` (typed array or number[]). NaN becomes the
 *   variable's `_FillValue` when one is declared (an error for integer types without one);
 *   so do `null`/`undefined` in plain arrays (JSON-style missing values), which typed-array
 *   conversion would otherwise turn into 0.
 *   Integer types truncate toward zero and reject values outside the type's range.
 *   For `i1`, a `Uint8Array` is taken as raw bytes (200 is stored as -56).
 * - `char` variables: `string[]` gives one string per row of the last dimension, UTF-8 encoded
 *   and NUL-padded to its length (longer strings are an error; the chunk must start on a row
 *   boundary); a `Uint8Array` continues the byte stream as is.
 */
export type NcChunk = ArrayLike<number> | string[];

/**
 * A variable's values. Iterables are pulled lazily; for record variables the writer pulls one
 * record's worth from each record variable in turn (records interleave in the file), so the
 * iterables of different variables must be consumable independently.
 */
export type NcValues = Iterable<NcChunk> | AsyncIterable<NcChunk>;

/** Returns the values of the named variable, or `undefined` to write it entirely with its fill value. */
export type NcDataSource = (variable: string) => NcValues | undefined;

interface NcVarLayout {
  name: string;
  type: NcWriteType;
  dims: string[];
  /** Full shape, the record dimension counted with its number of records. */
  shape: number[];
  record: boolean;
  /** Number of values the data source must supply. */
  elements: number;
  /** Bytes per variable (fixed) or per record (record variables), padded to 4 as the header states it. */
  bytes: number;
  /** Byte offset of the first value (of the first record for record variables). */
  begin: number;
}

export interface NcLayout {
  format: NcFormat;
  /** Bytes before the first variable's data. */
  headerSize: number;
  numrecs: number;
  /** Byte offset of the record section (= end of the fixed-size variables). */
  recordsBegin: number;
  /** Stride between records, in bytes. */
  recordSize: number;
  /** Exact length of the file {@link writeNetcdf3} produces. */
  totalSize: number;
  variables: NcVarLayout[];
}

export interface NcWriteOptions {
  /** Size of the chunks yielded (except the last), in bytes; default 1 MiB. */
  chunkSize?: number;
}

// ---------------------------------------------------------------------------------------------
// Types and limits

interface TypeInfo {
  code: number;
  size: number;
  min: number;
  max: number;
  /** The format's default fill value, used for padding and missing data when no _FillValue is set. */
  defaultFill: number;
}

const NC_FILL_FLOAT = 9.969209968386869e36;

const TYPES: Record<NcWriteType, TypeInfo> = {
  i1: { code: 1, size: 1, min: -128, max: 127, defaultFill: -127 },
  char: { code: 2, size: 1, min: 0, max: 255, defaultFill: 0 },
  i2: { code: 3, size: 2, min: -32768, max: 32767, defaultFill: -32767 },
  i4: { code: 4, size: 4, min: -2147483648, max: 2147483647, defaultFill: -2147483647 },
  f4: { code: 5, size: 4, min: -Infinity, max: Infinity, defaultFill: NC_FILL_FLOAT },
  f8: { code: 6, size: 8, min: -Infinity, max: Infinity, defaultFill: NC_FILL_FLOAT },
};

const TAG_DIMENSION = 0x0a;
const TAG_VARIABLE = 0x0b;
const TAG_ATTRIBUTE = 0x0c;

/** NON_NEG fields (dimension lengths, numrecs, counts) are signed 32-bit in CDF-1/2. */
const MAX_NON_NEG = 0x7fffffff;
/** OFFSET in CDF-1 is a non-negative signed 32-bit integer. */
const MAX_CDF1_OFFSET = 0x7fffffff;
/** netCDF-C's per-variable limits (NC_check_vlens): X_INT_MAX - 3 for CDF-1, X_UINT_MAX - 3 for CDF-2. */
const MAX_VAR_BYTES: Record<NcFormat, number> = { cdf1: 0x7fffffff - 3, cdf2: 0xffffffff - 3 };
/** The vsize field cannot hold sizes above 2^32 - 4; the spec stores 2^32 - 1 instead. */
const VSIZE_OVERFLOW = 0xffffffff;

/** CF attributes that must have the variable's own type. */
const VAR_TYPED_ATTRS = new Set([
  '_FillValue',
  'missing_value',
  'valid_min',
  'valid_max',
  'valid_range',
  'actual_range',
  'flag_values',
  'flag_masks',
]);

const DEFAULT_CHUNK = 1 << 20;
const SCRATCH_BYTES = 1 << 20;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Planning: validation, attribute encoding, offsets

interface EncodedAttr {
  key: string;
  name: Uint8Array;
  code: number;
  nelems: number;
  /** Big-endian values, unpadded. */
  bytes: Uint8Array;
}

interface PlannedVar {
  name: string;
  nameBytes: Uint8Array;
  type: NcWriteType;
  info: TypeInfo;
  dims: string[];
  dimIds: number[];
  shape: number[];
  record: boolean;
  /** Values per record (record variables) or in total (fixed variables). */
  slabElements: number;
  elements: number;
  /** Unpadded bytes of one slab. */
  slabBytes: number;
  /** Slab bytes padded to 4: what the header's vsize states. */
  paddedBytes: number;
  begin: number;
  attrs: EncodedAttr[];
  /** Value substituted for NaN (the declared _FillValue), if any. */
  nanFill: number | undefined;
  /** One value of the fill (declared or default), big-endian: used for padding and missing data. */
  fillBytes: Uint8Array;
  /** Row length for string[] chunks of char variables. */
  rowLength: number;
}

interface Plan {
  layout: NcLayout;
  dims: { nameBytes: Uint8Array; size: number; unlimited: boolean }[];
  globalAttrs: EncodedAttr[];
  vars: PlannedVar[];
  /** True for netCDF-C's "exactly one record variable" case: record slabs are not padded. */
  packedRecords: boolean;
}

function fail(message: string): never {
  throw new Error(`NetCDF-3 writer: ${message}`);
}

const NAME_RE = /^[A-Za-z0-9_\u0080-\u{10FFFF}][^\x00-\x1F\x7F/]*$/u;

function encodeName(name: string, what: string): Uint8Array {
  const nfc = name.normalize('NFC');
  if (!NAME_RE.test(nfc) || nfc.endsWith(' ')) fail(`invalid ${what} name ${JSON.stringify(name)}`);
  return utf8.encode(nfc);
}

function isTypedAttr(v: NcAttrValue): v is NcTypedAttr {
  return typeof v === 'object' && v !== null && 'type' in v && 'value' in v && !ArrayBuffer.isView(v);
}

/** Big-endian bytes of `values` as `type`, rejecting values the type cannot hold. */
function encodeNumbers(values: ArrayLike<number>, type: NcWriteType, where: string): Uint8Array {
  const info = TYPES[type];
  const out = new Uint8Array(values.length * info.size);
  const view = new DataView(out.buffer);
  const integer = type !== 'f4' && type !== 'f8';
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (integer && (!Number.isInteger(x) || x < info.min || x > info.max)) {
      fail(`${where}: ${x} is not a valid ${type} value`);
    }
    const o = i * info.size;
    switch (type) {
      case 'i1':
        view.setInt8(o, x);
        break;
      case 'char':
        view.setUint8(o, x);
        break;
      case 'i2':
        view.setInt16(o, x);
        break;
      case 'i4':
        view.setInt32(o, x);
        break;
      case 'f4':
        view.setFloat32(o, x);
        break;
      case 'f8':
        view.setFloat64(o, x);
        break;
    }
  }
  return out;
}

function encodeAttr(name: string, value: NcAttrValue, varType: NcWriteType | undefined, where: string): EncodedAttr {
  const nameBytes = encodeName(name, `attribute (${where})`);
  const at = `attribute ${where}:${name}`;
  let type: NcWriteType;
  let raw: string | ArrayLike<number>;
  if (isTypedAttr(value)) {
    type = value.type;
    raw = typeof value.value === 'number' ? [value.value] : value.value;
    if (typeof raw === 'string' && type !== 'char') fail(`${at}: a string value needs type 'char', not '${type}'`);
  } else if (typeof value === 'string') {
    type = 'char';
    raw = value;
  } else {
    raw = typeof value === 'number' ? [value] : value;
    if (varType !== undefined && VAR_TYPED_ATTRS.has(name)) {
      if (varType === 'char') fail(`${at}: give a char variable's ${name} as a string`);
      type = varType;
    } else {
      type = 'f8';
    }
  }
  if (name === '_FillValue' && varType !== undefined) {
    if (type !== varType) fail(`${at}: _FillValue must have the variable's type ${varType}, not ${type}`);
    const n = typeof raw === 'string' ? utf8.encode(raw).length : raw.length;
    if (n !== 1) fail(`${at}: _FillValue must be a single value`);
  }
  const bytes = typeof raw === 'string' ? utf8.encode(raw) : encodeNumbers(raw, type, at);
  return { key: name, name: nameBytes, code: TYPES[type].code, nelems: bytes.length / TYPES[type].size, bytes };
}

function encodeAttrs(attrs: NcAttrs | undefined, varType: NcWriteType | undefined, where: string): EncodedAttr[] {
  if (!attrs) return [];
  return Object.entries(attrs).map(([k, v]) => encodeAttr(k, v, varType, where));
}

/** The declared fill as a number (for NaN substitution) and as one big-endian value (for padding). */
function fillOf(type: NcWriteType, attrs: EncodedAttr[]): { nanFill: number | undefined; fillBytes: Uint8Array } {
  const fill = attrs.find((a) => a.key === '_FillValue');
  const info = TYPES[type];
  if (!fill) return { nanFill: undefined, fillBytes: encodeNumbers([info.defaultFill], type, 'default fill') };
  const view = new DataView(fill.bytes.buffer, fill.bytes.byteOffset, fill.bytes.byteLength);
  const nanFill =
    type === 'f4'
      ? view.getFloat32(0)
      : type === 'f8'
        ? view.getFloat64(0)
        : type === 'i4'
          ? view.getInt32(0)
          : type === 'i2'
            ? view.getInt16(0)
            : type === 'i1'
              ? view.getInt8(0)
              : view.getUint8(0);
  return { nanFill, fillBytes: fill.bytes.slice(0, info.size) };
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_NON_NEG)
    fail(`${what} must be an integer in 0..${MAX_NON_NEG}, got ${n}`);
}

function planFile(def: NcFileDef): Plan {
  const dimIndex = new Map<string, number>();
  let unlimited: NcDimDef | undefined;
  const dims = def.dims.map((d, i) => {
    const nameBytes = encodeName(d.name, 'dimension');
    if (dimIndex.has(d.name)) fail(`dimension "${d.name}" declared twice`);
    checkCount(d.size, `dimension "${d.name}" size`);
    if (d.size === 0 && !d.unlimited) {
      // dim_length 0 is how the format marks the record dimension: a fixed empty dimension cannot be stored.
      fail(`dimension "${d.name}" has length 0, which NetCDF-3 reserves for the unlimited dimension`);
    }
    if (d.unlimited) {
      if (unlimited) fail(`only one unlimited dimension is allowed ("${unlimited.name}" and "${d.name}")`);
      unlimited = d;
    }
    dimIndex.set(d.name, i);
    return { nameBytes, size: d.size, unlimited: d.unlimited === true };
  });
  const numrecs = unlimited?.size ?? 0;
  const globalAttrs = encodeAttrs(def.attrs, undefined, 'global');

  const seen = new Set<string>();
  const vars: PlannedVar[] = def.variables.map((v) => {
    const nameBytes = encodeName(v.name, 'variable');
    if (seen.has(v.name)) fail(`variable "${v.name}" declared twice`);
    seen.add(v.name);
    const info = TYPES[v.type];
    if (!info) fail(`variable "${v.name}": unknown type ${String(v.type)}`);
    const dimIds = v.dims.map((name, k) => {
      const id = dimIndex.get(name);
      if (id === undefined) fail(`variable "${v.name}" uses undeclared dimension "${name}"`);
      if (dims[id]!.unlimited && k !== 0)
        fail(`variable "${v.name}": the unlimited dimension "${name}" must come first`);
      return id;
    });
    const shape = dimIds.map((id) => dims[id]!.size);
    const record = dimIds.length > 0 && dims[dimIds[0]!]!.unlimited;
    const slabElements = shape.slice(record ? 1 : 0).reduce((a, b) => a * b, 1);
    const slabBytes = slabElements * info.size;
    const attrs = encodeAttrs(v.attrs, v.type, v.name);
    const rowLength = v.dims.length === 0 ? 1 : shape[shape.length - 1]!;
    return {
      name: v.name,
      nameBytes,
      type: v.type,
      info,
      dims: [...v.dims],
      dimIds,
      shape,
      record,
      slabElements,
      elements: record ? slabElements * numrecs : slabElements,
      slabBytes,
      paddedBytes: Math.ceil(slabBytes / 4) * 4,
      begin: 0,
      attrs,
      rowLength,
      ...fillOf(v.type, attrs),
    };
  });

  const recVars = vars.filter((v) => v.record);
  const recordSum = recVars.reduce((a, v) => a + v.paddedBytes, 0);
  const lastRec = recVars[recVars.length - 1];
  // netCDF-C NC_begins: when the record holds exactly one (non-empty) variable, records are not padded.
  const packedRecords = lastRec !== undefined && recordSum === lastRec.paddedBytes;
  const recordSize = lastRec && packedRecords ? lastRec.slabBytes : recordSum;

  const requested = def.format ?? 'auto';
  const candidates: NcFormat[] = requested === 'auto' ? ['cdf1', 'cdf2'] : [requested];
  let lastError: Error | undefined;
  for (const format of candidates) {
    try {
      const layout = assignOffsets(format, dims, globalAttrs, vars, numrecs, recordSize);
      return { layout, dims, globalAttrs, vars, packedRecords };
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw lastError!;
}

function assignOffsets(
  format: NcFormat,
  dims: Plan['dims'],
  globalAttrs: EncodedAttr[],
  vars: PlannedVar[],
  numrecs: number,
  recordSize: number,
): NcLayout {
  checkVarSizes(format, vars);
  const headerSize = headerLength(format, dims, globalAttrs, vars);
  let offset = headerSize;
  for (const v of vars)
    if (!v.record) {
      v.begin = offset;
      offset += v.paddedBytes;
    }
  const recordsBegin = offset;
  for (const v of vars)
    if (v.record) {
      v.begin = offset;
      offset += v.paddedBytes;
    }
  if (format === 'cdf1') {
    for (const v of vars) {
      if (v.begin > MAX_CDF1_OFFSET) {
        fail(`variable "${v.name}" would start at byte ${v.begin}, beyond CDF-1's limit of 2^31-1; use format 'cdf2'`);
      }
    }
  }
  const totalSize = recordsBegin + numrecs * recordSize;
  if (!Number.isSafeInteger(totalSize)) fail(`file size ${totalSize} is not representable`);
  return {
    format,
    headerSize,
    numrecs,
    recordsBegin,
    recordSize,
    totalSize,
    variables: vars.map((v) => ({
      name: v.name,
      type: v.type,
      dims: [...v.dims],
      shape: [...v.shape],
      record: v.record,
      elements: v.elements,
      bytes: v.paddedBytes,
      begin: v.begin,
    })),
  };
}

/**
 * netCDF-C's NC_check_vlens: a variable may exceed the per-variable limit only if it is the last
 * fixed-size variable of a file without record variables, or the last record variable.
 */
function checkVarSizes(format: NcFormat, vars: PlannedVar[]): void {
  const max = MAX_VAR_BYTES[format];
  const hasRecords = vars.some((v) => v.record);
  for (const record of [false, true]) {
    const group = vars.filter((v) => v.record === record);
    group.forEach((v, i) => {
      if (v.slabBytes <= max) return;
      const exempt = i === group.length - 1 && (record || !hasRecords);
      if (!exempt) {
        const per = record ? ' per record' : '';
        fail(
          `variable "${v.name}" takes ${v.slabBytes} bytes${per}, over the ${format.toUpperCase()} limit of ${max} ` +
            `for any variable but the last${format === 'cdf1' ? "; use format 'cdf2'" : ''}`,
        );
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Header

class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, n);
    this.length += 4;
  }

  u64(n: number): void {
    this.u32(Math.floor(n / 0x100000000));
    this.u32(n % 0x100000000);
  }

  /** Bytes followed by NUL padding to a 4-byte boundary (header padding is always NUL). */
  padded(bytes: Uint8Array): void {
    const n = Math.ceil(bytes.length / 4) * 4;
    this.ensure(n);
    this.buf.set(bytes, this.length);
    this.buf.fill(0, this.length + bytes.length, this.length + n);
    this.length += n;
  }

  name(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.padded(bytes);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeAttrList(w: ByteWriter, attrs: EncodedAttr[]): void {
  if (attrs.length === 0) {
    w.u32(0);
    w.u32(0); // ABSENT
    return;
  }
  w.u32(TAG_ATTRIBUTE);
  w.u32(attrs.length);
  for (const a of attrs) {
    w.name(a.name);
    w.u32(a.code);
    w.u32(a.nelems);
    w.padded(a.bytes);
  }
}

function serializeHeader(
  format: NcFormat,
  dims: Plan['dims'],
  globalAttrs: EncodedAttr[],
  vars: PlannedVar[],
  numrecs: number,
): Uint8Array {
  const w = new ByteWriter();
  w.padded(new Uint8Array([0x43, 0x44, 0x46, format === 'cdf1' ? 1 : 2]));
  w.u32(numrecs);
  if (dims.length === 0) {
    w.u32(0);
    w.u32(0);
  } else {
    w.u32(TAG_DIMENSION);
    w.u32(dims.length);
    for (const d of dims) {
      w.name(d.nameBytes);
      w.u32(d.unlimited ? 0 : d.size);
    }
  }
  writeAttrList(w, globalAttrs);
  if (vars.length === 0) {
    w.u32(0);
    w.u32(0);
  } else {
    w.u32(TAG_VARIABLE);
    w.u32(vars.length);
    for (const v of vars) {
      w.name(v.nameBytes);
      w.u32(v.dimIds.length);
      for (const id of v.dimIds) w.u32(id);
      writeAttrList(w, v.attrs);
      w.u32(v.info.code);
      w.u32(v.paddedBytes > 0xfffffffc ? VSIZE_OVERFLOW : v.paddedBytes);
      if (format === 'cdf1') w.u32(v.begin);
      else w.u64(v.begin);
    }
  }
  return w.result();
}

function headerLength(format: NcFormat, dims: Plan['dims'], globalAttrs: EncodedAttr[], vars: PlannedVar[]): number {
  // Offsets do not change the header's length, only its content.
  return serializeHeader(format, dims, globalAttrs, vars, 0).length;
}

/** Where each variable goes and how big the file will be, before any data is read (Content-Length, 413 checks). */
export function ncLayout(def: NcFileDef): NcLayout {
  return planFile(def).layout;
}

/** The header bytes alone (the first {@link NcLayout.headerSize} bytes of the file). */
export function encodeNetcdf3Header(def: NcFileDef): Uint8Array {
  const plan = planFile(def);
  return serializeHeader(plan.layout.format, plan.dims, plan.globalAttrs, plan.vars, plan.layout.numrecs);
}

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
