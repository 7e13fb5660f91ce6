import { InvalidParameterValue, UnknownParameter } from '../core/errors.js';
import { parseBBox } from '../core/query/bbox.js';
import { parseDatetime } from '../core/query/datetime.js';
import type { Cql2Node } from '../core/cql2/ast.js';
import { parseCql2Json } from '../core/cql2/json.js';
import { parseCql2Text } from '../core/cql2/text.js';
import type { Fields } from './fields.js';
import { parseGeometry } from '../core/geometry.js';
import { CRS84, EPSG_4326 } from '../core/grid/crs.js';
import type { PageToken, SearchSpec, SortField } from '../catalog/store/types.js';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 10_000;
/** filter-crs values that name longitude/latitude in degrees (the only CRS the index holds). */
const LON_LAT_CRS = [CRS84, EPSG_4326, 'EPSG:4326', 'OGC:CRS84'];

export interface SearchRequest extends SearchSpec {
  fields?: Fields;
}

/** Parameters of GET /stac/search; the collection items route takes the same minus collections and ids. */
export const SEARCH_PARAMETERS = [
  'f',
  'bbox',
  'intersects',
  'datetime',
  'ids',
  'collections',
  'limit',
  'token',
  'fields',
  'sortby',
  'filter',
  'filter-lang',
  'filter-crs',
] as const;
/** The items route's path names the collection, and intersects is a search-only parameter there. */
const SEARCH_ONLY: ReadonlySet<string> = new Set(['intersects', 'ids', 'collections']);
export const ITEMS_PARAMETERS: readonly string[] = SEARCH_PARAMETERS.filter((p) => !SEARCH_ONLY.has(p));

export function encodeToken(t: PageToken): string {
  return Buffer.from(
    JSON.stringify({
      o: t.offset,
      ...(t.after ? { a: t.after } : {}),
      ...(t.matched !== undefined ? { m: t.matched } : {}),
    }),
  ).toString('base64url');
}

export function decodeToken(text: string): PageToken {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { o?: unknown; a?: unknown; m?: unknown };
    const offset = v.o;
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new Error('offset');
    const t: PageToken = { offset };
    if (v.a !== undefined) {
      if (!Array.isArray(v.a) || v.a.length !== 2 || !v.a.every((n) => typeof n === 'number' && Number.isFinite(n)))
        throw new Error('key');
      t.after = [v.a[0] as number, v.a[1] as number];
    }
    if (v.m !== undefined) {
      if (typeof v.m !== 'number' || !Number.isInteger(v.m) || v.m < -1) throw new Error('matched');
      t.matched = v.m;
    }
    return t;
  } catch {
    throw new InvalidParameterValue(
      'token',
      `'${text.slice(0, 60)}' is not a paging token from this server: follow the 'next' link as given`,
    );
  }
}

function limitOf(v: unknown): number {
  const text = String(v).trim();
  if (typeof v === 'number' ? !Number.isInteger(v) || v < 1 : !/^\d+$/.test(text) || Number(text) < 1) {
    throw new InvalidParameterValue('limit', `expected a whole number from 1 to ${MAX_LIMIT}, got '${text}'`);
  }
  // Larger pages are served at the maximum, with next links.
  return Math.min(Number(text), MAX_LIMIT);
}

function list(v: unknown, parameter: string): string[] {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : undefined;
  if (!items || !items.every((x) => typeof x === 'string'))
    throw new InvalidParameterValue(parameter, 'expected a list of strings');
  return (items as string[]).map((s) => s.trim()).filter(Boolean);
}

/** `sortby=+properties.datetime,-id` (GET) or `[{"field","direction"}]` (POST). */
function sortby(v: unknown): SortField[] {
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const direction = s.startsWith('-') ? 'desc' : 'asc';
        const field = s.replace(/^[+-]/, '').trim();
        if (!field) throw new InvalidParameterValue('sortby', `'${s}' names no field`);
        return { field, direction };
      });
  }
  if (!Array.isArray(v))
    throw new InvalidParameterValue(
      'sortby',
      'expected "+field,-field" or [{"field": ..., "direction": "asc"|"desc"}]',
    );
  return v.map((s: unknown) => {
    const o = s as { field?: unknown; direction?: unknown };
    if (typeof o?.field !== 'string' || !o.field)
      throw new InvalidParameterValue('sortby', 'each entry needs a "field"');
    const d = o.direction === undefined ? 'asc' : String(o.direction).toLowerCase();
    if (d !== 'asc' && d !== 'desc')
      throw new InvalidParameterValue('sortby', `direction must be "asc" or "desc", got '${String(o.direction)}'`);
    return { field: o.field, direction: d };
  });
}

/** `fields=id,properties.datetime,-assets` (GET) or `{"include": [...], "exclude": [...]}` (POST). */
function fields(v: unknown): Fields {
  if (typeof v === 'string') {
    const include: string[] = [];
    const exclude: string[] = [];
    for (const f of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (f.startsWith('-')) exclude.push(f.slice(1));
      else include.push(f.replace(/^\+/, ''));
    }
    return { ...(include.length ? { include } : {}), ...(exclude.length ? { exclude } : {}) };
  }
  const o = v as { include?: unknown; exclude?: unknown };
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidParameterValue('fields', 'expected {"include": [...], "exclude": [...]}');
  const out: Fields = {};
  // null is how many clients (pystac-client among them) write "not given".
  if (o.include !== undefined && o.include !== null) out.include = list(o.include, 'fields');
  if (o.exclude !== undefined && o.exclude !== null) out.exclude = list(o.exclude, 'fields');
  return out;
}

function filter(v: unknown, lang: unknown, fromGet: boolean): Cql2Node {
  const l = lang === undefined ? (typeof v === 'string' ? 'cql2-text' : 'cql2-json') : String(lang);
  if (l === 'cql2-text') {
    if (typeof v !== 'string')
      throw new InvalidParameterValue('filter', 'with filter-lang=cql2-text the filter must be a string');
    return parseCql2Text(v);
  }
  if (l === 'cql2-json') {
    if (typeof v === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        throw new InvalidParameterValue(
          'filter',
          `not valid JSON for filter-lang=cql2-json${fromGet ? ' (URL-encode it)' : ''}`,
        );
      }
      return parseCql2Json(parsed);
    }
    return parseCql2Json(v);
  }
  throw new InvalidParameterValue('filter-lang', `'${l}' is not supported: use cql2-text or cql2-json`);
}

/** Check the parameters common to GET and POST (values already of JSON types for POST). */
function parseCommon(get: (k: string) => unknown, fromGet: boolean): SearchRequest {
  const req: SearchRequest = { limit: DEFAULT_LIMIT };
  const limit = get('limit');
  if (limit !== undefined) req.limit = limitOf(limit);
  const bbox = get('bbox');
  if (bbox !== undefined) {
    const text = Array.isArray(bbox) ? bbox.join(',') : String(bbox);
    if (Array.isArray(bbox) && !bbox.every((n) => typeof n === 'number'))
      throw new InvalidParameterValue('bbox', 'expected an array of 4 or 6 numbers');
    req.bbox = parseBBox(text);
  }
  const intersects = get('intersects');
  if (intersects !== undefined) {
    if (bbox !== undefined) throw new InvalidParameterValue('intersects', 'give bbox or intersects, not both');
    let g = intersects;
    if (typeof g === 'string') {
      try {
        g = JSON.parse(g);
      } catch {
        throw new InvalidParameterValue('intersects', 'expected a GeoJSON geometry (JSON text)');
      }
    }
    req.intersects = parseGeometry(g, 'intersects');
  }
  const datetime = get('datetime');
  if (datetime !== undefined) {
    if (typeof datetime !== 'string')
      throw new InvalidParameterValue('datetime', 'expected an RFC 3339 instant or interval string');
    req.datetime = parseDatetime(datetime, 'datetime', { rfc3339: true });
  }
  const ids = get('ids');
  if (ids !== undefined) req.ids = list(ids, 'ids');
  const collections = get('collections');
  if (collections !== undefined) req.collections = list(collections, 'collections');
  const token = get('token');
  if (token !== undefined) {
    if (typeof token !== 'string') throw new InvalidParameterValue('token', 'expected the token string of a next link');
    req.token = decodeToken(token);
  }
  const sort = get('sortby');
  if (sort !== undefined) req.sortby = sortby(sort);
  const f = get('fields');
  if (f !== undefined) req.fields = fields(f);
  const crs = get('filter-crs');
  if (crs !== undefined && !LON_LAT_CRS.includes(String(crs)))
    throw new InvalidParameterValue('filter-crs', `only ${CRS84} is supported`);
  const flt = get('filter');
  if (flt !== undefined) req.filter = filter(flt, get('filter-lang'), fromGet);
  else if (get('filter-lang') !== undefined && !['cql2-text', 'cql2-json'].includes(String(get('filter-lang')))) {
    throw new InvalidParameterValue(
      'filter-lang',
      `'${String(get('filter-lang'))}' is not supported: use cql2-text or cql2-json`,
    );
  }
  return req;
}

/** GET search or items parameters: every one checked, unknown ones refused (a typo must not widen a search). */
export function parseSearchQuery(query: Record<string, unknown>, allowed: readonly string[]): SearchRequest {
  for (const k of Object.keys(query)) if (!allowed.includes(k)) throw new UnknownParameter(k, [...allowed]);
  return parseCommon((k) => {
    const v = query[k];
    if (Array.isArray(v)) throw new InvalidParameterValue(k, 'given more than once');
    return v;
  }, true);
}

/** POST /stac/search body (JSON). */
export function parseSearchBody(body: unknown): SearchRequest {
  if (body === undefined || body === null) return { limit: DEFAULT_LIMIT };
  if (typeof body !== 'object' || Array.isArray(body))
    throw new InvalidParameterValue('body', 'expected a JSON object of search parameters');
  const o = body as Record<string, unknown>;
  const allowed: readonly string[] = [...SEARCH_PARAMETERS.filter((k) => k !== 'f'), 'context'];
  for (const k of Object.keys(o)) {
    if (k === 'query')
      throw new InvalidParameterValue('query', 'the query extension is not supported: use filter (CQL2)');
    if (!allowed.includes(k)) throw new UnknownParameter(k, [...allowed]);
  }
  return parseCommon((k) => (o[k] === null ? undefined : o[k]), false);
}
