import { InvalidParameterValue } from '../errors.js';

/** One vertex: x = longitude, y = latitude (CRS84); z and m only when the text carries them. */
export interface Position {
  x: number;
  y: number;
  z?: number;
  /** LINESTRINGM/ZM measure: EDR uses it for the vertex time, in epoch seconds. */
  m?: number;
}

export type Ring = Position[];

export type WktGeometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Ring[] }
  | { type: 'MultiPolygon'; coordinates: Ring[][] };

export type WktType = WktGeometry['type'];

type Dims = '' | 'Z' | 'M' | 'ZM';

const TYPES: Record<string, WktType> = {
  POINT: 'Point',
  MULTIPOINT: 'MultiPoint',
  LINESTRING: 'LineString',
  MULTILINESTRING: 'MultiLineString',
  POLYGON: 'Polygon',
  MULTIPOLYGON: 'MultiPolygon',
};

/**
 * A small recursive-descent reader for the WKT subset EDR uses. Errors say what was expected and
 * where (character offset), because a user building a URL by hand needs to find the typo.
 */
class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    readonly parameter: string,
  ) {}

  fail(detail: string): never {
    const near = this.text.slice(Math.max(0, this.pos - 10), this.pos + 10);
    throw new InvalidParameterValue(
      this.parameter,
      `invalid WKT: ${detail} at character ${this.pos + 1} (near '${near}')`,
    );
  }

  skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  peek(): string {
    this.skip();
    return this.text[this.pos] ?? '';
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}'${this.pos >= this.text.length ? ' but the text ended' : ''}`);
    this.pos++;
  }

  word(): string {
    this.skip();
    const m = /^[A-Za-z]+/.exec(this.text.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0].toUpperCase();
  }

  number(): number {
    this.skip();
    const m = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

function position(s: Scanner, dims: Dims): Position {
  const nums = [s.number(), s.number()];
  while (/[-+.\d]/.test(s.peek())) nums.push(s.number());
  const want = dims === '' ? undefined : 2 + dims.length;
  if (want !== undefined && nums.length !== want)
    s.fail(`expected ${want} numbers per position for ${dims}, got ${nums.length}`);
  if (nums.length > 4) s.fail(`a position has at most 4 numbers, got ${nums.length}`);
  const [x, y] = nums as [number, number];
  if (x < -180 || x > 360) s.fail(`longitude ${x} is outside -180..360`);
  if (y < -90 || y > 90) s.fail(`latitude ${y} is outside -90..90`);
  const p: Position = { x: x > 180 ? x - 360 : x, y };
  // Without a tag, 3 numbers are x y z and 4 are x y z m (the OGC Simple Features reading).
  if (dims === 'M') p.m = nums[2]!;
  else if (nums.length >= 3) p.z = nums[2]!;
  if (nums.length === 4) p.m = nums[3]!;
  return p;
}

function list<T>(s: Scanner, item: () => T): T[] {
  s.expect('(');
  const out = [item()];
  while (s.peek() === ',') {
    s.pos++;
    out.push(item());
  }
  s.expect(')');
  return out;
}

function ring(s: Scanner, dims: Dims): Ring {
  const r = list(s, () => position(s, dims));
  if (r.length < 4) s.fail(`a polygon ring needs at least 4 positions (closed), got ${r.length}`);
  const a = r[0]!;
  const b = r[r.length - 1]!;
  if (a.x !== b.x || a.y !== b.y)
    s.fail(`a polygon ring must be closed: its first (${a.x} ${a.y}) and last (${b.x} ${b.y}) positions differ`);
  return r;
}

/** MULTIPOINT accepts both `(1 2, 3 4)` and `((1 2), (3 4))`. */
function multiPointMember(s: Scanner, dims: Dims): Position {
  if (s.peek() !== '(') return position(s, dims);
  s.pos++;
  const p = position(s, dims);
  s.expect(')');
  return p;
}

/**
 * Parse WKT: POINT, MULTIPOINT, LINESTRING, MULTILINESTRING, POLYGON, MULTIPOLYGON, each with an
 * optional Z, M or ZM tag (`LINESTRINGZM`, `LINESTRING ZM`). Invalid text is a 400 naming `parameter`.
 */
export function parseWkt(text: string, parameter = 'coords'): WktGeometry {
  const s = new Scanner(text, parameter);
  let head = s.word();
  let dims: Dims = '';
  for (const tag of ['ZM', 'Z', 'M'] as const) {
    if (head.length > tag.length && head.endsWith(tag) && TYPES[head.slice(0, -tag.length)]) {
      dims = tag;
      head = head.slice(0, -tag.length);
      break;
    }
  }
  const type = TYPES[head];
  if (!type) {
    throw new InvalidParameterValue(
      parameter,
      `invalid WKT: '${text.slice(0, 40)}' does not start with POINT, MULTIPOINT, LINESTRING, MULTILINESTRING, POLYGON or MULTIPOLYGON`,
    );
  }
  if (dims === '') {
    const save = s.pos;
    const tag = s.word();
    if (tag === 'Z' || tag === 'M' || tag === 'ZM') dims = tag;
    else if (tag === 'EMPTY') s.fail('empty geometries select nothing');
    else s.pos = save;
  }
  let g: WktGeometry;
  switch (type) {
    case 'Point':
      s.expect('(');
      g = { type, coordinates: position(s, dims) };
      s.expect(')');
      break;
    case 'MultiPoint':
      g = { type, coordinates: list(s, () => multiPointMember(s, dims)) };
      break;
    case 'LineString': {
      const coordinates = list(s, () => position(s, dims));
      if (coordinates.length < 2) s.fail('a LINESTRING needs at least 2 positions');
      g = { type, coordinates };
      break;
    }
    case 'MultiLineString':
      g = { type, coordinates: list(s, () => list(s, () => position(s, dims))) };
      break;
    case 'Polygon':
      g = { type, coordinates: list(s, () => ring(s, dims)) };
      break;
    case 'MultiPolygon':
      g = { type, coordinates: list(s, () => list(s, () => ring(s, dims))) };
      break;
  }
  if (s.peek() !== '') s.fail('unexpected text after the geometry');
  return g;
}

/** Every vertex of a geometry, for bounding boxes. */
export function vertices(g: WktGeometry): Position[] {
  switch (g.type) {
    case 'Point':
      return [g.coordinates];
    case 'MultiPoint':
    case 'LineString':
      return g.coordinates;
    case 'MultiLineString':
    case 'Polygon':
      return g.coordinates.flat();
    case 'MultiPolygon':
      return g.coordinates.flat(2);
  }
}

/** The polygons of a POLYGON or MULTIPOLYGON (each a list of rings, the first the shell). */
export function polygonsOf(g: WktGeometry): Ring[][] {
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}
