import { InvalidParameterValue } from '../errors.js';
import type { BBox } from './bbox.js';
import type { Position, Ring } from './wkt.js';

/** IUGG mean Earth radius, metres: haversine distances are within 0.5 % of the ellipsoid's. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Metres per unit for `within-units`, `width-units` (and their spelled-out forms). */
const LENGTH_UNITS: Record<string, number> = {
  m: 1,
  meter: 1,
  meters: 1,
  metre: 1,
  metres: 1,
  km: 1000,
  kilometer: 1000,
  kilometers: 1000,
  kilometre: 1000,
  kilometres: 1000,
  mi: 1609.344,
  mile: 1609.344,
  miles: 1609.344,
  nmi: 1852,
  nm: 1852,
  'nautical mile': 1852,
  'nautical miles': 1852,
};

export const LENGTH_UNIT_NAMES = ['km', 'm', 'mi', 'nmi'] as const;

/** A distance in metres from a value and its unit name; an unknown unit is a 400 naming `parameter`. */
export function toMetres(value: number, unit: string, parameter: string): number {
  const f = LENGTH_UNITS[unit.trim().toLowerCase()];
  if (f === undefined)
    throw new InvalidParameterValue(parameter, `unknown unit '${unit}'; use one of ${LENGTH_UNIT_NAMES.join(', ')}`);
  return value * f;
}

/** Great-circle distance in metres (haversine on the mean sphere). */
export function haversine(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * The box holding every point within `radius` metres of (lon, lat), for a first cut before exact
 * distances. Near a pole, or when the circle crosses the antimeridian, it widens to all longitudes.
 */
export function circleBBox(lon: number, lat: number, radius: number): BBox {
  const dLat = radius / EARTH_RADIUS_M / RAD;
  const south = Math.max(-90, lat - dLat);
  const north = Math.min(90, lat + dLat);
  const cos = Math.cos(Math.max(Math.abs(south), Math.abs(north)) * RAD);
  if (north >= 90 || south <= -90 || cos < 1e-9) return { west: -180, south, east: 180, north };
  const dLon = Math.min(180, dLat / cos);
  let west = lon - dLon;
  let east = lon + dLon;
  if (east - west >= 360) return { west: -180, south, east: 180, north };
  if (west < -180) west += 360;
  if (east > 180) east -= 360;
  return { west, south, east, north };
}

/**
 * Whether (x, y) lies on the segment a–b, within `eps` degrees: coordinates read from files are
 * often float32, so a cell centre "on" an edge given in decimal degrees is off by an ulp or so.
 */
function onSegment(x: number, y: number, a: Position, b: Position, eps: number): boolean {
  if (
    x < Math.min(a.x, b.x) - eps ||
    x > Math.max(a.x, b.x) + eps ||
    y < Math.min(a.y, b.y) - eps ||
    y > Math.max(a.y, b.y) + eps
  )
    return false;
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy);
  if (len === 0) return Math.hypot(x - a.x, y - a.y) <= eps;
  return Math.abs(dx * (y - a.y) - dy * (x - a.x)) / len <= eps;
}

/**
 * Even-odd rule over all rings (holes included), longitudes as given. A point on any edge is
 * inside (the polygon is closed: EDR's area query keeps what intersects it), whichever side of
 * the shape the edge bounds.
 */
export function pointInRings(x: number, y: number, rings: ReadonlyArray<Ring>): boolean {
  const eps = 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
      if (onSegment(x, y, ring[i]!, ring[j]!, eps)) return true;
  }
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const a = ring[i]!;
      const b = ring[j]!;
      if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
    }
  }
  return inside;
}

/** Whether a point lies inside any of the polygons (each a shell followed by its holes). */
export function pointInPolygons(x: number, y: number, polygons: ReadonlyArray<ReadonlyArray<Ring>>): boolean {
  return polygons.some((rings) => pointInRings(x, y, rings));
}

/** The CRS84 box of some vertices. */
export function bboxOf(points: ReadonlyArray<Position>): BBox {
  let west = Infinity,
    south = Infinity,
    east = -Infinity,
    north = -Infinity;
  for (const p of points) {
    west = Math.min(west, p.x);
    east = Math.max(east, p.x);
    south = Math.min(south, p.y);
    north = Math.max(north, p.y);
  }
  return { west, south, east, north };
}

/**
 * Distance in metres from a point to a polyline, and the fraction along the nearest segment.
 * Each segment is flattened in an equirectangular plane centred on the point: exact enough for
 * corridor widths up to hundreds of kilometres away from the poles.
 */
export function distanceToPath(
  lon: number,
  lat: number,
  path: ReadonlyArray<Position>,
): { distance: number; segment: number; fraction: number } {
  const kx = Math.cos(lat * RAD) * RAD * EARTH_RADIUS_M;
  const ky = RAD * EARTH_RADIUS_M;
  const px = (x: number) => {
    let d = x - lon;
    if (d > 180) d -= 360;
    if (d < -180) d += 360;
    return d * kx;
  };
  let best = { distance: Infinity, segment: 0, fraction: 0 };
  if (path.length === 1) return { distance: haversine(lon, lat, path[0]!.x, path[0]!.y), segment: 0, fraction: 0 };
  for (let i = 0; i + 1 < path.length; i++) {
    const a = path[i]!;
    const b = path[i + 1]!;
    const ax = px(a.x),
      ay = (a.y - lat) * ky,
      bx = px(b.x),
      by = (b.y - lat) * ky;
    const dx = bx - ax,
      dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const f = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
    const d = Math.hypot(ax + f * dx, ay + f * dy);
    if (d < best.distance) best = { distance: d, segment: i, fraction: f };
  }
  return best;
}
