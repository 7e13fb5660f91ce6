import { InvalidParameterValue } from '../../core/errors.js';
import type { ComparisonOp, Cql2Literal, Cql2Node, Cql2Property, TemporalOp } from '../../core/cql2/ast.js';
import { FILTER } from '../../core/cql2/ast.js';
import { parseInstant } from '../../core/query/datetime.js';
import type { GeoJsonGeometry } from '../../core/geometry.js';
import { boxPolygon, geometryBox, prepare } from '../../core/geometry.js';
import { lonRanges, type BBox } from '../../core/query/bbox.js';
import type { JsonType } from './types.js';

/** A piece of WHERE clause with its bound values, in order. */
export interface Sql {
  sql: string;
  params: Array<string | number>;
}

/**
 * What differs between SQL engines, kept to these few pieces: the rest of the translation (names,
 * types, comparisons, Allen's relations) is plain SQL over the items table's columns
 * (i.s, i.e, i.sk, i.id, i.cid, i.minx…i.maxy, i.gtype, i.geom, i.props).
 */
export interface SqlDialect {
  /** The value of one property of the item's JSON properties (typed where the engine needs it: booleans as 1/0). */
  property: (name: string, type?: JsonType) => string;
  /** Constant conditions (default 1 and 0). */
  true?: string;
  false?: string;
  /** An exact intersection test of the item's geometry with `g` (default: the stored box and spatialHit). */
  intersects?: (g: GeoJsonGeometry) => Sql;
  /** CQL2 LIKE (% _ and \ escapes, case-sensitive) on a column: SQL with one placeholder, and its bound value. */
  like: (column: string, pattern: string) => Sql;
  /** Exact test of the item's geometry against a registered query geometry (one placeholder: the handle). */
  spatialHit: string;
}

export const SQLITE: SqlDialect = {
  property: (name) => `json_extract(i.props, '$."${name.replace(/["'\\]/g, '')}"')`,
  like: (column, pattern) => ({ sql: `${column} GLOB ?`, params: [likeToGlob(pattern)] }),
  spatialHit: 'odas_hit(?, i.gtype, i.minx, i.miny, i.maxx, i.maxy, i.geom)',
};

export interface CompileContext {
  /** Queryable properties of the collections searched, with their JSON types. */
  types: Record<string, JsonType>;
  /** Where clients find the queryables (named in the error for an unknown one). */
  queryablesHref?: string;
  /** SQL engine specifics (default: SQLite). */
  dialect?: SqlDialect;
  cidOf: (collectionId: string) => number | undefined;
  /** Makes a query geometry available to the odas_hit() SQL function; returns its handle. */
  registerGeometry: (g: GeoJsonGeometry) => number;
}

/** SQLite has no infinities in bound parameters worth trusting: open interval ends become huge values. */
/**
 * The exact shape of a query box for odas_hit: a polygon, or one per side of the antimeridian when the
 * box crosses it (west > east).
 */
export function bboxQueryGeometry(bbox: BBox): GeoJsonGeometry {
  const ranges = lonRanges(bbox);
  if (ranges.length === 1) return boxPolygon([bbox.west, bbox.south, bbox.east, bbox.north]);
  return {
    type: 'MultiPolygon',
    coordinates: ranges.map(
      ([lo, hi]) =>
        (boxPolygon([lo, bbox.south, hi, bbox.north]) as { coordinates: Array<Array<[number, number]>> }).coordinates,
    ),
  };
}

export const BIG = 1e300;
export const clampInf = (v: number): number => (v === Infinity ? BIG : v === -Infinity ? -BIG : v);

/** Core names every item has, besides its properties. */
export const CORE_QUERYABLES = ['id', 'collection', 'geometry', 'datetime', 'start_datetime', 'end_datetime'] as const;

type Target =
  | { kind: 'text'; sql: string }
  | { kind: 'collection' }
  | { kind: 'geometry' }
  /** [start, end] columns of the item's time (equal for an instant). */
  | { kind: 'time'; s: string; e: string }
  | { kind: 'json'; sql: string; type: JsonType };

function resolve(p: Cql2Property, ctx: CompileContext): Target {
  const name = p.name.replace(/^properties\./, '');
  switch (name) {
    case 'id':
      return { kind: 'text', sql: 'i.id' };
    case 'collection':
      return { kind: 'collection' };
    case 'geometry':
      return { kind: 'geometry' };
    case 'datetime':
      return { kind: 'time', s: 'i.s', e: 'i.e' };
    case 'start_datetime':
      return { kind: 'time', s: 'i.s', e: 'i.s' };
    case 'end_datetime':
      return { kind: 'time', s: 'i.e', e: 'i.e' };
  }
  const type = ctx.types[name];
  if (!type) {
    const known = [...new Set([...CORE_QUERYABLES, ...Object.keys(ctx.types)])].slice(0, 30).join(', ');
    throw new InvalidParameterValue(
      FILTER,
      `unknown queryable '${p.name}' (see ${ctx.queryablesHref ?? '/stac/queryables'}): ${known}`,
    );
  }
  return { kind: 'json', sql: (ctx.dialect ?? SQLITE).property(name, type), type };
}

/** A literal as a value comparable with the target column; a type mismatch is the client's error. */
function value(t: Target, lit: Cql2Literal, name: string): string | number {
  const mismatch = (want: string): never => {
    throw new InvalidParameterValue(
      FILTER,
      `'${name}' is ${want}: it cannot be compared with ${lit.kind === 'string' ? `'${lit.value}'` : `a ${lit.kind}`}`,
    );
  };
  if (t.kind === 'time') {
    if (lit.kind === 'instant') return lit.start;
    if (lit.kind === 'string') return parseInstant(lit.value, FILTER);
    return mismatch('a time (use TIMESTAMP() or DATE())');
  }
  if (t.kind === 'geometry') return mismatch('a geometry (use S_INTERSECTS)');
  if (t.kind === 'json' && (t.type === 'number' || t.type === 'integer')) {
    if (lit.kind === 'number') return lit.value;
    if (lit.kind === 'string' && lit.value.trim() !== '' && Number.isFinite(Number(lit.value)))
      return Number(lit.value);
    return mismatch(`a ${t.type}`);
  }
  if (t.kind === 'json' && t.type === 'boolean') {
    if (lit.kind === 'boolean') return lit.value ? 1 : 0;
    return mismatch('a boolean');
  }
  if (lit.kind === 'string') return lit.value;
  if (lit.kind === 'number' && t.kind === 'json') return lit.value;
  if (lit.kind === 'boolean' && t.kind === 'json') return lit.value ? 1 : 0;
  return mismatch('a string');
}

/** CQL2 LIKE (% _ and \ escapes, case-sensitive) as an SQLite GLOB pattern. */
export function likeToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const n = pattern[++i]!;
      out += n === '*' || n === '?' || n === '[' ? `[${n}]` : n;
    } else if (c === '%') out += '*';
    else if (c === '_') out += '?';
    else if (c === '*' || c === '?' || c === '[') out += `[${c}]`;
    else out += c;
  }
  return out;
}

function compareTime(t: Target & { kind: 'time' }, cmp: ComparisonOp, lit: Cql2Literal, name: string): Sql {
  const [a, b] =
    lit.kind === 'instant'
      ? [lit.start, lit.end]
      : lit.kind === 'string'
        ? [parseInstant(lit.value, FILTER), parseInstant(lit.value, FILTER)]
        : [value(t, lit, name), 0];
  // The property's own instant is its start column (datetime of a range item is its start).
  const c = t.s;
  switch (cmp) {
    case '=':
      return { sql: `(${c} >= ? AND ${c} <= ?)`, params: [a, b] };
    case '<>':
      return { sql: `(${c} < ? OR ${c} > ?)`, params: [a, b] };
    case '<':
      return { sql: `${c} < ?`, params: [a] };
    case '<=':
      return { sql: `${c} <= ?`, params: [b] };
    case '>':
      return { sql: `${c} > ?`, params: [b] };
    case '>=':
      return { sql: `${c} >= ?`, params: [a] };
  }
}

/** Allen's interval relations between the item's [s, e] and the literal [a, b], as CQL2 names them. */
function temporal(op: TemporalOp, s: string, e: string, a: number, b: number): Sql {
  const A = clampInf(a);
  const B = clampInf(b);
  const rel: Record<TemporalOp, [string, number[]]> = {
    t_after: [`${s} > ?`, [B]],
    t_before: [`${e} < ?`, [A]],
    t_contains: [`(${s} < ? AND ${e} > ?)`, [A, B]],
    t_disjoint: [`(${e} < ? OR ${s} > ?)`, [A, B]],
    t_during: [`(${s} > ? AND ${e} < ?)`, [A, B]],
    t_equals: [`(${s} = ? AND ${e} = ?)`, [A, B]],
    t_finishedby: [`(${s} < ? AND ${e} = ?)`, [A, B]],
    t_finishes: [`(${s} > ? AND ${e} = ?)`, [A, B]],
    t_intersects: [`(${s} <= ? AND ${e} >= ?)`, [B, A]],
    t_meets: [`${e} = ?`, [A]],
    t_metby: [`${s} = ?`, [B]],
    t_overlappedby: [`(${s} > ? AND ${s} < ? AND ${e} > ?)`, [A, B, B]],
    t_overlaps: [`(${s} < ? AND ${e} > ? AND ${e} < ?)`, [A, A, B]],
    t_startedby: [`(${s} = ? AND ${e} > ?)`, [A, B]],
    t_starts: [`(${s} = ? AND ${e} < ?)`, [A, B]],
  };
  const [sql, params] = rel[op];
  return { sql, params };
}

/** Exact spatial test against the item's stored box and geometry (odas_hit does the non-box cases). */
export function spatialSql(g: GeoJsonGeometry, ctx: CompileContext): Sql {
  if (ctx.dialect?.intersects) return ctx.dialect.intersects(g);
  const b = geometryBox(g);
  if (!b) return { sql: '0', params: [] };
  const handle = ctx.registerGeometry(g);
  // Against a box, points and boxes are decided by the box comparison alone.
  const exact = prepare(g).isBox ? 'i.gtype IN (1, 3) OR ' : '';
  return {
    sql: `(i.maxx >= ? AND i.minx <= ? AND i.maxy >= ? AND i.miny <= ? AND (${exact}${(ctx.dialect ?? SQLITE).spatialHit}))`,
    params: [b[0], b[2], b[1], b[3], handle],
  };
}

/** Compile a CQL2 tree to an SQL condition over `items i`; unknown properties and type mismatches are 400s. */
export function compileFilter(n: Cql2Node, ctx: CompileContext): Sql {
  switch (n.op) {
    case 'literal':
      return { sql: n.value ? (ctx.dialect?.true ?? '1') : (ctx.dialect?.false ?? '0'), params: [] };
    case 'and':
    case 'or': {
      const parts = n.args.map((a) => compileFilter(a, ctx));
      return {
        sql: `(${parts.map((p) => p.sql).join(n.op === 'and' ? ' AND ' : ' OR ')})`,
        params: parts.flatMap((p) => p.params),
      };
    }
    case 'not': {
      const p = compileFilter(n.arg, ctx);
      return { sql: `(NOT ${p.sql})`, params: p.params };
    }
    case 'isNull': {
      const t = resolve(n.property, ctx);
      if (t.kind === 'collection') return { sql: ctx.dialect?.false ?? '0', params: [] };
      if (t.kind === 'geometry') return { sql: 'i.gtype = 0', params: [] };
      return { sql: `${t.kind === 'time' ? t.s : t.sql} IS NULL`, params: [] };
    }
    case 's_intersects': {
      const t = resolve(n.property, ctx);
      if (t.kind !== 'geometry')
        throw new InvalidParameterValue(FILTER, `S_INTERSECTS applies to 'geometry', not '${n.property.name}'`);
      return spatialSql(n.geometry, ctx);
    }
    case 'compare':
    case 'between':
    case 'in':
    case 'like':
      break;
    default: {
      const t = resolve(n.property, ctx);
      if (t.kind !== 'time')
        throw new InvalidParameterValue(
          FILTER,
          `${n.op.toUpperCase()} applies to datetime, start_datetime or end_datetime, not '${n.property.name}'`,
        );
      return temporal(n.op, t.s, t.e, n.value.start, n.value.end);
    }
  }
  const name = n.property.name;
  const t = resolve(n.property, ctx);
  if (t.kind === 'collection') {
    // Collection ids are stored as numbers: compare those, and an unknown id matches nothing.
    const cid = (lit: Cql2Literal) => (lit.kind === 'string' ? (ctx.cidOf(lit.value) ?? -1) : -1);
    if (n.op === 'compare' && (n.cmp === '=' || n.cmp === '<>'))
      return { sql: `i.cid ${n.cmp === '=' ? '=' : '<>'} ?`, params: [cid(n.value)] };
    if (n.op === 'in') return { sql: `i.cid IN (${n.values.map(() => '?').join(',')})`, params: n.values.map(cid) };
    const sub: Target = { kind: 'text', sql: '(SELECT c.id FROM collections c WHERE c.cid = i.cid)' };
    return compileOn(sub, n, name, ctx);
  }
  if (t.kind === 'time' && n.op === 'compare') return compareTime(t, n.cmp, n.value, name);
  return compileOn(t, n, name, ctx);
}

function compileOn(
  t: Target,
  n: Cql2Node & { op: 'compare' | 'between' | 'in' | 'like' },
  name: string,
  ctx: CompileContext,
): Sql {
  const col = t.kind === 'time' ? t.s : t.kind === 'text' || t.kind === 'json' ? t.sql : undefined;
  if (!col)
    throw new InvalidParameterValue(
      FILTER,
      `'${name}' cannot be used with ${n.op === 'compare' ? n.cmp : n.op.toUpperCase()}`,
    );
  switch (n.op) {
    case 'compare':
      return { sql: `${col} ${n.cmp} ?`, params: [value(t, n.value, name)] };
    case 'between':
      return { sql: `${col} BETWEEN ? AND ?`, params: [value(t, n.low, name), value(t, n.high, name)] };
    case 'in':
      return {
        sql: `${col} IN (${n.values.map(() => '?').join(',')})`,
        params: n.values.map((v) => value(t, v, name)),
      };
    case 'like':
      if (t.kind === 'time') throw new InvalidParameterValue(FILTER, `LIKE applies to strings, not to '${name}'`);
      return (ctx.dialect ?? SQLITE).like(col, n.pattern);
  }
}

/** Spatial and temporal bounds implied by the top-level AND of a filter, to narrow the R*-tree scan. */
export function hoistBounds(n: Cql2Node): {
  boxes: Array<[number, number, number, number]>;
  tmin: number;
  tmax: number;
} {
  const out = { boxes: [] as Array<[number, number, number, number]>, tmin: -Infinity, tmax: Infinity };
  const terms = n.op === 'and' ? n.args : [n];
  for (const t of terms) {
    if (t.op === 's_intersects' && t.property.name.replace(/^properties\./, '') === 'geometry') {
      const b = geometryBox(t.geometry);
      if (b) out.boxes.push(b);
    } else if (t.op === 't_intersects' && t.property.name.replace(/^properties\./, '') === 'datetime') {
      out.tmin = Math.max(out.tmin, t.value.start);
      out.tmax = Math.min(out.tmax, t.value.end);
    }
  }
  return out;
}
