/**
 * A coverage as NetCDF-3 (CDF-1, or CDF-2 when large), streamed through our writer: the source's
 * dimension and variable names, coordinate variables, each field's stored values with their
 * attributes (packed fields stay packed with scale_factor/add_offset, so the output is exact and
 * small), the grid mapping of projected grids, CF/ACDD global attributes and a history line.
 *
 * NetCDF-3 has no unsigned or 64-bit integers: u1/u2/u4 are written as i1/i2/i4 with
 * `_Unsigned = "true"` (the bits unchanged, as netCDF-C and xarray read them); 64-bit integers
 * become doubles. Cells outside the plan's mask (EDR area, radius, corridor) hold the field's
 * _FillValue (the netCDF default fill, declared, when the source has none).
 */
import { cdlHeader } from '../netcdf3/cdl.js';
import { attrString } from '../../cf/read.js';
import { isoString } from '../../cf/time.js';
import { maskTest, type AxisSelection } from '../../core/grid/plan.js';
import { projectedExtent } from '../../core/grid/summary.js';
import type { GridAxis, GridField } from '../../core/grid/types.js';
import type { AttrTypes, AttrValue, Attrs, DType, NumericArray } from '../../readers/types.js';
import { VERSION } from '../../version.js';
import {
  ncLayout,
  writeNetcdf3,
  type NcAttrs,
  type NcAttrValue,
  type NcChunk,
  type NcFileDef,
  type NcVarDef,
  type NcWriteType,
} from '../netcdf3/writer.js';
import type { GridPayload } from './payload.js';

const NC_TYPE: Record<DType, NcWriteType | undefined> = {
  i1: 'i1',
  u1: 'i1',
  i2: 'i2',
  u2: 'i2',
  i4: 'i4',
  u4: 'i4',
  f4: 'f4',
  f8: 'f8',
  i8: 'f8',
  u8: 'f8',
  char: undefined,
  string: undefined,
};
const UNSIGNED = new Set<DType>(['u1', 'u2', 'u4']);
/** netCDF-C's default fill values, as written (unsigned types in their signed type's bits). */
const DEFAULT_FILL: Record<NcWriteType, number> = {
  i1: -127,
  i2: -32767,
  i4: -2147483647,
  f4: 9.969209968386869e36,
  f8: 9.969209968386869e36,
  char: 0,
};
const DEFAULT_UNSIGNED_FILL: Partial<Record<NcWriteType, number>> = { i1: -1, i2: -1, i4: -1 };
const INT_RANGE: Partial<Record<NcWriteType, [number, number]>> = {
  i1: [-128, 127],
  i2: [-32768, 32767],
  i4: [-2147483648, 2147483647],
};
const SPAN: Partial<Record<NcWriteType, number>> = { i1: 256, i2: 65536, i4: 4294967296 };
/** Attributes CF wants in the variable's own type. */
const TYPED = new Set([
  '_FillValue',
  'missing_value',
  'valid_min',
  'valid_max',
  'valid_range',
  'actual_range',
  'flag_values',
  'flag_masks',
]);
/** Storage and library internals that mean nothing in a NetCDF-3 file, and references rewritten here. */
const DROPPED = new Set([
  'DIMENSION_LIST',
  'REFERENCE_LIST',
  'CLASS',
  'NAME',
  '_Netcdf4Dimid',
  '_Netcdf4Coordinates',
  '_nc3_strict',
  '_ChunkSizes',
  '_Unsigned',
  'coordinates',
  'bounds',
  'ancillary_variables',
  'chunksizes',
]);
const GLOBAL_KEPT = [
  'institution',
  'source',
  'references',
  'license',
  'project',
  'program',
  'platform',
  'instrument',
  'creator_name',
  'creator_url',
  'creator_email',
  'publisher_name',
  'publisher_url',
  'acknowledgement',
  'acknowledgment',
  'naming_authority',
  'id',
  'product_version',
  'keywords',
  'comment',
];
const COORD_KEPT = ['units', 'standard_name', 'long_name', 'axis', 'calendar', 'positive', 'comment'];
const NAME_OK = /^[A-Za-z0-9_\u0080-\u{10FFFF}][^\x00-\x1F\x7F/]*$/u;

/** A name NetCDF-3 accepts: invalid characters become '_'. */
function ncName(name: string): string {
  const cleaned = name.replace(/[\x00-\x1F\x7F/]/g, '_').replace(/\s+$/, '');
  return NAME_OK.test(cleaned) ? cleaned : `_${cleaned}`;
}

function numbers(value: AttrValue): number[] | undefined {
  if (typeof value === 'number') return [value];
  if (typeof value === 'bigint') return [Number(value)];
  if (Array.isArray(value)) return (value as Array<number | bigint>).map(Number);
  return undefined;
}

/** Limits that CF reads in physical units when stored in a type other than the packed one (CF §8.1). */
const LIMITS = new Set(['valid_min', 'valid_max', 'valid_range']);

/**
 * One attribute value for a variable of type `type` (undefined: leave it out). `ownType` is the
 * attribute's own type in the source, when known: a floating valid_* on integer data keeps it, or
 * readers would take its physical limits for packed ones.
 */
function attrValue(
  name: string,
  value: AttrValue,
  type: NcWriteType | undefined,
  unsigned: boolean,
  ownType?: DType,
): NcAttrValue | undefined {
  if (typeof value === 'string') return value;
  const list = numbers(value);
  if (!list || list.length === 0) return undefined;
  if (!type || !TYPED.has(name)) return list.length === 1 ? list[0]! : list;
  if (LIMITS.has(name) && (ownType === 'f4' || ownType === 'f8') && INT_RANGE[type])
    return { type: ownType, value: list };
  const range = INT_RANGE[type];
  if (!range) return type === 'char' ? undefined : { type, value: list };
  // Unsigned values are stored in the signed type's bits: 255 as an i1 is -1.
  const stored = unsigned ? list.map((v) => (v > range[1] ? v - SPAN[type]! : v)) : list;
  if (stored.every((v) => Number.isInteger(v) && v >= range[0] && v <= range[1])) return { type, value: stored };
  // A limit in physical units on packed integers: keep it, as a double.
  return name === '_FillValue' ? undefined : { type: 'f8', value: list };
}

function carriedAttrs(
  attrs: Attrs,
  type: NcWriteType | undefined,
  unsigned: boolean,
  keep?: readonly string[],
  attrTypes?: AttrTypes,
): NcAttrs {
  const out: NcAttrs = {};
  for (const [name, value] of Object.entries(attrs)) {
    if (keep ? !keep.includes(name) : DROPPED.has(name)) continue;
    if (!NAME_OK.test(name) || name.endsWith(' ')) continue;
    if (name.startsWith('_') && name !== '_FillValue') continue;
    const v = attrValue(name, value, type, unsigned, attrTypes?.[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function timeCoordinate(
  payload: GridPayload,
  sel: AxisSelection,
): { type: NcWriteType; attrs: NcAttrs; values: Float64Array } {
  const raw = payload.plan.model.rawTime;
  const attrs = carriedAttrs(sel.axis.attrs, undefined, false, COORD_KEPT);
  if (raw) {
    const values = Float64Array.from(sel.picks, (p) => raw.values[p]!);
    return {
      type: 'f8',
      attrs: { ...attrs, units: raw.units, ...(raw.calendar ? { calendar: raw.calendar } : {}) },
      values,
    };
  }
  // Files with different time units: one unit for all.
  return {
    type: 'f8',
    attrs: { ...attrs, units: 'seconds since 1970-01-01 00:00:00', calendar: 'proleptic_gregorian' },
    values: Float64Array.from(sel.values, (ms) => ms / 1000),
  };
}

function coordinateVar(payload: GridPayload, sel: AxisSelection): { def: NcVarDef; values: Float64Array } | undefined {
  const a: GridAxis = sel.axis;
  if (!a.variable) return undefined;
  const name = ncName(a.variable);
  if (a.role === 't') {
    const t = timeCoordinate(payload, sel);
    return {
      def: { name, type: t.type, dims: [ncName(a.dim)], attrs: { ...t.attrs, standard_name: 'time', axis: 'T' } },
      values: t.values,
    };
  }
  const type: NcWriteType = a.dtype === 'f4' ? 'f4' : 'f8';
  return {
    def: { name, type, dims: [ncName(a.dim)], attrs: carriedAttrs(a.attrs, undefined, false, COORD_KEPT) },
    values: sel.values,
  };
}

function minMax(values: Float64Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Longitude/latitude extent of the output, for the ACDD geospatial_* attributes. */
function geospatial(payload: GridPayload): NcAttrs {
  const { plan } = payload;
  const x = plan.axes.find((s) => s.axis.role === 'x')!;
  const y = plan.axes.find((s) => s.axis.role === 'y')!;
  let lon: [number, number];
  let lat: [number, number];
  if (plan.model.crs.kind === 'geographic') {
    lon = minMax(x.values);
    lat = minMax(y.values);
  } else if (plan.model.crs.projection) {
    // The outline of the output's cell centres, with any pole inside it.
    const [x0, x1] = minMax(x.values);
    const [y0, y1] = minMax(y.values);
    const [w, s, e, n] = projectedExtent([x0, y0, x1, y1], plan.model.crs.projection);
    lon = [w, e];
    lat = [s, n];
  } else {
    return {};
  }
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    geospatial_lon_min: r(lon[0]),
    geospatial_lon_max: r(lon[1]),
    geospatial_lon_units: 'degrees_east',
    geospatial_lat_min: r(lat[0]),
    geospatial_lat_max: r(lat[1]),
    geospatial_lat_units: 'degrees_north',
  };
}

function globalAttributes(payload: GridPayload): NcAttrs {
  const { plan } = payload;
  const out: NcAttrs = {
    Conventions: 'CF-1.8, ACDD-1.3',
    title: payload.title,
    summary: payload.description,
  };
  for (const k of GLOBAL_KEPT) {
    const v = attrString(plan.model.attrs, k);
    if (v) out[k] = v;
  }
  Object.assign(out, geospatial(payload));
  const t = plan.axes.find((s) => s.axis.role === 't');
  if (t && t.values.length > 0) {
    out['time_coverage_start'] = isoString(Math.min(t.values[0]!, t.values[t.values.length - 1]!));
    out['time_coverage_end'] = isoString(Math.max(t.values[0]!, t.values[t.values.length - 1]!));
  }
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  out['date_created'] = now;
  const previous = attrString(plan.model.attrs, 'history');
  const line = `${now} odas ${VERSION}: subset of collection '${payload.collectionId}' (${plan.model.files.length === 1 ? plan.model.files[0]!.rel : `${plan.model.files.length} files`}) for ${payload.request}`;
  out['history'] = previous ? `${previous}\n${line}` : line;
  return out;
}

function fieldVar(payload: GridPayload, f: GridField, written: Set<string>): NcVarDef {
  const type = NC_TYPE[f.dtype];
  if (!type) throw new Error(`field ${f.name}: ${f.dtype} values cannot be written to NetCDF`);
  const unsigned =
    UNSIGNED.has(f.dtype) || (attrString(f.attrs, '_Unsigned') === 'true' && type !== 'f4' && type !== 'f8');
  const attrs = carriedAttrs(f.attrs, type, unsigned, undefined, f.attrTypes);
  if (unsigned) {
    attrs['_Unsigned'] = 'true';
    // Readers convert only _FillValue to the unsigned type: a missing_value repeating it would read as a second, different fill.
    if (f.attrs['missing_value'] !== undefined && String(f.attrs['missing_value']) === String(f.attrs['_FillValue']))
      delete attrs['missing_value'];
  }
  const listed = (attrString(f.attrs, 'coordinates') ?? '').split(/\s+/).filter((n) => written.has(ncName(n)));
  if (listed.length > 0) attrs['coordinates'] = listed.map(ncName).join(' ');
  const gm = payload.plan.model.crs.gridMapping;
  delete attrs['grid_mapping'];
  if (gm && written.has(ncName(gm.variable))) attrs['grid_mapping'] = ncName(gm.variable);
  if (payload.plan.mask && attrs['_FillValue'] === undefined) {
    attrs['_FillValue'] = { type, value: [(unsigned ? DEFAULT_UNSIGNED_FILL[type] : undefined) ?? DEFAULT_FILL[type]] };
  }
  return { name: ncName(f.name), type, dims: f.dims.map(ncName), attrs };
}

/** The stored value unselected cells are written with (the variable's _FillValue, as written). */
function fillOf(v: NcVarDef): number {
  const fill = v.attrs?.['_FillValue'];
  if (typeof fill === 'number') return fill;
  if (fill && typeof fill === 'object' && 'type' in fill) return Number((fill.value as ArrayLike<number>)[0]);
  return DEFAULT_FILL[v.type];
}

/** Stored values as the writer takes them: unsigned bits reinterpreted as signed, 64-bit integers as doubles. */
function asWritable(dtype: DType, data: NumericArray): NcChunk {
  switch (dtype) {
    case 'u1':
      return data as Uint8Array; // the writer stores a Uint8Array's bytes as they are
    case 'u2':
      return new Int16Array(data.buffer, data.byteOffset, data.length);
    case 'u4':
      return new Int32Array(data.buffer, data.byteOffset, data.length);
    case 'i8':
    case 'u8':
      return Float64Array.from(data as BigInt64Array, (v) => Number(v));
    default:
      return data as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
  }
}

async function* fieldChunks(payload: GridPayload, f: GridField, v: NcVarDef): AsyncGenerator<NcChunk> {
  const selected = maskTest(payload.plan);
  const fill = selected ? fillOf(v) : 0;
  let k = 0;
  for await (const block of payload.read(payload.plan, f)) {
    const chunk = asWritable(f.dtype, block.data);
    if (!selected) {
      yield chunk;
      continue;
    }
    // A copy: the block may be a reader's own buffer.
    const out = (chunk as Float64Array).slice();
    for (let i = 0; i < out.length; i++) if (!selected(k + i)) out[i] = fill;
    k += out.length;
    yield out as NcChunk;
  }
}

interface NetcdfPlan {
  def: NcFileDef;
  coordinates: Map<string, Float64Array>;
  fields: Map<string, { field: GridField; def: NcVarDef }>;
}

function planFile(payload: GridPayload): NetcdfPlan {
  const { plan } = payload;
  const dims = plan.axes.map((s) => ({ name: ncName(s.axis.dim), size: s.picks.length }));
  const variables: NcVarDef[] = [];
  const coordinates = new Map<string, Float64Array>();
  for (const sel of plan.axes) {
    const c = coordinateVar(payload, sel);
    if (!c || coordinates.has(c.def.name)) continue;
    variables.push(c.def);
    coordinates.set(c.def.name, c.values);
  }
  const gm = plan.model.crs.gridMapping;
  if (gm && plan.model.crs.kind === 'projected') {
    const attrs = carriedAttrs(gm.attrs, undefined, false);
    if (plan.model.crs.wkt && !attrs['crs_wkt']) attrs['crs_wkt'] = plan.model.crs.wkt;
    variables.push({ name: ncName(gm.variable), type: 'i4', dims: [], attrs });
  }
  const written = new Set(variables.map((v) => v.name));
  const fields = new Map<string, { field: GridField; def: NcVarDef }>();
  for (const f of plan.fields) {
    const v = fieldVar(payload, f, written);
    variables.push(v);
    fields.set(v.name, { field: f, def: v });
  }
  return { def: { format: 'auto', dims, variables, attrs: globalAttributes(payload) }, coordinates, fields };
}

/** `ncdump -h` of the file encodeNetcdf writes for this payload (ERDDAP's griddap .ncHeader); nothing is read. */
export function netcdfHeader(payload: GridPayload, name: string): Promise<string> {
  return cdlHeader(planFile(payload).def, name);
}

/** The coverage as a NetCDF-3 byte stream; fields are read block by block as the writer reaches them. */
export function encodeNetcdf(payload: GridPayload): { size: number; body: AsyncGenerator<Uint8Array> } {
  const { def, coordinates, fields } = planFile(payload);
  const size = ncLayout(def).totalSize;
  const body = writeNetcdf3(def, (name) => {
    const c = coordinates.get(name);
    if (c) return [c];
    const f = fields.get(name);
    return f ? fieldChunks(payload, f.field, f.def) : undefined;
  });
  return { size, body };
}
