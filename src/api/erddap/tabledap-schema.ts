/**
 * The tabledap view of an in-situ collection: its variables as ERDDAP names them, each either a
 * feature variable (one value per profile, trajectory or station) or a row variable (one value per
 * level or observation), and where its values come from.
 *
 * Argo collections (profiles and trajectories whose files hold PLATFORM_NUMBER) use the names of
 * ERDDAP's ArgoFloats dataset, which argopy asks for: the file's variable names in lower case
 * (`pres`, `temp_qc`, `psal_adjusted_error`), `time` for JULD, `time_qc` for JULD_QC, `latitude`,
 * `longitude`. Other collections keep their files' variable names, with `time`, `latitude` and
 * `longitude` for their coordinates.
 */
import { join } from 'node:path';
import type { Collection } from '../../catalog/collection.js';
import type { FeatureStore } from '../../catalog/feature-store.js';
import { attrString } from '../../cf/read.js';
import { DataSourceError } from '../../core/errors.js';
import { openReader } from '../../readers/registry.js';
import type { DatasetInfo, VariableInfo } from '../../readers/types.js';

/** ERDDAP's type names for what tabledap serves. */
type TableType = 'String' | 'int' | 'float' | 'double';

type TableSource =
  /** Profiles: the feature's time; trajectories and time series: each observation's. */
  | { from: 'time' }
  | { from: 'lat' }
  | { from: 'lon' }
  /** A property the catalog indexed for the feature. */
  | { from: 'property'; key: string }
  /** A per-profile variable of the file (N_PROF), read when asked for. */
  | { from: 'featureFile'; variable: string; chars: boolean }
  /** Per-row numbers through the shared in-situ reader (profiles: the catalog's levels). */
  | { from: 'rows'; variable: string }
  /** Per-level variables the catalog does not keep (QC flags, adjusted values), read from the file. */
  | { from: 'levelFile'; variable: string; chars: boolean };

export interface TableVar {
  name: string;
  type: TableType;
  units?: string;
  scope: 'feature' | 'row';
  source: TableSource;
  attrs: Record<string, string | number>;
}

type CdmType = 'Profile' | 'Trajectory' | 'TimeSeries';

export interface TableDataset {
  collection: Collection & { features: FeatureStore };
  cdmType: CdmType;
  /** Argo naming (platform_number is the platform index the catalog keeps). */
  argo: boolean;
  vars: TableVar[];
  byName: Map<string, TableVar>;
}

/** The time column, as ERDDAP declares it (values are epoch seconds; text answers write ISO 8601). */
const TIME_UNITS = 'seconds since 1970-01-01T00:00:00Z';

/** Catalog properties that describe the indexing rather than the data. */
const SKIPPED_PROPERTIES = new Set([
  'datetime',
  'start_datetime',
  'end_datetime',
  'parameters',
  'parameter_units',
  'n_levels',
  'pres_max',
  'n_observations',
  'n_positions',
  'n_measurements',
  'cycle_min',
  'cycle_max',
]);

const ARGO_FEATURE_ORDER = ['platform_number', 'cycle_number', 'direction', 'data_mode'];

function numberType(v: VariableInfo | undefined): TableType {
  if (!v) return 'double';
  const packed = v.attrs['scale_factor'] !== undefined || v.attrs['add_offset'] !== undefined;
  if (packed) return 'double';
  if (v.dtype === 'f4') return 'float';
  if (v.dtype === 'i1' || v.dtype === 'u1' || v.dtype === 'i2' || v.dtype === 'u2' || v.dtype === 'i4') return 'int';
  return 'double';
}

function describe(v: VariableInfo | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!v) return out;
  for (const key of ['long_name', 'standard_name', 'comment', 'conventions', 'valid_min', 'valid_max', 'resolution']) {
    const a = v.attrs[key];
    if (typeof a === 'string' && a.trim()) out[key] = a.trim();
    else if (typeof a === 'number') out[key] = a;
  }
  return out;
}

async function firstFileInfo(c: Collection): Promise<DatasetInfo> {
  const file = c.files[0];
  if (!file) throw new DataSourceError(c.id, 'the collection has no file');
  const reader = await openReader(join(c.root, file)).catch((err: unknown) => {
    throw new DataSourceError(c.id, `${file}: ${(err as Error).message}`);
  });
  try {
    return await reader.info();
  } finally {
    await reader.close().catch(() => undefined);
  }
}

function propertyVars(c: Collection & { features: FeatureStore }, skip: Set<string>): TableVar[] {
  const out: TableVar[] = [];
  for (const [key, type] of c.features.propertyTypes()) {
    if (SKIPPED_PROPERTIES.has(key) || skip.has(key)) continue;
    out.push({
      name: key,
      type: type === 'integer' ? 'int' : type === 'number' ? 'double' : 'String',
      scope: 'feature',
      source: { from: 'property', key },
      attrs: {},
    });
  }
  return out;
}

const TIME_VAR: TableVar = {
  name: 'time',
  type: 'double',
  units: TIME_UNITS,
  scope: 'feature',
  source: { from: 'time' },
  attrs: { standard_name: 'time', long_name: 'Time', axis: 'T', ioos_category: 'Time' },
};

function coordinateVar(name: 'latitude' | 'longitude', scope: 'feature' | 'row'): TableVar {
  return {
    name,
    type: 'double',
    units: name === 'latitude' ? 'degrees_north' : 'degrees_east',
    scope,
    source: { from: name === 'latitude' ? 'lat' : 'lon' },
    attrs: {
      standard_name: name,
      long_name: name === 'latitude' ? 'Latitude' : 'Longitude',
      axis: name === 'latitude' ? 'Y' : 'X',
      ioos_category: 'Location',
    },
  };
}

function argoProfileVars(c: Collection & { features: FeatureStore }, info: DatasetInfo): TableVar[] {
  const vars = new Map(info.variables.map((v) => [v.name, v]));
  const types = c.features.propertyTypes();
  const prop = (key: string): TableVar[] =>
    types.has(key)
      ? [
          {
            name: key,
            type: types.get(key) === 'integer' ? 'int' : types.get(key) === 'number' ? 'double' : 'String',
            scope: 'feature',
            source: { from: 'property', key },
            attrs: describe(vars.get(key.toUpperCase())),
          },
        ]
      : [];
  const perProfile = (name: string, variable: string): TableVar[] => {
    const v = vars.get(variable);
    if (!v || v.dims[0] !== 'N_PROF') return [];
    const chars = v.dtype === 'char';
    return [
      {
        name,
        type: chars ? 'String' : numberType(v),
        scope: 'feature',
        source: { from: 'featureFile', variable, chars },
        attrs: describe(v),
      },
    ];
  };
  const out: TableVar[] = [
    ...ARGO_FEATURE_ORDER.flatMap(prop),
    TIME_VAR,
    ...perProfile('time_qc', 'JULD_QC'),
    coordinateVar('latitude', 'feature'),
    coordinateVar('longitude', 'feature'),
    ...prop('position_qc'),
    ...perProfile('config_mission_number', 'CONFIG_MISSION_NUMBER'),
    ...perProfile('vertical_sampling_scheme', 'VERTICAL_SAMPLING_SCHEME'),
    ...propertyVars(c, new Set([...ARGO_FEATURE_ORDER, 'position_qc'])),
  ];
  const params = [...new Set(['PRES', ...c.parameters.map((p) => p.name)])];
  for (const p of params) {
    const v = vars.get(p);
    if (!v) continue;
    const units = attrString(v.attrs, 'units');
    const base = p.toLowerCase();
    const level = (suffix: string, variable: string, fromRows: boolean): TableVar[] => {
      const x = vars.get(variable);
      if (!x || x.dims.length !== 2 || x.dims[0] !== 'N_PROF') return [];
      const chars = x.dtype === 'char';
      return [
        {
          name: `${base}${suffix}`,
          type: chars ? 'String' : numberType(x),
          ...(!chars && units ? { units } : {}),
          scope: 'row',
          source: fromRows ? { from: 'rows', variable } : { from: 'levelFile', variable, chars },
          attrs: { ...describe(x), ...(p === 'PRES' && suffix === '' ? { axis: 'Z', positive: 'down' } : {}) },
        },
      ];
    };
    out.push(
      ...level('', p, true),
      ...level('_qc', `${p}_QC`, false),
      ...level('_adjusted', `${p}_ADJUSTED`, false),
      ...level('_adjusted_qc', `${p}_ADJUSTED_QC`, false),
      ...level('_adjusted_error', `${p}_ADJUSTED_ERROR`, false),
    );
  }
  return out;
}

function observationVars(c: Collection & { features: FeatureStore }, info: DatasetInfo, argo: boolean): TableVar[] {
  const vars = new Map(info.variables.map((v) => [v.name, v]));
  const trajectory = c.kind === 'trajectory';
  const out: TableVar[] = [
    ...propertyVars(c, new Set()),
    { ...TIME_VAR, scope: 'row' },
    coordinateVar('latitude', trajectory ? 'row' : 'feature'),
    coordinateVar('longitude', trajectory ? 'row' : 'feature'),
  ];
  const taken = new Set(out.map((v) => v.name));
  for (const p of c.parameters) {
    const name = argo ? p.name.toLowerCase() : p.name;
    if (taken.has(name)) continue;
    taken.add(name);
    out.push({
      name,
      type: numberType(vars.get(p.name)),
      ...(p.units ? { units: p.units } : {}),
      scope: 'row',
      source: { from: 'rows', variable: p.name },
      attrs: describe(vars.get(p.name)),
    });
  }
  return out;
}

const cache = new WeakMap<Collection, Promise<TableDataset>>();

/** The tabledap dataset of an in-situ collection (built once per collection from its first file). */
export function tableDataset(c: Collection & { features: FeatureStore }): Promise<TableDataset> {
  let ds = cache.get(c);
  if (!ds) {
    ds = (async () => {
      const info = await firstFileInfo(c);
      const argo = info.variables.some((v) => v.name === 'PLATFORM_NUMBER');
      const vars = c.kind === 'profile' ? argoProfileVars(c, info) : observationVars(c, info, argo);
      const cdmType: CdmType = c.kind === 'profile' ? 'Profile' : c.kind === 'trajectory' ? 'Trajectory' : 'TimeSeries';
      return { collection: c, cdmType, argo, vars, byName: new Map(vars.map((v) => [v.name, v])) };
    })();
    ds.catch(() => cache.delete(c));
    cache.set(c, ds);
  }
  return ds;
}
