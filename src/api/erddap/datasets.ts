/**
 * ERDDAP dataset ids for our collections, and the dataset-level tables (info, search, allDatasets).
 *
 * The id rule: ERDDAP allows only letters, digits and `_`, starting with a letter. A collection id
 * (`[A-Za-z0-9_-]`) becomes its ERDDAP id by turning each `-` into `_` and, when it starts with a
 * digit or `_`, prefixing `d` (`20160707…-v02-0` → `d20160707…_v02_0`). Both ids are accepted in
 * URLs; lists publish the ERDDAP one. When two collections map to the same ERDDAP id, the first (in
 * collection order) has it and the other stays reachable by its collection id.
 */
import { isFeatureCollection, type Collection } from '../../catalog/collection.js';
import type { FeatureStore } from '../../catalog/feature-store.js';
import { isoString } from '../../cf/time.js';
import { NotFound } from '../../core/errors.js';
import type { GridModel } from '../../core/grid/types.js';
import { dapDataset, type DapAttr, type DapType } from '../../encoders/dap2/dataset.js';
import type { ErddapColumn, ErddapValue } from '../../encoders/erddap/table.js';
import type { FastifyRequest } from 'fastify';
import { visibleCollections, type ApiContext } from '../context.js';
import { erddapAxisName } from './griddap-query.js';
import type { TableDataset } from './tabledap-schema.js';

export function erddapId(collectionId: string): string {
  const id = collectionId.replace(/-/g, '_');
  return /^[A-Za-z]/.test(id) ? id : `d${id}`;
}

function collectionNamed(ctx: ApiContext, id: string): Collection | undefined {
  const c = ctx.collections.get(id);
  if (c) return c;
  for (const x of ctx.collections.values()) if (erddapId(x.id) === id) return x;
  return undefined;
}

/** The in-situ collection an ERDDAP id (or a collection id) names, for tabledap; 404 in ERDDAP's words otherwise. */
export function tabledapCollection(
  ctx: ApiContext,
  request: FastifyRequest,
  id: string,
): Collection & { features: FeatureStore } {
  const c = collectionNamed(ctx, id);
  if (!c || !isFeatureCollection(c)) {
    throw new NotFound(
      `Currently unknown datasetID=${id}${c ? ` (collection '${c.id}' is a grid: use /erddap/griddap/${erddapId(c.id)})` : ''}. See /erddap/tabledap/allDatasets.html`,
    );
  }
  ctx.access?.check(request, c.id);
  return c;
}

/** The grid collection an ERDDAP id (or a collection id) names; 404 in ERDDAP's words otherwise. */
export function griddapCollection(ctx: ApiContext, request: FastifyRequest, id: string): Collection {
  const c = collectionNamed(ctx, id);
  if (!c || c.kind !== 'grid') {
    throw new NotFound(
      `Currently unknown datasetID=${id}${c ? ` (collection '${c.id}' holds ${c.kind} features: use /erddap/tabledap/${erddapId(c.id)})` : ''}. See /erddap/tabledap/allDatasets.html`,
    );
  }
  // A restricted collection needs its credential here as on /collections/{id} (401 with a Bearer challenge).
  ctx.access?.check(request, c.id);
  return c;
}

const ERDDAP_TYPE: Record<DapType | 'String', string> = {
  Byte: 'byte',
  Int16: 'short',
  UInt16: 'ushort',
  Int32: 'int',
  UInt32: 'uint',
  Float32: 'float',
  Float64: 'double',
  String: 'String',
};

function attrRow(variable: string, a: DapAttr): ErddapValue[] {
  return ['attribute', variable, a.name, ERDDAP_TYPE[a.type], a.values.map(String).join(', ')];
}

export const INFO_COLUMNS: ErddapColumn[] = ['Row Type', 'Variable Name', 'Attribute Name', 'Data Type', 'Value'].map(
  (name) => ({ name, type: 'String' }),
);

/** info/{id}/index: the global attributes, each axis (dimension) and each data variable with its attributes, as ERDDAP lists them. */
export function infoRows(c: Collection, model: GridModel): ErddapValue[][] {
  const ds = dapDataset(c.id, model, { ...model.attrs, title: c.title });
  const rows: ErddapValue[][] = [];
  const globals: DapAttr[] = [
    { name: 'cdm_data_type', type: 'String', values: ['Grid'] },
    ...ds.globals.filter((a) => a.name !== 'cdm_data_type'),
    { name: 'summary', type: 'String', values: [c.description] },
  ];
  const t = model.axes.find((a) => a.role === 't');
  if (t) {
    globals.push(
      { name: 'time_coverage_start', type: 'String', values: [isoString(t.values[0]!)] },
      { name: 'time_coverage_end', type: 'String', values: [isoString(t.values[t.values.length - 1]!)] },
    );
  }
  for (const a of globals) rows.push(attrRow('NC_GLOBAL', a));
  for (const v of ds.variables) {
    if (v.kind !== 'coordinate') continue;
    const axis = model.axes[v.axis]!;
    const n = axis.values.length;
    // Time in epoch seconds, as ERDDAP serves it.
    const served = axis.role === 't' ? Float64Array.from(axis.values, (ms) => ms / 1000) : v.values;
    const spacing = n > 1 ? (served[n - 1]! - served[0]!) / (n - 1) : 0;
    const type = axis.role === 't' ? 'double' : ERDDAP_TYPE[v.type];
    rows.push([
      'dimension',
      erddapAxisName(axis),
      '',
      type,
      `nValues=${n}, evenlySpaced=${axis.step !== undefined}, averageSpacing=${spacing}`,
    ]);
    const range = [Math.min(served[0]!, served[n - 1]!), Math.max(served[0]!, served[n - 1]!)];
    rows.push(['attribute', erddapAxisName(axis), 'actual_range', type, range.join(', ')]);
    for (const a of v.attrs) {
      if (axis.role === 't' && (a.name === 'units' || a.name === 'calendar')) continue;
      rows.push(attrRow(erddapAxisName(axis), a));
    }
    if (axis.role === 't')
      rows.push(['attribute', erddapAxisName(axis), 'units', 'String', 'seconds since 1970-01-01T00:00:00Z']);
  }
  for (const v of ds.variables) {
    if (v.kind !== 'field') continue;
    rows.push([
      'variable',
      v.name,
      '',
      fieldType(v.field.attrs, v.field.dtype),
      model.axes.map(erddapAxisName).join(', '),
    ]);
    // Values come unpacked: the packing attributes are not the data's.
    for (const a of v.attrs)
      if (!['scale_factor', 'add_offset', '_Unsigned'].includes(a.name)) rows.push(attrRow(v.name, a));
  }
  return rows;
}

/** info/{id}/index of a tabledap dataset: the global attributes (cdm_data_type, subsetVariables…), then each variable. */
export function tableInfoRows(ds: TableDataset): ErddapValue[][] {
  const c = ds.collection;
  const featureVars = ds.vars.filter((v) => v.scope === 'feature').map((v) => v.name);
  const role = ds.cdmType === 'Profile' ? 'profile' : ds.cdmType === 'Trajectory' ? 'trajectory' : 'timeseries';
  const globals: Array<[string, string]> = [
    ['cdm_data_type', ds.cdmType],
    [`cdm_${role}_variables`, featureVars.join(', ')],
    ['Conventions', 'CF-1.7, COARDS, ACDD-1.3'],
    ['featureType', ds.cdmType === 'TimeSeries' ? 'timeSeries' : ds.cdmType],
    ['subsetVariables', featureVars.join(', ')],
    ['title', c.title],
    ['summary', c.description],
    ...(c.attrs['institution'] ? ([['institution', c.attrs['institution']]] as Array<[string, string]>) : []),
    ...(c.timeSpan
      ? ([
          ['time_coverage_start', isoString(c.timeSpan[0])],
          ['time_coverage_end', isoString(c.timeSpan[1])],
        ] as Array<[string, string]>)
      : []),
  ];
  const rows: ErddapValue[][] = globals.map(([name, value]) => ['attribute', 'NC_GLOBAL', name, 'String', value]);
  if (c.bbox) {
    const [w, s, e, n] = c.bbox;
    rows.push(
      ['attribute', 'NC_GLOBAL', 'geospatial_lat_min', 'double', s],
      ['attribute', 'NC_GLOBAL', 'geospatial_lat_max', 'double', n],
      ['attribute', 'NC_GLOBAL', 'geospatial_lon_min', 'double', w],
      ['attribute', 'NC_GLOBAL', 'geospatial_lon_max', 'double', e],
    );
  }
  for (const v of ds.vars) {
    rows.push(['variable', v.name, '', v.type, '']);
    if (v.units) rows.push(['attribute', v.name, 'units', 'String', v.units]);
    for (const [name, value] of Object.entries(v.attrs))
      rows.push(['attribute', v.name, name, typeof value === 'number' ? 'double' : 'String', value]);
  }
  return rows;
}

/** ERDDAP's type of a field's values as answered (unpacked: float or double when packed). */
export function fieldType(attrs: Record<string, unknown>, dtype: string): string {
  const scale = attrs['scale_factor'] ?? attrs['add_offset'];
  if (typeof scale === 'number') return Math.fround(scale) === scale ? 'float' : 'double';
  const map: Record<string, string> = {
    i1: 'byte',
    u1: 'ubyte',
    i2: 'short',
    u2: 'ushort',
    i4: 'int',
    u4: 'uint',
    i8: 'long',
    u8: 'ulong',
    f4: 'float',
    f8: 'double',
  };
  return map[dtype] ?? 'double';
}

export const ALL_DATASETS_COLUMNS: ErddapColumn[] = [
  { name: 'datasetID', type: 'String' },
  { name: 'accessible', type: 'String' },
  { name: 'institution', type: 'String' },
  { name: 'dataStructure', type: 'String' },
  { name: 'cdm_data_type', type: 'String' },
  { name: 'class', type: 'String' },
  { name: 'title', type: 'String' },
  { name: 'minLongitude', type: 'double', units: 'degrees_east' },
  { name: 'maxLongitude', type: 'double', units: 'degrees_east' },
  { name: 'minLatitude', type: 'double', units: 'degrees_north' },
  { name: 'maxLatitude', type: 'double', units: 'degrees_north' },
  { name: 'minTime', type: 'String', units: 'UTC' },
  { name: 'maxTime', type: 'String', units: 'UTC' },
  { name: 'griddap', type: 'String' },
  { name: 'tabledap', type: 'String' },
  { name: 'opendap', type: 'String' },
  { name: 'metadata', type: 'String' },
  { name: 'summary', type: 'String' },
];

/** The grid collections this request may see (restricted ones only with their credential). */
export function gridCollections(ctx: ApiContext, request: FastifyRequest): Collection[] {
  return visibleCollections(ctx, request).filter((c) => c.kind === 'grid');
}

export function allDatasetsRow(c: Collection, base: string): ErddapValue[] {
  const id = erddapId(c.id);
  const grid = c.kind === 'grid';
  const [w, s, e, n] = c.bbox ?? [NaN, NaN, NaN, NaN];
  return [
    id,
    'public',
    c.attrs['institution'] ?? '',
    grid ? 'grid' : 'table',
    CDM_TYPE[c.kind],
    grid ? 'EDDGridFromFiles' : 'EDDTableFromFiles',
    c.title,
    w,
    e,
    s,
    n,
    c.timeSpan ? isoString(c.timeSpan[0]) : '',
    c.timeSpan ? isoString(c.timeSpan[1]) : '',
    grid ? `${base}/erddap/griddap/${id}` : '',
    grid ? '' : `${base}/erddap/tabledap/${id}`,
    `${base}/opendap/${encodeURIComponent(c.id)}`,
    `${base}/erddap/info/${id}/index.json`,
    c.description,
  ];
}

const CDM_TYPE: Record<Collection['kind'], string> = {
  grid: 'Grid',
  profile: 'Profile',
  trajectory: 'Trajectory',
  timeSeries: 'TimeSeries',
};

/** Every collection ERDDAP URLs serve (grids by griddap, in-situ collections by tabledap) this request may see. */
export function erddapCollections(ctx: ApiContext, request: FastifyRequest): Collection[] {
  return visibleCollections(ctx, request).filter((c) => c.kind === 'grid' || isFeatureCollection(c));
}

export const SEARCH_COLUMNS: ErddapColumn[] = [
  'griddap',
  'Subset',
  'tabledap',
  'Make A Graph',
  'wms',
  'files',
  'Accessible',
  'Title',
  'Summary',
  'FGDC',
  'ISO 19115',
  'Info',
  'Background Info',
  'RSS',
  'Email',
  'Institution',
  'Dataset ID',
].map((name) => ({ name, type: 'String' }));

/** Collections whose id, title, description or keywords hold every word of `searchFor` (ERDDAP's full-text search, simplified). */
export function searchRows(ctx: ApiContext, request: FastifyRequest, searchFor: string, base: string): ErddapValue[][] {
  const words = searchFor
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '' && w !== 'all');
  return erddapCollections(ctx, request)
    .filter((c) => {
      const text = [c.id, erddapId(c.id), c.title, c.description, ...c.keywords].join(' ').toLowerCase();
      return words.every((w) => text.includes(w.replace(/^"|"$/g, '')));
    })
    .map((c) => {
      const id = erddapId(c.id);
      return [
        c.kind === 'grid' ? `${base}/erddap/griddap/${id}` : '',
        '',
        c.kind === 'grid' ? '' : `${base}/erddap/tabledap/${id}`,
        '',
        '',
        '',
        'public',
        c.title,
        c.description,
        '',
        '',
        `${base}/erddap/info/${id}/index.json`,
        `${base}/collections/${encodeURIComponent(c.id)}`,
        '',
        '',
        c.attrs['institution'] ?? '',
        id,
      ];
    });
}
