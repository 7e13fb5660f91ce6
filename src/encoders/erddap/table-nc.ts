/**
 * tabledap's NetCDF answers, written with the shared NetCDF-3 writer:
 * - `.nc` as ERDDAP writes it (and argopy reads it): one dimension `row`, every column a variable
 *   along it, strings as char arrays with a `{name}_strlen` dimension;
 * - `.ncCF` a CF discrete sampling geometry in the contiguous ragged array representation
 *   (CF 1.7 §9.3.3): feature variables along `profile`/`trajectory`/`timeseries`, observations
 *   along `obs`, `rowSize` counting each feature's observations, featureType and cf_role set.
 * Times are `seconds since 1970-01-01T00:00:00Z`; missing numbers are NaN (floats) or the
 * declared _FillValue (ints); missing strings are empty.
 */
import { cdlHeader } from '../netcdf3/cdl.js';
import {
  writeNetcdf3,
  type NcAttrs,
  type NcDataSource,
  type NcFileDef,
  type NcVarDef,
  type NcWriteType,
} from '../netcdf3/writer.js';

type NcCell = number | string;

export interface NcTableColumn {
  name: string;
  type: 'String' | 'int' | 'float' | 'double';
  units?: string;
  attrs: Record<string, string | number>;
  /** Values are epoch milliseconds, written as epoch seconds. */
  time?: boolean;
  /** For .ncCF: one value per feature or one per observation. */
  scope: 'feature' | 'row';
}

export interface NcTable {
  columns: NcTableColumn[];
  rows: NcCell[][];
  /** The feature (profile, trajectory, station) id of each row. */
  features: string[];
  globals: Record<string, string>;
}

const INT_FILL = 2147483647;
const TYPE: Record<Exclude<NcTableColumn['type'], 'String'>, NcWriteType> = { int: 'i4', float: 'f4', double: 'f8' };

function varAttrs(c: NcTableColumn): NcAttrs {
  const a: NcAttrs = {};
  for (const [k, v] of Object.entries(c.attrs)) if (k !== 'units') a[k] = v;
  if (c.time) a['units'] = c.units ?? 'seconds since 1970-01-01T00:00:00Z';
  else if (c.units) a['units'] = c.units;
  if (c.type === 'int') a['_FillValue'] = INT_FILL;
  if (c.time) a['time_origin'] = '01-JAN-1970 00:00:00';
  return a;
}

function strlen(values: Iterable<NcCell>): number {
  let n = 1;
  for (const v of values) n = Math.max(n, Buffer.byteLength(String(v)));
  return n;
}

function numbers(c: NcTableColumn, values: NcCell[]): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const x = typeof v === 'number' ? v : Number(v);
    out[i] = c.time ? x / 1000 : c.type === 'int' && !Number.isFinite(x) ? INT_FILL : x;
  }
  return out;
}

/** A column's variable along `dim`, and its values. */
function column(c: NcTableColumn, name: string, dim: string, values: NcCell[], dims: NcFileDef['dims']) {
  if (c.type === 'String') {
    const len = `${name}_strlen`;
    dims.push({ name: len, size: strlen(values) });
    // _Encoding: xarray decodes the char arrays to text rather than bytes.
    const def: NcVarDef = { name, type: 'char', dims: [dim, len], attrs: { ...varAttrs(c), _Encoding: 'utf-8' } };
    return { def, data: [values.map(String)] };
  }
  const def: NcVarDef = { name, type: TYPE[c.type], dims: [dim], attrs: varAttrs(c) };
  return { def, data: [numbers(c, values)] };
}

/** A table's NetCDF file: its definition and where each variable's values come from. */
interface TableFile {
  def: NcFileDef;
  source: NcDataSource;
}

/** ERDDAP's flat `.nc`: every column along `row`. */
function flatTable(t: NcTable): TableFile {
  const dims: NcFileDef['dims'] = [{ name: 'row', size: t.rows.length }];
  const vars: NcVarDef[] = [];
  const data = new Map<string, Array<ArrayLike<number> | string[]>>();
  t.columns.forEach((c, k) => {
    const { def, data: d } = column(
      c,
      c.name,
      'row',
      t.rows.map((r) => r[k]!),
      dims,
    );
    vars.push(def);
    data.set(c.name, d);
  });
  return { def: { dims, variables: vars, attrs: t.globals }, source: (name) => data.get(name) };
}

export type DsgType = 'profile' | 'trajectory' | 'timeSeries';

const FEATURE_DIM: Record<DsgType, string> = { profile: 'profile', trajectory: 'trajectory', timeSeries: 'timeseries' };
const ROLE: Record<DsgType, string> = {
  profile: 'profile_id',
  trajectory: 'trajectory_id',
  timeSeries: 'timeseries_id',
};

/**
 * A CF DSG contiguous ragged array: rows grouped by feature (in the order features first appear),
 * feature columns taken from each feature's first row. Adds the feature id variable (cf_role) and
 * `rowSize`; `coordinates` on observation variables names time, latitude, longitude and z.
 */
function dsgTable(t: NcTable, type: DsgType, z?: string): TableFile {
  const order: string[] = [];
  const groups = new Map<string, number[]>();
  t.features.forEach((id, i) => {
    let g = groups.get(id);
    if (!g) {
      g = [];
      groups.set(id, g);
      order.push(id);
    }
    g.push(i);
  });
  const rowOrder = order.flatMap((id) => groups.get(id)!);
  const firstRows = order.map((id) => groups.get(id)![0]!);
  const fdim = FEATURE_DIM[type];
  const dims: NcFileDef['dims'] = [
    { name: fdim, size: order.length },
    { name: 'obs', size: rowOrder.length },
  ];
  const vars: NcVarDef[] = [];
  const data = new Map<string, Array<ArrayLike<number> | string[]>>();
  const idName = ROLE[type];
  const taken = new Set(t.columns.map((c) => c.name));
  if (!taken.has(idName)) {
    const id = column(
      { name: idName, type: 'String', attrs: { cf_role: idName, long_name: 'feature identifier' }, scope: 'feature' },
      idName,
      fdim,
      order,
      dims,
    );
    vars.push(id.def);
    data.set(idName, id.data);
  }
  const coords = t.columns
    .filter((c) => c.time || c.name === 'latitude' || c.name === 'longitude' || c.name === z)
    .map((c) => c.name)
    .join(' ');
  t.columns.forEach((c, k) => {
    const feature = c.scope === 'feature';
    const picks = feature ? firstRows : rowOrder;
    const { def, data: d } = column(
      c,
      c.name,
      feature ? fdim : 'obs',
      picks.map((i) => t.rows[i]![k]!),
      dims,
    );
    if (!feature && coords && !c.time && c.name !== z && c.name !== 'latitude' && c.name !== 'longitude')
      def.attrs = { ...def.attrs, coordinates: coords };
    if (c.name === z) def.attrs = { ...def.attrs, axis: 'Z' };
    vars.push(def);
    data.set(c.name, d);
  });
  vars.push({
    name: 'rowSize',
    type: 'i4',
    dims: [fdim],
    attrs: {
      sample_dimension: 'obs',
      long_name: `Number of Observations for this ${type === 'timeSeries' ? 'TimeSeries' : type[0]!.toUpperCase() + type.slice(1)}`,
    },
  });
  data.set('rowSize', [Int32Array.from(order, (id) => groups.get(id)!.length)]);
  return {
    def: {
      dims,
      variables: vars,
      attrs: {
        ...t.globals,
        featureType: type,
        cdm_data_type: type === 'timeSeries' ? 'TimeSeries' : type[0]!.toUpperCase() + type.slice(1),
      },
    },
    source: (name) => data.get(name),
  };
}

/** Which file: ERDDAP's flat `.nc`, or `.ncCF` as the DSG of `type` (z: the profiles' vertical column). */
export type TableNcKind = { kind: 'flat' } | { kind: 'dsg'; type: DsgType; z?: string | undefined };

function tableFile(t: NcTable, k: TableNcKind): TableFile {
  return k.kind === 'flat' ? flatTable(t) : dsgTable(t, k.type, k.z);
}

/** The table as a NetCDF-3 byte stream. */
export function tableNc(t: NcTable, k: TableNcKind): AsyncGenerator<Uint8Array> {
  const f = tableFile(t, k);
  return writeNetcdf3(f.def, f.source);
}

/** `ncdump -h` of the file tableNc writes (ERDDAP's .ncHeader and .ncCFHeader). */
export function tableNcHeader(t: NcTable, k: TableNcKind, name: string): Promise<string> {
  return cdlHeader(tableFile(t, k).def, name);
}
