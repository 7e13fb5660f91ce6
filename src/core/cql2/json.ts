import { InvalidParameterValue } from '../errors.js';
import { boxPolygon, parseGeometry, type GeoJsonGeometry } from '../geometry.js';
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

function fail(msg: string): never {
  throw new InvalidParameterValue(FILTER, `CQL2 JSON: ${msg}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function property(v: unknown, op: string): Cql2Property {
  if (isObject(v) && typeof v['property'] === 'string') return { kind: 'property', name: v['property'] };
  return fail(`the first argument of '${op}' must be {"property": "<name>"}, got ${JSON.stringify(v)?.slice(0, 80)}`);
}

function geometry(v: unknown): GeoJsonGeometry {
  if (isObject(v) && Array.isArray(v['bbox']) && !('type' in v)) {
    const b = v['bbox'] as unknown[];
    if ((b.length !== 4 && b.length !== 6) || !b.every((n) => typeof n === 'number'))
      fail('{"bbox": [...]} takes 4 or 6 numbers');
    const n = b as number[];
    return boxPolygon(n.length === 4 ? [n[0]!, n[1]!, n[2]!, n[3]!] : [n[0]!, n[1]!, n[3]!, n[4]!]);
  }
  return parseGeometry(v, FILTER);
}

function literal(v: unknown): Cql2Literal {
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (typeof v === 'number' && Number.isFinite(v)) return { kind: 'number', value: v };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v };
  if (isObject(v)) {
    if (typeof v['timestamp'] === 'string') return timestampLiteral(v['timestamp']);
    if (typeof v['date'] === 'string') return dateLiteral(v['date']);
    if (Array.isArray(v['interval']) && v['interval'].length === 2) {
      const [a, b] = (v['interval'] as unknown[]).map((x) => (typeof x === 'string' ? x : literal(x)));
      return intervalLiteral(a!, b!);
    }
    if ('type' in v || 'bbox' in v) return { kind: 'geometry', value: geometry(v) };
    if ('property' in v) fail('property-property comparisons are not supported: the second argument must be a literal');
    if ('op' in v) fail(`functions and nested operators are not supported as values ('${String(v['op'])}')`);
  }
  return fail(`unsupported literal ${JSON.stringify(v)?.slice(0, 80)}`);
}

function args(node: Record<string, unknown>, op: string, n?: number): unknown[] {
  const a = node['args'];
  if (!Array.isArray(a)) return fail(`'${op}' needs an "args" array`);
  if (n !== undefined && a.length !== n) fail(`'${op}' takes ${n} argument(s), got ${a.length}`);
  return a;
}

/** Parse a CQL2 JSON filter (already JSON-decoded) into the shared tree; errors name `filter`. */
export function parseCql2Json(v: unknown): Cql2Node {
  if (typeof v === 'boolean') return { op: 'literal', value: v };
  if (!isObject(v)) return fail(`expected an object with "op" and "args", got ${JSON.stringify(v)?.slice(0, 80)}`);
  const op = typeof v['op'] === 'string' ? v['op'].toLowerCase() : fail('missing "op"');
  switch (op) {
    case 'and':
    case 'or': {
      const a = args(v, op);
      if (a.length < 2) fail(`'${op}' takes at least 2 arguments`);
      return { op, args: a.map(parseCql2Json) };
    }
    case 'not':
      return { op: 'not', arg: parseCql2Json(args(v, op, 1)[0]) };
    case '=':
    case '<>':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [p, x] = args(v, op, 2);
      return { op: 'compare', cmp: op as ComparisonOp, property: property(p, op), value: literal(x) };
    }
    case 'like': {
      const [p, x] = args(v, op, 2);
      if (typeof x !== 'string') fail("'like' needs a string pattern (casei/accenti are not supported)");
      return { op: 'like', property: property(p, op), pattern: x };
    }
    case 'between': {
      const a = args(v, op);
      // Early drafts wrapped the bounds in an array: accept both shapes.
      const [p, lo, hi] =
        a.length === 2 && Array.isArray(a[1])
          ? [a[0], a[1][0], a[1][1]]
          : a.length === 3
            ? a
            : fail("'between' takes a property and two bounds");
      return { op: 'between', property: property(p, op), low: literal(lo), high: literal(hi) };
    }
    case 'in': {
      const [p, list] = args(v, op, 2);
      if (!Array.isArray(list) || list.length === 0) fail("'in' needs a non-empty array of values");
      return { op: 'in', property: property(p, op), values: list.map(literal) };
    }
    case 'isnull':
      return { op: 'isNull', property: property(args(v, op, 1)[0], op) };
    case 's_intersects': {
      const [p, g] = args(v, op, 2);
      return { op: 's_intersects', property: property(p, op), geometry: geometry(g) };
    }
    default: {
      if ((TEMPORAL_OPS as readonly string[]).includes(op)) {
        const [p, x] = args(v, op, 2);
        const value = literal(x);
        if (value.kind !== 'instant' && value.kind !== 'interval')
          fail(`'${op}' needs {"timestamp"}, {"date"} or {"interval"} as its second argument`);
        return { op: op as TemporalOp, property: property(p, op), value };
      }
      if (op.startsWith('s_')) fail(`'${op}' is not supported: only s_intersects (basic spatial functions)`);
      return fail(`unsupported operator '${op}'`);
    }
  }
}
