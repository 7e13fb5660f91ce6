import { InvalidParameterValue } from '../errors.js';
import { parseGeometry, boxPolygon, type GeoJsonGeometry, type Position } from '../geometry.js';
import {
  FILTER,
  TEMPORAL_OPS,
  type ComparisonOp,
  type Cql2Literal,
  type Cql2Node,
  type Cql2Property,
  type TemporalOp,
} from './ast.js';
import { dateLiteral, intervalLiteral, timestampLiteral } from './literals.js';

type Token =
  | { t: 'word'; v: string; pos: number }
  | { t: 'qname'; v: string; pos: number }
  | { t: 'string'; v: string; pos: number }
  | { t: 'number'; v: number; pos: number }
  | { t: 'punct'; v: string; pos: number }
  | { t: 'end'; pos: number };

function fail(pos: number, msg: string): never {
  throw new InvalidParameterValue(FILTER, `CQL2 text, at character ${pos + 1}: ${msg}`);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) fail(i, 'unterminated string');
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j++];
      }
      out.push({ t: 'string', v: s, pos: i });
      i = j + 1;
    } else if (c === '"') {
      const j = src.indexOf('"', i + 1);
      if (j < 0) fail(i, 'unterminated quoted property name');
      out.push({ t: 'qname', v: src.slice(i + 1, j), pos: i });
      i = j + 1;
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '+' || c === '.') && /[0-9.]/.test(src[i + 1] ?? ''))) {
      const m = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i))!;
      out.push({ t: 'number', v: Number(m[0]), pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_:\u00C0-\uFFFF]/.test(c)) {
      const m = /^[A-Za-z_:\u00C0-\uFFFF][A-Za-z0-9_:.\u00C0-\uFFFF]*/.exec(src.slice(i))!;
      out.push({ t: 'word', v: m[0], pos: i });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (two === '<>' || two === '<=' || two === '>=' || two === '!=') {
        out.push({ t: 'punct', v: two === '!=' ? '<>' : two, pos: i });
        i += 2;
      } else if ('()=<>,[]'.includes(c)) {
        out.push({ t: 'punct', v: c, pos: i });
        i++;
      } else {
        fail(i, `unexpected character '${c}'`);
      }
    }
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

const GEOMETRY_WORDS = new Set([
  'POINT',
  'LINESTRING',
  'POLYGON',
  'MULTIPOINT',
  'MULTILINESTRING',
  'MULTIPOLYGON',
  'GEOMETRYCOLLECTION',
  'BBOX',
]);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'LIKE', 'BETWEEN', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE']);

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token {
    return this.toks[this.i]!;
  }

  private next(): Token {
    return this.toks[this.i++]!;
  }

  private isWord(v: string): boolean {
    const t = this.peek();
    return t.t === 'word' && t.v.toUpperCase() === v;
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t.t === 'punct' && t.v === v;
  }

  private expectPunct(v: string): void {
    const t = this.next();
    if (t.t !== 'punct' || t.v !== v) fail(t.pos, `expected '${v}'`);
  }

  private expectWord(v: string): void {
    const t = this.next();
    if (t.t !== 'word' || t.v.toUpperCase() !== v) fail(t.pos, `expected ${v}`);
  }

  parse(): Cql2Node {
    const n = this.or();
    const t = this.peek();
    if (t.t !== 'end') fail(t.pos, 'unexpected text after the end of the expression');
    return n;
  }

  private or(): Cql2Node {
    const args = [this.and()];
    while (this.isWord('OR')) {
      this.next();
      args.push(this.and());
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  }

  private and(): Cql2Node {
    const args = [this.not()];
    while (this.isWord('AND')) {
      this.next();
      args.push(this.not());
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  }

  private not(): Cql2Node {
    if (this.isWord('NOT')) {
      this.next();
      return { op: 'not', arg: this.not() };
    }
    return this.primary();
  }

  private primary(): Cql2Node {
    const t = this.peek();
    if (this.isPunct('(')) {
      this.next();
      const n = this.or();
      this.expectPunct(')');
      return n;
    }
    if (t.t === 'word') {
      const up = t.v.toUpperCase();
      if (up === 'TRUE' || up === 'FALSE') {
        this.next();
        return { op: 'literal', value: up === 'TRUE' };
      }
      if (up === 'S_INTERSECTS') return this.spatial();
      if (/^S_[A-Z]+$/.test(up)) fail(t.pos, `${up} is not supported: only S_INTERSECTS (basic spatial functions)`);
      if ((TEMPORAL_OPS as readonly string[]).includes(t.v.toLowerCase())) return this.temporal();
      if (/^A_[A-Z]+$/.test(up)) fail(t.pos, `${up} is not supported (no array functions)`);
      if (up === 'CASEI' || up === 'ACCENTI') fail(t.pos, `${up}() is not supported`);
    }
    return this.predicate();
  }

  private property(): Cql2Property {
    const t = this.next();
    if (t.t === 'qname') return { kind: 'property', name: t.v };
    if (t.t === 'word' && !KEYWORDS.has(t.v.toUpperCase())) {
      if (this.isPunct('(')) fail(t.pos, `unknown function ${t.v}()`);
      return { kind: 'property', name: t.v };
    }
    fail(t.pos, 'expected a property name on the left of the predicate');
  }

  private predicate(): Cql2Node {
    const property = this.property();
    let negate = false;
    if (this.isWord('NOT')) {
      this.next();
      negate = true;
    }
    const wrap = (n: Cql2Node): Cql2Node => (negate ? { op: 'not', arg: n } : n);
    const t = this.peek();
    if (this.isWord('LIKE')) {
      this.next();
      const p = this.next();
      if (p.t !== 'string') fail(p.pos, 'LIKE needs a quoted pattern');
      return wrap({ op: 'like', property, pattern: p.v });
    }
    if (this.isWord('BETWEEN')) {
      this.next();
      const low = this.literal();
      this.expectWord('AND');
      const high = this.literal();
      return wrap({ op: 'between', property, low, high });
    }
    if (this.isWord('IN')) {
      this.next();
      this.expectPunct('(');
      const values = [this.literal()];
      while (this.isPunct(',')) {
        this.next();
        values.push(this.literal());
      }
      this.expectPunct(')');
      return wrap({ op: 'in', property, values });
    }
    if (negate) fail(t.pos, 'NOT must be followed by LIKE, BETWEEN or IN here');
    if (this.isWord('IS')) {
      this.next();
      let not = false;
      if (this.isWord('NOT')) {
        this.next();
        not = true;
      }
      this.expectWord('NULL');
      const n: Cql2Node = { op: 'isNull', property };
      return not ? { op: 'not', arg: n } : n;
    }
    const op = this.next();
    if (op.t !== 'punct' || !['=', '<>', '<', '<=', '>', '>='].includes(op.v))
      fail(op.pos, 'expected a comparison operator (=, <>, <, <=, >, >=), LIKE, BETWEEN, IN or IS NULL');
    return { op: 'compare', cmp: op.v as ComparisonOp, property, value: this.literal() };
  }

  private literal(): Cql2Literal {
    const t = this.next();
    if (t.t === 'string') return { kind: 'string', value: t.v };
    if (t.t === 'number') return { kind: 'number', value: t.v };
    if (t.t === 'word') {
      const up = t.v.toUpperCase();
      if (up === 'TRUE' || up === 'FALSE') return { kind: 'boolean', value: up === 'TRUE' };
      if (up === 'TIMESTAMP' || up === 'DATE') {
        this.expectPunct('(');
        const s = this.next();
        if (s.t !== 'string') fail(s.pos, `${up}() needs a quoted value`);
        this.expectPunct(')');
        return up === 'DATE' ? dateLiteral(s.v) : timestampLiteral(s.v);
      }
      if (up === 'INTERVAL') {
        this.expectPunct('(');
        const a = this.intervalArg();
        this.expectPunct(',');
        const b = this.intervalArg();
        this.expectPunct(')');
        return intervalLiteral(a, b);
      }
      if (GEOMETRY_WORDS.has(up)) {
        this.i--;
        return { kind: 'geometry', value: this.geometry() };
      }
      if (this.isPunct('(')) fail(t.pos, `unknown function ${t.v}()`);
    }
    fail(t.pos, 'expected a literal value (a quoted string, a number, TRUE/FALSE, DATE(), TIMESTAMP() or INTERVAL())');
  }

  private intervalArg(): Cql2Literal | string {
    const t = this.peek();
    if (t.t === 'string') {
      this.next();
      return t.v;
    }
    const lit = this.literal();
    if (lit.kind !== 'instant')
      fail(t.pos, "INTERVAL() takes DATE(), TIMESTAMP() or quoted instants ('..' for an open end)");
    return lit;
  }

  private spatial(): Cql2Node {
    this.next();
    this.expectPunct('(');
    const property = this.property();
    this.expectPunct(',');
    const geometry = this.geometry();
    this.expectPunct(')');
    return { op: 's_intersects', property, geometry };
  }

  private temporal(): Cql2Node {
    const op = this.next() as Token & { v: string };
    this.expectPunct('(');
    const property = this.property();
    this.expectPunct(',');
    const start = this.peek();
    const value = this.literal();
    if (value.kind !== 'instant' && value.kind !== 'interval')
      fail(start.pos, `${op.v.toUpperCase()} needs DATE(), TIMESTAMP() or INTERVAL() as its second argument`);
    this.expectPunct(')');
    return { op: op.v.toLowerCase() as TemporalOp, property, value };
  }

  private num(): number {
    const t = this.next();
    if (t.t !== 'number') fail(t.pos, 'expected a coordinate');
    return t.v;
  }

  /** x y [z]: the third ordinate is read and dropped (2-D predicates). */
  private pos(): Position {
    const x = this.num();
    const y = this.num();
    if (this.peek().t === 'number') this.next();
    return [x, y];
  }

  private list<T>(item: () => T): T[] {
    this.expectPunct('(');
    const out = [item()];
    while (this.isPunct(',')) {
      this.next();
      out.push(item());
    }
    this.expectPunct(')');
    return out;
  }

  private geometry(): GeoJsonGeometry {
    const t = this.next();
    if (t.t !== 'word' || !GEOMETRY_WORDS.has(t.v.toUpperCase()))
      fail(t.pos, 'expected a geometry (WKT such as POINT(1 2) or POLYGON((...)), or BBOX(w,s,e,n))');
    const type = t.v.toUpperCase();
    if (this.isWord('Z')) this.next();
    const ring = () => this.list(() => this.pos());
    // MULTIPOINT accepts both MULTIPOINT(1 2, 3 4) and MULTIPOINT((1 2), (3 4)).
    const mpoint = () => {
      if (this.isPunct('(')) {
        this.next();
        const p = this.pos();
        this.expectPunct(')');
        return p;
      }
      return this.pos();
    };
    let raw: unknown;
    switch (type) {
      case 'BBOX': {
        const nums = this.list(() => this.num());
        if (nums.length !== 4 && nums.length !== 6) fail(t.pos, 'BBOX() takes 4 (or 6) numbers');
        const b = nums.length === 4 ? nums : [nums[0]!, nums[1]!, nums[3]!, nums[4]!];
        return boxPolygon(b as [number, number, number, number]);
      }
      case 'POINT':
        raw = { type: 'Point', coordinates: this.list(() => this.pos())[0] };
        break;
      case 'LINESTRING':
        raw = { type: 'LineString', coordinates: ring() };
        break;
      case 'POLYGON':
        raw = { type: 'Polygon', coordinates: this.list(ring) };
        break;
      case 'MULTIPOINT':
        raw = { type: 'MultiPoint', coordinates: this.list(mpoint) };
        break;
      case 'MULTILINESTRING':
        raw = { type: 'MultiLineString', coordinates: this.list(ring) };
        break;
      case 'MULTIPOLYGON':
        raw = { type: 'MultiPolygon', coordinates: this.list(() => this.list(ring)) };
        break;
      default:
        raw = { type: 'GeometryCollection', geometries: this.list(() => this.geometry()) };
    }
    return parseGeometry(raw, FILTER);
  }
}

/** Parse a CQL2 text filter; every error is a 400 naming `filter` with the character position. */
export function parseCql2Text(text: string): Cql2Node {
  if (!text.trim()) throw new InvalidParameterValue(FILTER, 'empty CQL2 expression');
  return new Parser(tokenize(text)).parse();
}
