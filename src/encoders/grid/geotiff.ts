/**
 * A coverage as GeoTIFF, through the streaming writer (src/encoders/geotiff/writer.ts): one band
 * per field and per step of any axis besides y/x (time steps of a (t, y, x) field become bands),
 * north-up rows, the grid's EPSG code.
 *
 * Values are the field's physical values whenever the file stores anything else: packed fields
 * (scale_factor/add_offset), fields with fill values or a valid range, and floating-point fields
 * are written CF-decoded, as float32 (float64 when the storage is wider), NaN where missing
 * (nodata NaN). Clients that read raw samples — GDAL's OGC API driver reads every block of a
 * coverage without nodata or scale — then see the same numbers as a reader of the source file.
 * Integer fields with no missing values and no packing (imagery) keep their storage type.
 *
 * A GeoTIFF is a regular, north-up, single-type raster, so the coverage must be one: regular x/y
 * spacing (integer decimation keeps it), y and x as the fields' last two dimensions, and fields
 * of one storage type. Anything else is a 400 pointing to NetCDF, checked before any read.
 */
import { decodeNumeric } from '../../cf/decode.js';
import { attrNumber, attrString } from '../../cf/read.js';
import { isoString } from '../../cf/time.js';
import { InvalidParameterValue } from '../../core/errors.js';
import { epsgFromText } from '../../core/grid/crs.js';
import type { AxisSelection, GridPlan } from '../../core/grid/plan.js';
import type { GridField } from '../../core/grid/types.js';
import type { NumericArray } from '../../readers/types.js';
import {
  geoTiffSize,
  writeGeoTiff,
  type GeoTiffBandInfo,
  type GeoTiffDef,
  type GeoTiffDType,
  type RowBand,
} from '../geotiff/writer.js';
import type { GridPayload } from './payload.js';

const TIFF_TYPES = new Set(['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'f4', 'f8']);
/** Outputs up to this size are DEFLATE-compressed (spooled in memory); larger ones stream uncompressed. */
const DEFLATE_UP_TO = 64 * 1024 * 1024;

function fail(detail: string): never {
  throw new InvalidParameterValue('f', `cannot write this coverage as GeoTIFF: ${detail}; ask for f=netcdf instead`);
}

/** Output spacing of an axis, or a 400 when the decimation left it irregular. */
function spacing(sel: AxisSelection): number {
  const v = sel.values;
  const n = v.length;
  if (n === 1) return Math.abs(sel.axis.step ?? 1) * (sel.axis.direction || 1);
  const step = (v[n - 1]! - v[0]!) / (n - 1);
  for (let i = 1; i < n; i++) {
    if (Math.abs(v[i]! - v[i - 1]! - step) > Math.abs(step) * 1e-4)
      fail(
        `the ${sel.axis.label} spacing of this selection is irregular (a regular grid is needed; integer scale factors keep it)`,
      );
  }
  return step;
}

function epsgOf(plan: GridPlan): number {
  if (plan.model.crs.kind === 'geographic') return 4326;
  const code = epsgFromText(plan.model.crs.uri);
  if (code === undefined) fail(`its CRS (${plan.model.crs.label}) has no EPSG code`);
  return code;
}

/** Stored numbers that are not the field's values: packing, or numbers standing for "missing" (fill, valid range). */
const NOT_PHYSICAL = [
  'scale_factor',
  'add_offset',
  '_FillValue',
  'missing_value',
  'valid_min',
  'valid_max',
  'valid_range',
];

/** Whether a field's stored numbers differ from its values (floats are written decoded too: NaN for their fill). */
function storedIsNotPhysical(f: GridField): boolean {
  return f.dtype === 'f4' || f.dtype === 'f8' || NOT_PHYSICAL.some((k) => f.attrs[k] !== undefined);
}

/** The sample type of physical output: float32 unless a field's storage needs float64's precision. */
function physicalType(plan: GridPlan): GeoTiffDType | undefined {
  if (!plan.fields.some(storedIsNotPhysical)) return undefined;
  return plan.fields.some((f) => ['f8', 'i4', 'u4', 'i8', 'u8'].includes(f.dtype)) ? 'f8' : 'f4';
}

function checkShape(plan: GridPlan): { y: AxisSelection; x: AxisSelection; extra: AxisSelection[] } {
  const n = plan.axes.length;
  const y = plan.axes[n - 2];
  const x = plan.axes[n - 1];
  if (!y || !x || y.axis.role !== 'y' || x.axis.role !== 'x')
    fail(
      `its fields' last two dimensions are not (y, x) but (${plan.axes
        .slice(-2)
        .map((a) => a.axis.dim)
        .join(', ')})`,
    );
  if (physicalType(plan)) return { y, x, extra: plan.axes.slice(0, -2) };
  const dtypes = new Set(plan.fields.map((f) => f.dtype));
  if (dtypes.size > 1)
    fail(
      `its fields have different storage types (${[...dtypes].join(', ')}): choose fields of one type with properties=`,
    );
  const dtype = plan.fields[0]!.dtype;
  if (!TIFF_TYPES.has(dtype)) fail(`${dtype} values have no TIFF sample type`);
  return { y, x, extra: plan.axes.slice(0, -2) };
}

/** North-up: a south-up (ascending y) selection is flipped, which the reader handles by reading rows in reverse. */
function northUp(plan: GridPlan): GridPlan {
  const n = plan.axes.length;
  const y = plan.axes[n - 2];
  if (!y || y.axis.role !== 'y' || y.values.length < 2 || y.values[0]! > y.values[y.values.length - 1]!) return plan;
  const flipped: AxisSelection = { axis: y.axis, picks: y.picks.slice().reverse(), values: y.values.slice().reverse() };
  return { ...plan, axes: plan.axes.map((a, i) => (i === n - 2 ? flipped : a)) };
}

function extraLabel(extra: AxisSelection[], index: number): string {
  const parts: string[] = [];
  let rest = index;
  for (let d = extra.length - 1; d >= 0; d--) {
    const sel = extra[d]!;
    const k = rest % sel.values.length;
    rest = Math.floor(rest / sel.values.length);
    const v = sel.values[k]!;
    parts.unshift(`${sel.axis.label}=${sel.axis.role === 't' ? isoString(v) : v}`);
  }
  return parts.join(' ');
}

function bandInfo(f: GridField, label: string, physical: boolean): GeoTiffBandInfo {
  const info: GeoTiffBandInfo = { description: label ? `${f.name} ${label}` : f.name };
  const scale = attrNumber(f.attrs, 'scale_factor');
  const offset = attrNumber(f.attrs, 'add_offset');
  const units = attrString(f.attrs, 'units');
  if (scale !== undefined && !physical) info.scale = scale;
  if (offset !== undefined && !physical) info.offset = offset;
  if (units) info.units = units;
  const metadata: Record<string, string> = {};
  for (const k of ['standard_name', 'long_name', '_FillValue']) {
    const v = f.attrs[k];
    if (v !== undefined) metadata[k] = String(v);
  }
  if (Object.keys(metadata).length > 0) info.metadata = metadata;
  return info;
}

function definition(payload: GridPayload, plan: GridPlan): GeoTiffDef {
  const { y, x, extra } = checkShape(plan);
  const dx = spacing(x);
  const dy = spacing(y);
  const perField = extra.reduce((n, a) => n * a.values.length, 1);
  const physical = physicalType(plan);
  const fills = new Set(plan.fields.map((f) => attrNumber(f.attrs, '_FillValue')));
  const fill = physical ? NaN : fills.size === 1 ? [...fills][0] : undefined;
  const dtype = physical ?? (plan.fields[0]!.dtype as GeoTiffDType);
  const def: GeoTiffDef = {
    width: x.values.length,
    height: y.values.length,
    bands: plan.fields.length * perField,
    dtype,
    transform: [x.values[0]! - dx / 2, dx, 0, y.values[0]! - dy / 2, 0, dy],
    epsg: epsgOf(plan),
    geographic: plan.model.crs.kind === 'geographic',
    metadata: {
      title: payload.title,
      source: `odas collection ${payload.collectionId}`,
      history: `odas: ${payload.request}`,
    },
    bandInfo: plan.fields.flatMap((f) =>
      Array.from({ length: perField }, (_, e) =>
        bandInfo(f, extra.length > 0 ? extraLabel(extra, e) : '', physical !== undefined),
      ),
    ),
  };
  // GDAL has one nodata for all bands; stored fill values that fit the type only.
  if (fill !== undefined && (dtype.startsWith('f') || Number.isInteger(fill))) {
    const max = { u1: 255, i1: 127, u2: 65535, i2: 32767, u4: 4294967295, i4: 2147483647 }[dtype as 'u1'] ?? Infinity;
    const min = { u1: 0, i1: -128, u2: 0, i2: -32768, u4: 0, i4: -2147483648 }[dtype as 'u1'] ?? -Infinity;
    if (Number.isNaN(fill) || (fill >= min && fill <= max)) def.nodata = fill;
  }
  const raw =
    def.width * def.height * def.bands * ({ u1: 1, i1: 1, u2: 2, i2: 2, u4: 4, i4: 4, f4: 4, f8: 8 }[dtype] ?? 8);
  def.compression = raw <= DEFLATE_UP_TO ? 'deflate' : 'none';
  return def;
}

/** Blocks of output values (any length) cut into whole rows, band by band, as the writer takes them. */
async function* rowBands(
  payload: GridPayload,
  plan: GridPlan,
  width: number,
  height: number,
  perField: number,
  physical: boolean,
): AsyncGenerator<RowBand> {
  const bandCells = width * height;
  for (let k = 0; k < plan.fields.length; k++) {
    const f = plan.fields[k]!;
    let position = 0; // cells of this field already emitted
    let carry: NumericArray | undefined; // a partial row left from the previous block
    for await (const block of payload.read(plan, f)) {
      let data: NumericArray = physical
        ? decodeNumeric({ dtype: block.dtype, shape: [block.data.length], data: block.data }, f.attrs, {
            attrTypes: f.attrTypes,
          })
        : block.data;
      if (carry) {
        const joined = new (data.constructor as new (n: number) => NumericArray)(carry.length + data.length);
        (joined as Float64Array).set(carry as Float64Array);
        (joined as Float64Array).set(data as Float64Array, carry.length);
        data = joined;
        carry = undefined;
      }
      let offset = 0;
      while (data.length - offset >= width) {
        const band = Math.floor(position / bandCells);
        const row = Math.floor((position % bandCells) / width);
        const rows = Math.min(height - row, Math.floor((data.length - offset) / width));
        const piece = (data as Float64Array).subarray(offset, offset + rows * width);
        yield { band: k * perField + band, rows: [row, row + rows], data: piece };
        offset += rows * width;
        position += rows * width;
      }
      if (offset < data.length) carry = (data as Float64Array).slice(offset);
    }
  }
}

export interface GeoTiffOutput {
  /** Exact size when uncompressed; the uncompressed size (an upper bound) otherwise. */
  size: number;
  exact: boolean;
  body: AsyncGenerator<Uint8Array>;
}

/** Validate (400 before any read) and set up the GeoTIFF stream. */
export function encodeGeoTiff(payload: GridPayload): GeoTiffOutput {
  if (payload.plan.mask) fail('a selection by geometry (area, radius, corridor) is not a rectangle');
  const plan = northUp(payload.plan);
  const def = definition(payload, plan);
  const { extra } = checkShape(plan);
  const perField = extra.reduce((n, a) => n * a.values.length, 1);
  const size = geoTiffSize({ ...def, compression: 'none' })!;
  return {
    size,
    exact: def.compression === 'none',
    body: writeGeoTiff(def, rowBands(payload, plan, def.width, def.height, perField, physicalType(plan) !== undefined)),
  };
}
