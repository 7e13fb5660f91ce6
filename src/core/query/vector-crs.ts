/**
 * Coordinate reference systems of vector data (OGC API - Features Part 2, CQL2 filter-crs): CRS84
 * (longitude, latitude), EPSG:4326 (the same datum, **latitude first**) and EPSG:3857 (spherical
 * Web Mercator, metres). Features are stored in CRS84; these convert to and from it.
 */
import { InvalidParameterValue } from '../errors.js';
import type { GeoJsonGeometry } from '../geometry.js';
import type { BBox } from './bbox.js';
import { CRS84 as CRS84_URI, EPSG_3857, EPSG_4326 } from '../grid/crs.js';

export interface VectorCrs {
  uri: string;
  /** Names of the two axes, in the CRS's own order (CSV columns). */
  axes: [string, string];
  /** CRS84 (lon, lat) → this CRS's coordinates, in its axis order. */
  fromCrs84: (lon: number, lat: number) => [number, number];
  /** This CRS's coordinates, in its axis order → CRS84 (lon, lat). */
  toCrs84: (a: number, b: number) => [number, number];
}

const R = 6378137;
const RAD = Math.PI / 180;
/** Web Mercator's latitude limit: the square world of EPSG:3857. */
const MAX_MERCATOR_LAT = 85.0511287798066;

export const CRS84: VectorCrs = {
  uri: CRS84_URI,
  axes: ['longitude', 'latitude'],
  fromCrs84: (lon, lat) => [lon, lat],
  toCrs84: (x, y) => [x, y],
};
const EPSG4326: VectorCrs = {
  uri: EPSG_4326,
  axes: ['latitude', 'longitude'],
  fromCrs84: (lon, lat) => [lat, lon],
  toCrs84: (lat, lon) => [lon, lat],
};
const EPSG3857: VectorCrs = {
  uri: EPSG_3857,
  axes: ['x', 'y'],
  fromCrs84: (lon, lat) => {
    const phi = Math.max(-MAX_MERCATOR_LAT, Math.min(MAX_MERCATOR_LAT, lat)) * RAD;
    return [R * lon * RAD, R * Math.log(Math.tan(Math.PI / 4 + phi / 2))];
  },
  toCrs84: (x, y) => [x / R / RAD, (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) / RAD],
};

/** Every CRS the features can be asked in, CRS84 (their storage CRS) first. */
export const VECTOR_CRS: readonly VectorCrs[] = [CRS84, EPSG4326, EPSG3857];

/** The spellings clients use for each: URIs (http or https), CURIEs, safe CURIEs, `EPSG:n`. */
function canonical(text: string): string | undefined {
  const t = text.trim().replace(/^\[(.*)\]$/, '$1');
  const m =
    /^https?:\/\/www\.opengis\.net\/def\/crs\/(OGC|EPSG)\/[^/]+\/([A-Za-z0-9]+)$/i.exec(t) ??
    /^(OGC|EPSG|CRS):{1,2}([A-Za-z0-9]+)$/i.exec(t);
  if (!m) return /^CRS84$/i.test(t) ? CRS84_URI : undefined;
  const [, auth, code] = m;
  const c = code!.toUpperCase();
  if ((auth!.toUpperCase() === 'OGC' || auth!.toUpperCase() === 'CRS') && (c === 'CRS84' || c === '84'))
    return CRS84_URI;
  if (auth!.toUpperCase() === 'EPSG' && c === '4326') return EPSG_4326;
  if (auth!.toUpperCase() === 'EPSG' && c === '3857') return EPSG_3857;
  return undefined;
}

/** The CRS a parameter names; anything else is a 400 listing what is supported. */
export function parseVectorCrs(text: string, parameter: string): VectorCrs {
  const uri = canonical(text);
  const crs = VECTOR_CRS.find((c) => c.uri === uri);
  if (!crs)
    throw new InvalidParameterValue(
      parameter,
      `unsupported CRS '${text}'; supported: ${VECTOR_CRS.map((c) => c.uri).join(', ')}`,
    );
  return crs;
}

/** A box given in `crs` (4 or 6 numbers, in its axis order; heights ignored) as a CRS84 box. */
export function bboxToCrs84(nums: readonly number[], crs: VectorCrs, parameter: string): BBox {
  if (nums.length !== 4 && nums.length !== 6)
    throw new InvalidParameterValue(parameter, `expected 4 or 6 numbers, got ${nums.length}`);
  const [a0, b0, a1, b1] = nums.length === 4 ? nums : [nums[0]!, nums[1]!, nums[3]!, nums[4]!];
  const [west, south] = crs.toCrs84(a0!, b0!);
  const [east, north] = crs.toCrs84(a1!, b1!);
  if (south > north)
    throw new InvalidParameterValue(
      parameter,
      `the lower corner is north of the upper one (in ${crs.uri}, axis order ${crs.axes.join(', ')})`,
    );
  if (south < -90 || north > 90)
    throw new InvalidParameterValue(
      parameter,
      `latitudes must lie in [-90, 90], got ${south}..${north} (axis order of ${crs.uri}: ${crs.axes.join(', ')})`,
    );
  if (west < -180 || west > 180 || east < -180 || east > 180)
    throw new InvalidParameterValue(
      parameter,
      `longitudes must lie in [-180, 180], got ${west}..${east} (axis order of ${crs.uri}: ${crs.axes.join(', ')})`,
    );
  return { west, south, east, north };
}

type Coords = number[] | Coords[];

function mapCoords(c: Coords, f: (a: number, b: number) => [number, number]): Coords {
  if (typeof c[0] === 'number') {
    const [a, b, ...rest] = c as number[];
    return [...f(a!, b!), ...rest];
  }
  return (c as Coords[]).map((x) => mapCoords(x, f));
}

/** A GeoJSON geometry with every position converted by `f` (extra ordinates kept). */
export function mapGeometry<G extends { type: string }>(g: G, f: (a: number, b: number) => [number, number]): G {
  if (g.type === 'GeometryCollection') {
    const gc = g as unknown as { geometries: Array<{ type: string }> };
    return { ...g, geometries: gc.geometries.map((x) => mapGeometry(x, f)) };
  }
  const coords = (g as unknown as { coordinates: Coords }).coordinates;
  return { ...g, coordinates: mapCoords(coords, f) };
}

/** A query geometry given in `crs` (filter-crs) as CRS84. */
export function geometryToCrs84(g: GeoJsonGeometry, crs: VectorCrs): GeoJsonGeometry {
  return crs.uri === CRS84_URI ? g : mapGeometry(g, crs.toCrs84);
}
