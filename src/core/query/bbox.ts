import { InvalidParameterValue } from '../errors.js';

/** A CRS84 box; `west > east` means it crosses the antimeridian. */
export interface BBox {
  west: number;
  south: number;
  east: number;
  north: number;
}

/** Parse `minLon,minLat,maxLon,maxLat` (or the 6-number 3-D form, whose heights are ignored). */
export function parseBBox(value: string, parameter = 'bbox'): BBox {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length !== 4 && parts.length !== 6) {
    throw new InvalidParameterValue(
      parameter,
      `expected 4 or 6 comma-separated numbers (minLon,minLat,maxLon,maxLat), got '${value}'`,
    );
  }
  const nums = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === '' || !Number.isFinite(nums[i]));
  if (bad >= 0) throw new InvalidParameterValue(parameter, `'${parts[bad]}' is not a number`);
  const [west, south, east, north] = parts.length === 4 ? nums : [nums[0]!, nums[1]!, nums[3]!, nums[4]!];
  if (south! > north!) throw new InvalidParameterValue(parameter, `minLat ${south} is greater than maxLat ${north}`);
  if (south! < -90 || north! > 90)
    throw new InvalidParameterValue(parameter, `latitudes must lie in [-90, 90], got ${south}..${north}`);
  if (west! < -180 || west! > 180 || east! < -180 || east! > 180) {
    throw new InvalidParameterValue(parameter, `longitudes must lie in [-180, 180], got ${west}..${east}`);
  }
  return { west: west!, south: south!, east: east!, north: north! };
}

/** Longitude ranges of a box, split in two when it crosses the antimeridian. */
export function lonRanges(b: BBox): Array<[number, number]> {
  return b.west <= b.east
    ? [[b.west, b.east]]
    : [
        [b.west, 180],
        [-180, b.east],
      ];
}

function normLon(lon: number): number {
  return lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
}

export function containsPoint(b: BBox, lon: number, lat: number): boolean {
  if (lat < b.south || lat > b.north) return false;
  const x = normLon(lon);
  return b.west <= b.east ? x >= b.west && x <= b.east : x >= b.west || x <= b.east;
}

/** Whether two boxes intersect, with `b` possibly crossing the antimeridian. */
export function intersectsBox(b: BBox, w: number, s: number, e: number, n: number): boolean {
  if (n < b.south || s > b.north) return false;
  return lonRanges(b).some(([lo, hi]) => !(e < lo || w > hi));
}

/** Whether a segment intersects a box (Liang–Barsky clipping); used for trajectory lines. */
function segmentIntersectsBox(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  w: number,
  s: number,
  e: number,
  n: number,
): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const edges: Array<[number, number]> = [
    [-dx, x0 - w],
    [dx, e - x0],
    [-dy, y0 - s],
    [dy, n - y0],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false;
    } else {
      const r = q / p;
      if (p < 0) {
        if (r > t1) return false;
        if (r > t0) t0 = r;
      } else {
        if (r < t0) return false;
        if (r < t1) t1 = r;
      }
    }
  }
  return true;
}

export function lineIntersectsBBox(b: BBox, coords: ReadonlyArray<readonly [number, number]>): boolean {
  for (const [lo, hi] of lonRanges(b)) {
    for (let i = 0; i < coords.length; i++) {
      const [x0, y0] = coords[i]!;
      const [x1, y1] = coords[Math.min(i + 1, coords.length - 1)]!;
      if (segmentIntersectsBox(normLon(x0), y0, normLon(x1), y1, lo, b.south, hi, b.north)) return true;
    }
  }
  return false;
}
