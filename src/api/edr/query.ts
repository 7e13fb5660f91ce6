/**
 * EDR query parameters → an EdrQuery. Every error is a 400 naming the parameter and what was
 * expected; nothing here reads data.
 */
import type { Collection } from '../../catalog/collection.js';
import { InvalidParameterValue, UnknownParameter } from '../../core/errors.js';
import { parseBBox, type BBox } from '../../core/query/bbox.js';
import { parseDatetime, type TimeInterval } from '../../core/query/datetime.js';
import { toMetres } from '../../core/query/geodesic.js';
import { parseWkt, type WktGeometry, type WktType } from '../../core/query/wkt.js';
import { parseZ, type ZSelection } from '../../core/query/z.js';
import { CRS84, EPSG_4326 } from '../../core/grid/crs.js';

export type QueryType = 'position' | 'radius' | 'area' | 'cube' | 'trajectory' | 'corridor' | 'locations';

export interface EdrQuery {
  type: QueryType;
  coords?: WktGeometry;
  bbox?: BBox;
  z?: ZSelection;
  datetime?: TimeInterval;
  /** Selected parameters, in the collection's order; every parameter when none was asked. */
  parameters: string[];
  /** Radius in metres (radius queries). */
  within?: number;
  /** Full corridor width in metres. */
  corridorWidth?: number;
  /** Full corridor height in the vertical axis' units. */
  corridorHeight?: number;
  /** Number of positions wanted along each axis (grids): EDR's resolution-x|y|z. */
  resolution?: { x?: number; y?: number; z?: number };
  /** At most this many features (in-situ) or sets. */
  limit?: number;
  /** /locations/{locationId}. */
  locationId?: string;
}

const COMMON = ['f', 'crs', 'datetime', 'parameter-name', 'z', 'limit'];

/** Parameters each query type accepts (beyond COMMON). */
export const QUERY_PARAMETERS: Record<QueryType, string[]> = {
  position: ['coords'],
  radius: ['coords', 'within', 'within-units'],
  area: ['coords', 'resolution-x', 'resolution-y'],
  cube: ['bbox', 'cube-z', 'resolution-x', 'resolution-y', 'resolution-z'],
  trajectory: ['coords'],
  corridor: [
    'coords',
    'corridor-width',
    'width-units',
    'corridor-height',
    'height-units',
    'resolution-x',
    'resolution-y',
    'resolution-z',
  ],
  locations: ['bbox'],
};

/** Geometry types each query accepts in `coords`. */
const COORDS_TYPES: Partial<Record<QueryType, WktType[]>> = {
  position: ['Point', 'MultiPoint'],
  radius: ['Point', 'MultiPoint'],
  area: ['Polygon', 'MultiPolygon'],
  trajectory: ['LineString'],
  corridor: ['LineString'],
};

const ACCEPTED_CRS = new Set([CRS84, EPSG_4326, 'EPSG:4326', 'OGC:CRS84', 'CRS84', 'WGS84']);

/** Default number of features when `limit` is absent, and its ceiling. */
const MAX_LIMIT = 100_000;

/**
 * EDR's datetime: `null` ends are open ones (clients, the EDR test suite among them, echo a temporal
 * extent of [[null, null]]); a fully open interval selects no time at all (undefined).
 */
export function parseEdrDatetime(text: string): TimeInterval | undefined {
  const t = text
    .split('/')
    .map((p) => (p.trim() === 'null' ? '..' : p))
    .join('/');
  return /^\s*(\.\.)?(\/(\.\.)?)?\s*$/.test(t) ? undefined : parseDatetime(t, 'datetime');
}

function positive(name: string, text: string, integer = false): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new InvalidParameterValue(
      name,
      `expected a ${integer ? 'whole number' : 'number'} greater than 0, got '${text}'`,
    );
  }
  return n;
}

/** Parse and check the query string of one EDR query on collection `c`. */
export function parseEdrQuery(
  type: QueryType,
  c: Collection,
  query: Record<string, unknown>,
  locationId?: string,
): EdrQuery {
  const accepted = [...COMMON, ...QUERY_PARAMETERS[type]];
  for (const key of Object.keys(query)) if (!accepted.includes(key)) throw new UnknownParameter(key, accepted);
  const str = (k: string): string | undefined => {
    const v = query[k];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) throw new InvalidParameterValue(k, 'given more than once');
    return String(v);
  };
  const q: EdrQuery = { type, parameters: c.parameters.map((p) => p.name) };
  if (locationId !== undefined) q.locationId = locationId;

  const names = str('parameter-name');
  if (names !== undefined) {
    const wanted = names
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const known = new Set(q.parameters);
    const unknown = wanted.filter((n) => !known.has(n));
    if (wanted.length === 0 || unknown.length > 0) {
      throw new InvalidParameterValue(
        'parameter-name',
        `${unknown.length ? `unknown parameter(s) ${unknown.map((u) => `'${u}'`).join(', ')}` : 'empty list'}; this collection has: ${q.parameters.join(', ')}`,
      );
    }
    q.parameters = q.parameters.filter((n) => wanted.includes(n));
  }

  const crs = str('crs');
  if (crs !== undefined && !ACCEPTED_CRS.has(crs.trim()))
    throw new InvalidParameterValue('crs', `only ${CRS84} (or EPSG:4326) is supported, got '${crs}'`);

  const coords = str('coords');
  const types = COORDS_TYPES[type];
  if (types) {
    if (coords === undefined)
      throw new InvalidParameterValue(
        'coords',
        `required for ${type} queries: a WKT ${types.map((t) => t.toUpperCase()).join(' or ')}`,
      );
    q.coords = parseWkt(coords, 'coords');
    if (!types.includes(q.coords.type)) {
      throw new InvalidParameterValue(
        'coords',
        `a ${type} query takes a WKT ${types.map((t) => t.toUpperCase()).join(' or ')}, got ${q.coords.type.toUpperCase()}`,
      );
    }
  }

  const bbox = str('bbox');
  if (bbox !== undefined) q.bbox = parseBBox(bbox, 'bbox');
  else if (type === 'cube')
    throw new InvalidParameterValue('bbox', 'required for cube queries: minLon,minLat,maxLon,maxLat');

  const datetime = str('datetime');
  if (datetime !== undefined) {
    const interval = parseEdrDatetime(datetime);
    if (interval) q.datetime = interval;
  }

  const z = str('z') ?? str('cube-z');
  if (z !== undefined) q.z = parseZ(z, str('z') !== undefined ? 'z' : 'cube-z');

  if (type === 'radius') {
    const within = str('within');
    const units = str('within-units');
    if (within === undefined)
      throw new InvalidParameterValue('within', 'required for radius queries: the radius, with within-units');
    if (units === undefined) throw new InvalidParameterValue('within-units', 'required with within: km, m, mi or nmi');
    q.within = toMetres(positive('within', within), units, 'within-units');
  }
  if (type === 'corridor') {
    const width = str('corridor-width');
    const wUnits = str('width-units');
    if (width === undefined)
      throw new InvalidParameterValue('corridor-width', 'required for corridor queries, with width-units');
    if (wUnits === undefined)
      throw new InvalidParameterValue('width-units', 'required with corridor-width: km, m, mi or nmi');
    q.corridorWidth = toMetres(positive('corridor-width', width), wUnits, 'width-units');
    const height = str('corridor-height');
    if (height !== undefined) {
      const hUnits = str('height-units');
      if (hUnits === undefined)
        throw new InvalidParameterValue(
          'height-units',
          'required with corridor-height (the vertical axis units, e.g. m or dbar)',
        );
      q.corridorHeight = positive('corridor-height', height);
    }
  }
  for (const axis of ['x', 'y', 'z'] as const) {
    const r = str(`resolution-${axis}`);
    if (r !== undefined) (q.resolution ??= {})[axis] = positive(`resolution-${axis}`, r, true);
  }
  const limit = str('limit');
  if (limit !== undefined) {
    if (!/^\s*\d+\s*$/.test(limit) || Number(limit) < 1)
      throw new InvalidParameterValue('limit', `expected a whole number from 1 to ${MAX_LIMIT}, got '${limit}'`);
    q.limit = Math.min(Number(limit), MAX_LIMIT);
  }
  return q;
}
