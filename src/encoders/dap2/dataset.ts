/**
 * A grid collection as a DAP2 dataset: each axis with a coordinate variable is a top-level array,
 * each field a Grid whose maps are those arrays (a plain array when an axis has no coordinate
 * variable, as THREDDS does). Values are the stored ones, with the attributes that decode them
 * (scale_factor, add_offset, _FillValue), so netCDF-C hands clients exactly what the files hold.
 */
import type { GridAxis, GridField, GridModel } from '../../core/grid/types.js';
import type { AttrValue, Attrs, DType } from '../../readers/types.js';

/** DAP2's numeric types (no 8-bit signed, no 64-bit integers). */
export type DapType = 'Byte' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Float32' | 'Float64';

/** The DAP2 type a stored type travels as: signed bytes as Byte (with _Unsigned = "false"), 64-bit integers as doubles. */
export const DAP_TYPE: Record<DType, DapType | undefined> = {
  i1: 'Byte',
  u1: 'Byte',
  i2: 'Int16',
  u2: 'UInt16',
  i4: 'Int32',
  u4: 'UInt32',
  f4: 'Float32',
  f8: 'Float64',
  i8: 'Float64',
  u8: 'Float64',
  char: undefined,
  string: undefined,
};

export interface DapAttr {
  name: string;
  type: DapType | 'String';
  values: Array<number | string>;
}

export interface DapCoordinate {
  kind: 'coordinate';
  name: string;
  /** Position of the axis in the model. */
  axis: number;
  type: DapType;
  /** Every value, as served (raw time with its units, degrees, …). */
  values: Float64Array;
  attrs: DapAttr[];
}

export interface DapField {
  kind: 'field';
  name: string;
  field: GridField;
  type: DapType;
  /** Maps, one per axis, when every axis has a coordinate variable: then a Grid, else an Array. */
  maps?: DapCoordinate[];
  attrs: DapAttr[];
}

export type DapVariable = DapCoordinate | DapField;

export interface DapDataset {
  name: string;
  model: GridModel;
  variables: DapVariable[];
  globals: DapAttr[];
}

/** Storage details and references that mean nothing to a DAP client (DAP2 and DAP4). */
export const DROPPED = new Set([
  'DIMENSION_LIST',
  'REFERENCE_LIST',
  'CLASS',
  'NAME',
  '_Netcdf4Dimid',
  '_Netcdf4Coordinates',
  '_nc3_strict',
  '_ChunkSizes',
  'chunksizes',
  '_NCProperties',
  '_SuperblockVersion',
  '_IsNetcdf4',
]);
/** Attributes CF wants in the variable's own type. */
export const TYPED = new Set([
  '_FillValue',
  'missing_value',
  'valid_min',
  'valid_max',
  'valid_range',
  'actual_range',
  'flag_values',
  'flag_masks',
]);
/** A coordinate's values are served decoded: its packing attributes would decode them twice. */
const COORD_DROPPED = new Set([
  'scale_factor',
  'add_offset',
  '_FillValue',
  'missing_value',
  'valid_min',
  'valid_max',
  'valid_range',
  '_Unsigned',
]);

const INT_RANGE: Partial<Record<DapType, [number, number]>> = {
  Byte: [0, 255],
  Int16: [-32768, 32767],
  UInt16: [0, 65535],
  Int32: [-2147483648, 2147483647],
  UInt32: [0, 4294967295],
};

function numbers(value: AttrValue): number[] | undefined {
  if (typeof value === 'number') return [value];
  if (typeof value === 'bigint') return [Number(value)];
  if (Array.isArray(value)) return (value as Array<number | bigint>).map(Number);
  return undefined;
}

/** The type of an untyped number list: the narrowest that holds it (readers keep values, not attribute types). */
function numberType(list: number[]): DapType {
  if (list.every((v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) return 'Int32';
  if (list.every((v) => !Number.isFinite(v) || Math.fround(v) === v)) return 'Float32';
  return 'Float64';
}

function dapAttr(
  name: string,
  value: AttrValue,
  varType: DapType | undefined,
  signedByte: boolean,
): DapAttr | undefined {
  if (typeof value === 'string') return { name, type: 'String', values: [value] };
  const list = numbers(value);
  if (!list || list.length === 0) return undefined;
  if (varType && TYPED.has(name)) {
    const range = INT_RANGE[varType];
    // Signed bytes travel as their unsigned bits (-1 → 255), as their values do.
    const stored = signedByte ? list.map((v) => (v < 0 ? v + 256 : v)) : list;
    if (!range || stored.every((v) => Number.isInteger(v) && v >= range[0] && v <= range[1]))
      return { name, type: varType, values: stored };
    if (name === '_FillValue') return undefined;
    return { name, type: 'Float64', values: list };
  }
  const type = numberType(list);
  // Packing attributes are floating point whatever their value (an add_offset of 0 as Int32 would change the unpacked type).
  if (type === 'Int32' && (name === 'scale_factor' || name === 'add_offset'))
    return { name, type: list.every((v) => Math.fround(v) === v) ? 'Float32' : 'Float64', values: list };
  return { name, type, values: list };
}

export function dapAttrs(
  attrs: Attrs,
  varType: DapType | undefined,
  signedByte: boolean,
  dropped: Set<string>,
): DapAttr[] {
  const out: DapAttr[] = [];
  for (const [name, value] of Object.entries(attrs)) {
    if (DROPPED.has(name) || dropped.has(name)) continue;
    const a = dapAttr(name, value, varType, signedByte);
    if (a) out.push(a);
  }
  return out;
}

/** Served values of an axis: time as stored (with its units) or in seconds since 1970 when files differ; others as decoded. */
function coordinateOf(model: GridModel, axis: GridAxis, index: number): DapCoordinate | undefined {
  if (!axis.variable) return undefined;
  const attrs = dapAttrs(axis.attrs, undefined, false, COORD_DROPPED);
  if (axis.role === 't') {
    const raw = model.rawTime;
    const units = raw ? raw.units : 'seconds since 1970-01-01 00:00:00';
    const values = raw ? raw.values : Float64Array.from(axis.values, (ms) => ms / 1000);
    const kept = attrs.filter((a) => a.name !== 'units' && a.name !== 'calendar');
    kept.push({ name: 'units', type: 'String', values: [units] });
    if (raw?.calendar) kept.push({ name: 'calendar', type: 'String', values: [raw.calendar] });
    return { kind: 'coordinate', name: axis.variable, axis: index, type: 'Float64', values, attrs: kept };
  }
  return {
    kind: 'coordinate',
    name: axis.variable,
    axis: index,
    type: axis.dtype === 'f4' ? 'Float32' : 'Float64',
    values: axis.values,
    attrs,
  };
}

/** The DAP2 view of a grid; fields of a type DAP2 cannot carry (text) are left out. */
export function dapDataset(name: string, model: GridModel, globals: Attrs): DapDataset {
  const coords = model.axes.map((a, i) => coordinateOf(model, a, i));
  const variables: DapVariable[] = coords.filter((c): c is DapCoordinate => c !== undefined);
  const gridded = coords.every((c) => c !== undefined);
  for (const field of model.fields) {
    const type = DAP_TYPE[field.dtype];
    if (!type) continue;
    const signedByte = field.dtype === 'i1';
    const attrs = dapAttrs(field.attrs, type, signedByte, new Set(type === 'Byte' ? ['_Unsigned'] : []));
    // netCDF-C reads a DAP2 Byte as a signed byte: _Unsigned says which the file held (netCDF4-python and xarray honour it).
    const declared = typeof field.attrs['_Unsigned'] === 'string' ? field.attrs['_Unsigned'] : undefined;
    if (type === 'Byte')
      attrs.push({ name: '_Unsigned', type: 'String', values: [declared ?? (signedByte ? 'false' : 'true')] });
    variables.push({
      kind: 'field',
      name: field.name,
      field,
      type,
      attrs,
      ...(gridded ? { maps: coords as DapCoordinate[] } : {}),
    });
  }
  return { name, model, variables, globals: dapAttrs(globals, undefined, false, new Set()) };
}

/** A DAP2 identifier: characters outside the grammar's word set are %-escaped. */
export function dapName(name: string): string {
  return name.replace(
    /[^A-Za-z0-9_!~*'\-"./+]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

export function dimsOf(model: GridModel, v: DapVariable): string[] {
  return v.kind === 'coordinate' ? [model.axes[v.axis]!.dim] : v.field.dims;
}
