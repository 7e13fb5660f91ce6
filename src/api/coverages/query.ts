import { InvalidParameterValue, UnknownParameter } from '../../core/errors.js';
import { parseRequestCrs, type RequestCrs } from '../../core/grid/crs.js';
import { findAxis, type GridRequest, type ScalingRequest } from '../../core/grid/plan.js';
import type { GridModel } from '../../core/grid/types.js';
import { parseBBox } from '../../core/query/bbox.js';
import { parseDatetime, parseDuration } from '../../core/query/datetime.js';
import { parseAxisNumbers, parseSubset, splitAxisList, type SubsetSpec } from '../../core/query/subset.js';

/** Query parameters of /coverage: OGC API - Coverages (current and deprecated names) plus dry-run. */
export const COVERAGE_PARAMETERS = [
  'f',
  'bbox',
  'bbox-crs',
  'subset',
  'subset-crs',
  'datetime',
  'properties',
  'exclude-properties',
  'scale-factor',
  'scale-axes',
  'scale-size',
  'width',
  'height',
  'resolution',
  'crs',
  'dry-run',
] as const;

/**
 * Earlier drafts' camelCase names, still sent by clients: GDAL's OGC API driver (QGIS) asks for
 * every block with `scaleSize=`.
 */
const LEGACY_PARAMETERS: Record<string, (typeof COVERAGE_PARAMETERS)[number]> = {
  scaleSize: 'scale-size',
  scaleFactor: 'scale-factor',
  scaleAxes: 'scale-axes',
  subsetCrs: 'subset-crs',
  bboxCrs: 'bbox-crs',
};

/** The query with legacy names under their current ones; both at once is a 400. */
function currentNames(query: Query): Query {
  const out: Query = {};
  for (const [key, value] of Object.entries(query)) {
    const name = LEGACY_PARAMETERS[key] ?? key;
    if (out[name] !== undefined)
      throw new InvalidParameterValue(name, `given twice (as ${name} and ${key}): use ${name}`);
    out[name] = value;
  }
  return out;
}

export interface CoverageQuery {
  request: GridRequest;
  /** Answer with the size estimate instead of the data. */
  dryRun: boolean;
}

type Query = Record<string, unknown>;

function one(query: Query, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new InvalidParameterValue(key, 'given more than once');
  return String(v);
}

function many(query: Query, key: string): string[] {
  const v = query[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim());
}

function positiveNumber(text: string, parameter: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidParameterValue(parameter, `expected a positive number, got '${text}'`);
  return n;
}

function positiveInteger(text: string, parameter: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < 1)
    throw new InvalidParameterValue(parameter, `expected a whole number of cells ≥ 1, got '${text}'`);
  return n;
}

/** A box in a request CRS: CRS84 boxes through the shared parser, EPSG:4326 latitude first, native boxes as four ordered numbers. */
function parseBox(text: string, crs: RequestCrs): [number, number, number, number] {
  if (crs.geographic && !crs.latitudeFirst) {
    const b = parseBBox(text);
    return [b.west, b.south, b.east, b.north];
  }
  const parts = text.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 4 || parts.some((p, i) => p === '' || !Number.isFinite(nums[i]))) {
    throw new InvalidParameterValue(
      'bbox',
      `expected 4 comma-separated numbers in ${crs.uri} axis order, got '${text}'`,
    );
  }
  if (crs.latitudeFirst) {
    // EPSG:4326: minLat,minLon,maxLat,maxLon.
    const [s, w, n, e] = nums as [number, number, number, number];
    const b = parseBBox(`${w},${s},${e},${n}`);
    return [b.west, b.south, b.east, b.north];
  }
  const [x0, y0, x1, y1] = nums as [number, number, number, number];
  if (x0 > x1 || y0 > y1)
    throw new InvalidParameterValue('bbox', `minimum above maximum in '${text}' (expected minX,minY,maxX,maxY)`);
  return [x0, y0, x1, y1];
}

/**
 * resolution (Coverages scaling): `resolution=0.5` (x and y), `Lon(0.5),Lat(0.25)`, `time(P1M)`
 * (an ISO 8601 period on the time axis). An empty value — `resolution=` or `Lon()` — asks for
 * the native resolution, which is what is served without scaling.
 */
function parseResolution(
  text: string,
  model: GridModel,
  label: (role: 'x' | 'y') => string,
): Array<{ axis: string; value: number }> {
  if (text.trim() === '') return [];
  if (!/\(/.test(text)) {
    const values = list(text).map((v) => positiveNumber(v, 'resolution'));
    if (values.length > 2)
      throw new InvalidParameterValue(
        'resolution',
        `expected one or two numbers (x,y) or Axis(value) terms, got '${text}'`,
      );
    return [
      { axis: label('x'), value: values[0]! },
      { axis: label('y'), value: values[1] ?? values[0]! },
    ];
  }
  const seen = new Set<string>();
  const out: Array<{ axis: string; value: number }> = [];
  for (const term of splitAxisList(text, 'resolution')) {
    const axis = findAxis(model, term.name);
    if (!axis)
      throw new InvalidParameterValue(
        'resolution',
        `unknown axis '${term.name}' in '${term.text}'; this coverage's axes are: ${model.axes.map((a) => a.label).join(', ')}`,
      );
    if (seen.has(axis.label))
      throw new InvalidParameterValue('resolution', `axis '${term.name}' is given more than once`);
    seen.add(axis.label);
    if (term.args === '') continue;
    // Time axis values are epoch milliseconds: a period compares with their spacing.
    const value = axis.role === 't' ? parseDuration(term.args, 'resolution') : positiveNumber(term.args, 'resolution');
    out.push({ axis: axis.label, value });
  }
  return out;
}

function parseScaling(query: Query, model: GridModel): ScalingRequest | undefined {
  const scaling: ScalingRequest = {};
  const factor = one(query, 'scale-factor');
  if (factor !== undefined) scaling.factor = positiveNumber(factor, 'scale-factor');
  const axes = one(query, 'scale-axes');
  if (axes !== undefined) scaling.factors = parseAxisNumbers(axes, 'scale-axes');
  const sizes: NonNullable<ScalingRequest['sizes']> = [];
  const size = one(query, 'scale-size');
  if (size !== undefined)
    sizes.push(...parseAxisNumbers(size, 'scale-size').map((s) => ({ ...s, parameter: 'scale-size' })));
  const label = (role: 'x' | 'y') => model.axes.find((a) => a.role === role)!.label;
  const width = one(query, 'width');
  if (width !== undefined) sizes.push({ axis: label('x'), value: positiveInteger(width, 'width'), parameter: 'width' });
  const height = one(query, 'height');
  if (height !== undefined)
    sizes.push({ axis: label('y'), value: positiveInteger(height, 'height'), parameter: 'height' });
  if (sizes.length > 0) scaling.sizes = sizes;
  const resolution = one(query, 'resolution');
  if (resolution !== undefined) {
    const resolutions = parseResolution(resolution, model, label);
    if (resolutions.length > 0) scaling.resolutions = resolutions;
  }
  return Object.keys(scaling).length > 0 ? scaling : undefined;
}

const SPATIAL_NAMES = new Set([
  'lon',
  'long',
  'longitude',
  'lat',
  'latitude',
  'e',
  'n',
  'x',
  'y',
  'h',
  'easting',
  'northing',
]);

/** bbox and a spatial subset, datetime and a time subset: two answers to one question (400, as the draft says). */
function checkExclusive(subsets: SubsetSpec[], model: GridModel, bbox: boolean, datetime: boolean): void {
  for (const s of subsets) {
    const axis = findAxis(model, s.axis);
    const spatial = axis ? axis.role === 'x' || axis.role === 'y' : SPATIAL_NAMES.has(s.axis.toLowerCase());
    if (bbox && spatial)
      throw new InvalidParameterValue(
        'subset',
        `'${s.text}' and bbox both select along a spatial axis: give one of them`,
      );
    if (datetime && axis?.role === 't')
      throw new InvalidParameterValue('subset', `'${s.text}' and datetime both select along time: give one of them`);
  }
}

/** A slice keeps one cell of its axis: scaling that axis too is a contradiction (400). */
function checkSliceNotScaled(subsets: SubsetSpec[], scaling: ScalingRequest | undefined, model: GridModel): void {
  if (!scaling) return;
  const scaled = [...(scaling.resolutions ?? []), ...(scaling.sizes ?? []), ...(scaling.factors ?? [])].map((r) =>
    findAxis(model, r.axis),
  );
  for (const s of subsets) {
    if (s.kind !== 'slice') continue;
    const axis = findAxis(model, s.axis);
    if (axis && scaled.includes(axis))
      throw new InvalidParameterValue(
        'subset',
        `'${s.text}' slices ${axis.label}, which is also scaled: slicing and scaling one axis exclude each other`,
      );
  }
}

/** Parse and check every /coverage parameter against a grid; errors name the parameter. */
export function parseCoverageQuery(given: Query, model: GridModel): CoverageQuery {
  const query = currentNames(given);
  for (const key of Object.keys(query)) {
    if (!(COVERAGE_PARAMETERS as readonly string[]).includes(key))
      throw new UnknownParameter(key, [...COVERAGE_PARAMETERS]);
  }
  const request: GridRequest = {};
  const crsText = one(query, 'crs');
  if (crsText !== undefined) {
    const crs = parseRequestCrs(crsText, 'crs', model.crs);
    // EPSG:4326 and CRS84 differ only in axis order, which a grid's named axes make moot.
    if (!crs.native && !(crs.geographic && model.crs.kind === 'geographic')) {
      throw new InvalidParameterValue(
        'crs',
        `coverages are served in their native CRS only (${model.crs.uri ?? model.crs.label}); reprojection is not supported`,
      );
    }
  }
  const bbox = one(query, 'bbox');
  const bboxCrsText = one(query, 'bbox-crs');
  if (bbox !== undefined) {
    const crs =
      bboxCrsText !== undefined
        ? parseRequestCrs(bboxCrsText, 'bbox-crs', model.crs)
        : parseRequestCrs('CRS84', 'bbox-crs', model.crs);
    request.bbox = { box: parseBox(bbox, crs), crs };
  } else if (bboxCrsText !== undefined) {
    parseRequestCrs(bboxCrsText, 'bbox-crs', model.crs);
  }
  const subsets = many(query, 'subset');
  if (subsets.length > 0) request.subsets = parseSubset(subsets);
  checkExclusive(request.subsets ?? [], model, bbox !== undefined, one(query, 'datetime') !== undefined);
  const subsetCrs = one(query, 'subset-crs');
  if (subsetCrs !== undefined) request.subsetCrs = parseRequestCrs(subsetCrs, 'subset-crs', model.crs);
  const datetime = one(query, 'datetime');
  if (datetime !== undefined) request.datetime = parseDatetime(datetime);
  const properties = one(query, 'properties');
  if (properties !== undefined) request.properties = list(properties);
  const exclude = one(query, 'exclude-properties');
  if (exclude !== undefined) request.excludeProperties = list(exclude);
  const scaling = parseScaling(query, model);
  if (scaling) request.scaling = scaling;
  checkSliceNotScaled(request.subsets ?? [], scaling, model);
  const dry = one(query, 'dry-run');
  if (dry !== undefined && !['true', 'false', ''].includes(dry))
    throw new InvalidParameterValue('dry-run', `expected true or false, got '${dry}'`);
  return { request, dryRun: dry === 'true' || dry === '' };
}
