/**
 * A dataset as DAP4 sees it: shared dimensions, variables of DAP4's own atomic types (the stored
 * types themselves: Int8, UInt64, Char and String travel as they are, unlike in DAP2) with their
 * attributes, and global attributes. Each variable knows how to read its stored values over index
 * slabs, so grid collections (through the grid pipeline) and in-situ files (through their reader)
 * are encoded by the same DMR and chunked-data writers.
 */
import type { AttrValue, Attrs, DType, NumericArray } from '../../readers/types.js';
import { DROPPED, TYPED } from '../dap2/dataset.js';
import type { DapSlab } from '../dap2/response.js';

export type Dap4Type =
  | 'Int8'
  | 'UInt8'
  | 'Int16'
  | 'UInt16'
  | 'Int32'
  | 'UInt32'
  | 'Int64'
  | 'UInt64'
  | 'Float32'
  | 'Float64'
  | 'Char'
  | 'String';

export const DAP4_TYPE: Readonly<Record<DType, Dap4Type>> = {
  i1: 'Int8',
  u1: 'UInt8',
  i2: 'Int16',
  u2: 'UInt16',
  i4: 'Int32',
  u4: 'UInt32',
  i8: 'Int64',
  u8: 'UInt64',
  f4: 'Float32',
  f8: 'Float64',
  char: 'Char',
  string: 'String',
};

export interface Dap4Attr {
  name: string;
  type: Dap4Type;
  values: Array<number | bigint | string>;
}

interface Dap4Dim {
  name: string;
  size: number;
}

/** Stored values over slabs, row-major, in blocks; `string` variables give string arrays. */
type Dap4Values = AsyncIterable<NumericArray | string[]>;

export interface Dap4Variable {
  name: string;
  dtype: DType;
  /** Names of the dataset's dimensions, in order. */
  dims: string[];
  attrs: Dap4Attr[];
  /** Coordinate variables of this variable (DAP4 maps). */
  maps: string[];
  /**
   * Plans a read of these slabs (one per dimension, already checked against the sizes) and returns
   * its values: planning happens here, before any byte is sent, so a bad plan is still an error answer.
   */
  open(slabs: DapSlab[], signal: AbortSignal): Dap4Values;
}

export interface Dap4Dataset {
  name: string;
  dims: Dap4Dim[];
  variables: Dap4Variable[];
  globals: Dap4Attr[];
}

const INT_RANGE: Partial<Record<Dap4Type, [number, number]>> = {
  Int8: [-128, 127],
  UInt8: [0, 255],
  Int16: [-32768, 32767],
  UInt16: [0, 65535],
  Int32: [-2147483648, 2147483647],
  UInt32: [0, 4294967295],
};

function numbers(value: AttrValue): Array<number | bigint> | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return [value];
  if (Array.isArray(value)) return value;
  return undefined;
}

/** The type of an untyped number list: the narrowest that holds it (readers keep values, not attribute types). */
function numberType(list: Array<number | bigint>): Dap4Type {
  if (list.some((v) => typeof v === 'bigint')) return 'Int64';
  const n = list as number[];
  if (n.every((v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) return 'Int32';
  if (n.every((v) => !Number.isFinite(v) || Math.fround(v) === v)) return 'Float32';
  return 'Float64';
}

function fits(type: Dap4Type, list: Array<number | bigint>): boolean {
  if (type === 'Float32' || type === 'Float64') return list.every((v) => typeof v === 'number');
  if (type === 'Int64' || type === 'UInt64') return list.every((v) => Number.isInteger(Number(v)));
  const range = INT_RANGE[type];
  return range !== undefined && list.every((v) => Number.isInteger(Number(v)) && v >= range[0] && v <= range[1]);
}

function dap4Attr(name: string, value: AttrValue, varType: Dap4Type | undefined): Dap4Attr | undefined {
  if (typeof value === 'string') return { name, type: 'String', values: [value] };
  const list = numbers(value);
  if (!list || list.length === 0) return undefined;
  if (varType && varType !== 'Char' && varType !== 'String' && TYPED.has(name)) {
    // netCDF-4 wants _FillValue in the variable's own type; the others follow it when they fit.
    if (fits(varType, list)) return { name, type: varType, values: list };
    if (name === '_FillValue') return undefined;
    return { name, type: 'Float64', values: list.map(Number) };
  }
  const type = numberType(list);
  // Packing attributes are floating point whatever their value (an add_offset of 0 as Int32 would change the unpacked type).
  if (type === 'Int32' && (name === 'scale_factor' || name === 'add_offset'))
    return { name, type: list.every((v) => Math.fround(Number(v)) === v) ? 'Float32' : 'Float64', values: list };
  return { name, type, values: list };
}

/**
 * Whether netCDF-C reads this Float32 attribute value back unchanged. Its DAP4 parser (libdap4
 * d4meta.c, 4.9.0 and later) converts each value twice, the second time from a double whose low word
 * the first conversion overwrote with the float's bits: most values come back a few ulps off (1 reads
 * as 1.0000002, -1e34 as -1.00000004e34), which breaks _FillValue masking. Only the values this
 * arithmetic maps onto themselves survive; the others travel as Float64 (exact).
 */
function float32Survives(v: number): boolean {
  const d = new DataView(new ArrayBuffer(8));
  d.setFloat64(0, v, true);
  d.setFloat32(0, Math.fround(v), true);
  return Math.fround(d.getFloat64(0, true)) === Math.fround(v) || Number.isNaN(v);
}

/** The attribute as netCDF-C will read it back: Float32 values it would alter as Float64. */
export function readableFloats(a: Dap4Attr): Dap4Attr {
  return a.type === 'Float32' && !a.values.every((v) => float32Survives(Number(v))) ? { ...a, type: 'Float64' } : a;
}

/**
 * Attributes in DAP4 types; `varType` types the CF attributes that must match the variable. Float32
 * values netCDF-C would alter go as Float64; a Float32 _FillValue it would alter (it must keep the
 * variable's type) is given as missing_value in Float64 instead, which netCDF4-python and xarray
 * mask just the same.
 */
export function dap4Attrs(attrs: Attrs, varType?: Dap4Type, dropped: ReadonlySet<string> = new Set()): Dap4Attr[] {
  const out: Dap4Attr[] = [];
  for (const [name, value] of Object.entries(attrs)) {
    if (DROPPED.has(name) || dropped.has(name)) continue;
    const a = dap4Attr(name, value, varType);
    if (!a) continue;
    if (name !== '_FillValue' || a.type !== 'Float32' || a.values.every((v) => float32Survives(Number(v)))) {
      out.push(readableFloats(a));
      continue;
    }
    const missing = numbers(attrs['missing_value'] ?? []) ?? [];
    if (missing.length === 0) out.push({ name: 'missing_value', type: 'Float64', values: a.values });
    // A missing_value of the same value masks the same cells; a different one leaves the fill as it is.
    else if (!(missing.length === a.values.length && missing.every((m, i) => Number(m) === Number(a.values[i]))))
      out.push(a);
  }
  return out;
}

/** Bytes of one value in the data response (a string is its 8-byte count plus its bytes: 16 is an estimate). */
export function dap4ValueBytes(dtype: DType): number {
  switch (dtype) {
    case 'i1':
    case 'u1':
    case 'char':
      return 1;
    case 'i2':
    case 'u2':
      return 2;
    case 'i4':
    case 'u4':
    case 'f4':
      return 4;
    case 'string':
      return 24;
    default:
      return 8;
  }
}
