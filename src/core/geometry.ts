import { InvalidParameterValue } from './errors.js';

/** GeoJSON geometries (RFC 7946, CRS84 lon/lat) as search parameters and CQL2 literals carry them. */
export type Position = [number, number];
export type GeoJsonGeometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] }
  | { type: 'GeometryCollection'; geometries: GeoJsonGeometry[] };

export type Box = [west: number, south: number, east: number, north: number];

function position(v: unknown, parameter: string): Position {
  if (!Array.isArray(v) || v.length < 2 || !v.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    throw new InvalidParameterValue(
      parameter,
      `a position must be an array of 2 or 3 numbers, got ${JSON.stringify(v)?.slice(0, 80)}`,
    );
  }
  const [x, y] = v as number[];
  if (x! < -180 || x! > 180 || y! < -90 || y! > 90)
    throw new InvalidParameterValue(parameter, `position ${x},${y} lies outside lon [-180, 180], lat [-90, 90]`);
  return [x!, y!];
}

function positions(v: unknown, parameter: string, min: number): Position[] {
  if (!Array.isArray(v) || v.length < min)
    throw new InvalidParameterValue(parameter, `expected an array of at least ${min} positions`);
  return v.map((p) => position(p, parameter));
}

function ring(v: unknown, parameter: string): Position[] {
  const r = positions(v, parameter, 4);
  const [a, b] = [r[0]!, r[r.length - 1]!];
  if (a[0] !== b[0] || a[1] !== b[1])
    throw new InvalidParameterValue(parameter, 'a polygon ring must be closed (first position = last position)');
  return r;
}

/** Check a GeoJSON geometry object (from a request) and return it typed; errors name the parameter. */
export function parseGeometry(v: unknown, parameter: string): GeoJsonGeometry {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidParameterValue(parameter, 'expected a GeoJSON geometry object');
  const g = v as { type?: unknown; coordinates?: unknown; geometries?: unknown };
  const arr = (x: unknown): unknown[] => {
    if (!Array.isArray(x)) throw new InvalidParameterValue(parameter, `${String(g.type)} coordinates must be an array`);
    return x;
  };
  switch (g.type) {
    case 'Point':
      return { type: 'Point', coordinates: position(g.coordinates, parameter) };
    case 'MultiPoint':
      return { type: 'MultiPoint', coordinates: positions(g.coordinates, parameter, 1) };
    case 'LineString':
      return { type: 'LineString', coordinates: positions(g.coordinates, parameter, 2) };
    case 'MultiLineString':
      return { type: 'MultiLineString', coordinates: arr(g.coordinates).map((l) => positions(l, parameter, 2)) };
    case 'Polygon':
      return { type: 'Polygon', coordinates: arr(g.coordinates).map((r) => ring(r, parameter)) };
    case 'MultiPolygon':
      return {
        type: 'MultiPolygon',
        coordinates: arr(g.coordinates).map((p) => arr(p).map((r) => ring(r, parameter))),
      };
    case 'GeometryCollection':
      return { type: 'GeometryCollection', geometries: arr(g.geometries).map((x) => parseGeometry(x, parameter)) };
    default:
      throw new InvalidParameterValue(parameter, `unknown GeoJSON geometry type ${JSON.stringify(g.type)}`);
  }
}

export function boxPolygon([w, s, e, n]: Box): GeoJsonGeometry {
  return {
    type: 'Polygon',
    coordinates: [
      [
        [w, s],
        [e, s],
        [e, n],
        [w, n],
        [w, s],
      ],
    ],
  };
}

function eachPosition(g: GeoJsonGeometry, fn: (p: Position) => void): void {
  switch (g.type) {
    case 'Point':
      fn(g.coordinates);
      break;
    case 'MultiPoint':
    case 'LineString':
      g.coordinates.forEach(fn);
      break;
    case 'MultiLineString':
    case 'Polygon':
      g.coordinates.forEach((l) => l.forEach(fn));
      break;
    case 'MultiPolygon':
      g.coordinates.forEach((p) => p.forEach((l) => l.forEach(fn)));
      break;
    case 'GeometryCollection':
      g.geometries.forEach((x) => eachPosition(x, fn));
  }
}

export function geometryBox(g: GeoJsonGeometry): Box | undefined {
  let w = Infinity,
    s = Infinity,
    e = -Infinity,
    n = -Infinity;
  eachPosition(g, ([x, y]) => {
    if (x < w) w = x;
    if (x > e) e = x;
    if (y < s) s = y;
    if (y > n) n = y;
  });
  return Number.isFinite(w) ? [w, s, e, n] : undefined;
}

// Planar predicates in lon/lat, as the STAC API and CQL2 basic spatial functions specify for CRS84.

type Segment = [Position, Position];

function orient(a: Position, b: Position, c: Position): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function onSegment(a: Position, b: Position, p: Position): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] &&
    p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] &&
    p[1] <= Math.max(a[1], b[1])
  );
}

function segmentsIntersect([a, b]: Segment, [c, d]: Segment): boolean {
  const o1 = orient(a, b, c),
    o2 = orient(a, b, d),
    o3 = orient(c, d, a),
    o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(a, b, c)) ||
    (o2 === 0 && onSegment(a, b, d)) ||
    (o3 === 0 && onSegment(c, d, a)) ||
    (o4 === 0 && onSegment(c, d, b))
  );
}

/** Even-odd rule over every ring, so holes exclude; a point on an edge counts as inside. */
function pointInPolygon(p: Position, rings: Position[][]): boolean {
  let inside = false;
  for (const r of rings) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const a = r[i]!,
        b = r[j]!;
      if (orient(a, b, p) === 0 && onSegment(a, b, p)) return true;
      if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0])
        inside = !inside;
    }
  }
  return inside;
}

interface Parts {
  points: Position[];
  segments: Segment[];
  polygons: Position[][][];
}

function parts(g: GeoJsonGeometry, out: Parts = { points: [], segments: [], polygons: [] }): Parts {
  const lineSegs = (l: Position[]) => {
    if (l.length === 1) out.points.push(l[0]!);
    for (let i = 1; i < l.length; i++) out.segments.push([l[i - 1]!, l[i]!]);
  };
  switch (g.type) {
    case 'Point':
      out.points.push(g.coordinates);
      break;
    case 'MultiPoint':
      out.points.push(...g.coordinates);
      break;
    case 'LineString':
      lineSegs(g.coordinates);
      break;
    case 'MultiLineString':
      g.coordinates.forEach(lineSegs);
      break;
    case 'Polygon':
      out.polygons.push(g.coordinates);
      g.coordinates.forEach(lineSegs);
      break;
    case 'MultiPolygon':
      for (const p of g.coordinates) {
        out.polygons.push(p);
        p.forEach(lineSegs);
      }
      break;
    case 'GeometryCollection':
      g.geometries.forEach((x) => parts(x, out));
  }
  return out;
}

/** A geometry with its box and parts worked out once, for testing it against many others. */
export interface Prepared {
  geometry: GeoJsonGeometry;
  box: Box | undefined;
  parts: Parts;
  /** An axis-aligned rectangle: intersecting it is a box test. */
  isBox: boolean;
}

export function prepare(g: GeoJsonGeometry): Prepared {
  const box = geometryBox(g);
  const isBox =
    g.type === 'Polygon' &&
    g.coordinates.length === 1 &&
    g.coordinates[0]!.length === 5 &&
    box !== undefined &&
    g.coordinates[0]!.every(([x, y]) => (x === box[0] || x === box[2]) && (y === box[1] || y === box[3]));
  return { geometry: g, box, parts: parts(g), isBox };
}

/** Whether a point lies in a prepared geometry (on its boundary counts). */
export function pointHits(q: Prepared, x: number, y: number): boolean {
  const b = q.box;
  if (!b || x < b[0] || x > b[2] || y < b[1] || y > b[3]) return false;
  if (q.isBox) return true;
  const p: Position = [x, y];
  return (
    q.parts.points.some((o) => o[0] === x && o[1] === y) ||
    q.parts.segments.some(([s, e]) => orient(s, e, p) === 0 && onSegment(s, e, p)) ||
    q.parts.polygons.some((poly) => pointInPolygon(p, poly))
  );
}

function anyVertexIn(p: Parts, [w, s, e, n]: Box): boolean {
  const inside = ([x, y]: Position) => x >= w && x <= e && y >= s && y <= n;
  return p.points.some(inside) || p.segments.some(([a, b]) => inside(a) || inside(b));
}

/**
 * Prepared geometries by their GeoJSON text, the least recently used dropped past a budget of text:
 * a search tests the same stored tracks again and again, and parsing and preparing a track of
 * thousands of points costs far more than finding its text in a map.
 */
export class PreparedByText {
  private readonly cache = new Map<string, Prepared>();
  private chars = 0;

  constructor(private readonly maxChars = 16 << 20) {}

  get(text: string): Prepared {
    let p = this.cache.get(text);
    if (p) {
      this.cache.delete(text);
      this.cache.set(text, p);
      return p;
    }
    p = prepare(JSON.parse(text) as GeoJsonGeometry);
    if (text.length > this.maxChars) return p;
    this.cache.set(text, p);
    this.chars += text.length;
    while (this.chars > this.maxChars) {
      const [oldest] = this.cache.keys();
      this.cache.delete(oldest!);
      this.chars -= oldest!.length;
    }
    return p;
  }
}

/** Whether two geometries share at least one point (DE-9IM intersects), planar. */
export function intersects(a: GeoJsonGeometry | Prepared, b: GeoJsonGeometry | Prepared): boolean {
  const A = 'parts' in a ? a : prepare(a);
  const B = 'parts' in b ? b : prepare(b);
  const ba = A.box;
  const bb = B.box;
  if (!ba || !bb || ba[2] < bb[0] || bb[2] < ba[0] || ba[3] < bb[1] || bb[3] < ba[1]) return false;
  // Against a box (a bbox query), a vertex of the other inside it decides at once: a track that
  // enters the box is found at its first vertex there, without testing every pair of segments.
  if ((A.isBox && anyVertexIn(B.parts, ba)) || (B.isBox && anyVertexIn(A.parts, bb))) return true;
  const pa = A.parts;
  const pb = B.parts;
  const pointsEqualOrOn = (pts: Position[], other: Parts) =>
    pts.some(
      (p) =>
        other.points.some((q) => q[0] === p[0] && q[1] === p[1]) ||
        other.segments.some(([s, e]) => orient(s, e, p) === 0 && onSegment(s, e, p)) ||
        other.polygons.some((poly) => pointInPolygon(p, poly)),
    );
  if (pointsEqualOrOn(pa.points, pb) || pointsEqualOrOn(pb.points, pa)) return true;
  for (const s of pa.segments) for (const t of pb.segments) if (segmentsIntersect(s, t)) return true;
  // No boundary crossing: one may still lie wholly inside a polygon of the other.
  const firstVertex = (p: Parts) => p.segments.map((s) => s[0]);
  if (firstVertex(pa).some((v) => pb.polygons.some((poly) => pointInPolygon(v, poly)))) return true;
  if (firstVertex(pb).some((v) => pa.polygons.some((poly) => pointInPolygon(v, poly)))) return true;
  return false;
}
