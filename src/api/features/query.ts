import type { Collection } from '../../catalog/collection.js';
import type { FeatureFilter, SortField } from '../../catalog/store/types.js';
import type { PropertyValue } from '../../catalog/feature.js';
import type { Cql2Node } from '../../core/cql2/ast.js';
import { parseCql2Json } from '../../core/cql2/json.js';
import { parseCql2Text } from '../../core/cql2/text.js';
import { InvalidParameterValue, UnknownParameter } from '../../core/errors.js';
import { parseDatetime } from '../../core/query/datetime.js';
import { bboxToCrs84, CRS84, geometryToCrs84, parseVectorCrs, type VectorCrs } from '../../core/query/vector-crs.js';
import { CLAMPED } from '../query-validator.js';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 10_000;

/**
 * The /items query string as JSON Schema: route validation and /api both come from it. Array
 * parameters are `style: form, explode: false` (one comma-separated value), as OGC API - Features
 * defines `bbox` and `sortby`.
 */
export const itemsQuerystring = {
  type: 'object',
  additionalProperties: true,
  style: 'form',
  explode: false,
  properties: {
    f: { type: 'string', description: 'Output format: json (GeoJSON), html or csv (beats the Accept header).' },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_LIMIT,
      default: DEFAULT_LIMIT,
      [CLAMPED]: true,
      description: `Features per page (larger values are served at ${MAX_LIMIT}, with next links).`,
    },
    offset: { type: 'integer', minimum: 0, default: 0, description: 'Features to skip (the next links carry it).' },
    bbox: {
      type: 'array',
      minItems: 4,
      maxItems: 6,
      items: { type: 'number' },
      description:
        'minLon,minLat,maxLon,maxLat in CRS84 (or in bbox-crs, in its axis order; 6 numbers: heights ignored); minLon > maxLon crosses the antimeridian.',
    },
    'bbox-crs': {
      type: 'string',
      description: 'CRS of bbox: CRS84 (default), EPSG:4326 (latitude first) or EPSG:3857.',
    },
    datetime: { type: 'string', description: 'RFC 3339 instant or interval (a/b, ../b, a/.., /b, a/).' },
    crs: {
      type: 'string',
      description:
        'CRS of the returned geometries: CRS84 (default), EPSG:4326 (latitude first) or EPSG:3857. The Content-Crs header names it.',
    },
    filter: {
      type: 'string',
      description: 'CQL2 filter over the queryables (see /queryables): text (default) or JSON per filter-lang.',
    },
    'filter-lang': {
      type: 'string',
      enum: ['cql2-text', 'cql2-json'],
      default: 'cql2-text',
      description: 'Encoding of filter.',
    },
    'filter-crs': {
      type: 'string',
      description: 'CRS of the geometries in filter: CRS84 (default), EPSG:4326 or EPSG:3857.',
    },
    sortby: {
      type: 'array',
      items: { type: 'string', pattern: '^[+ -]?[A-Za-z0-9_.:-]+$' },
      description:
        'Comma-separated sortables (see /sortables), each optionally prefixed with + (ascending, the default) or - (descending).',
    },
  },
  description:
    'Any queryable property (see /queryables) also filters by equality, e.g. platform_number=1900857&data_mode=D.',
} as const;

/** Query parameters of /items defined by OGC API - Features (everything else must be a queryable). */
const ITEMS_PARAMETERS = Object.keys(itemsQuerystring.properties);

export interface ItemsQuery {
  limit: number;
  offset: number;
  filter: FeatureFilter;
  /** CRS of the answer's geometries. */
  crs: VectorCrs;
}

function coerce(name: string, value: string, type: string): PropertyValue {
  if (type === 'integer' || type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) {
      throw new InvalidParameterValue(
        name,
        `expected ${type === 'integer' ? 'an integer' : 'a number'}, got '${value}'`,
      );
    }
    return n;
  }
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false')
      throw new InvalidParameterValue(name, `expected true or false, got '${value}'`);
    return value === 'true';
  }
  return value;
}

/** Geometries of a filter given in filter-crs, in CRS84 (what the catalog stores). */
function filterToCrs84(n: Cql2Node, crs: VectorCrs): Cql2Node {
  switch (n.op) {
    case 'and':
    case 'or':
      return { op: n.op, args: n.args.map((a) => filterToCrs84(a, crs)) };
    case 'not':
      return { op: 'not', arg: filterToCrs84(n.arg, crs) };
    case 's_intersects':
      return { ...n, geometry: geometryToCrs84(n.geometry, crs) };
    default:
      return n;
  }
}

function parseFilter(text: string, lang: string | undefined): Cql2Node {
  if (lang === undefined || lang === 'cql2-text') return parseCql2Text(text);
  if (lang === 'cql2-json') {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new InvalidParameterValue('filter', 'not valid JSON for filter-lang=cql2-json (URL-encode it)');
    }
    return parseCql2Json(v);
  }
  throw new InvalidParameterValue('filter-lang', `'${lang}' is not supported: use cql2-text or cql2-json`);
}

/** `sortby=+a,-b` (a `+` may arrive as a space, URL-decoded). */
function parseSortby(items: readonly unknown[]): SortField[] {
  return items.map((raw) => {
    const s = String(raw);
    const desc = s.startsWith('-');
    const field = s.replace(/^[+ -]/, '').trim();
    if (!field) throw new InvalidParameterValue('sortby', `empty field in '${items.join(',')}'`);
    return { field, direction: desc ? 'desc' : 'asc' };
  });
}

/**
 * Parse and check every /items parameter (already validated and typed by the route schema); the
 * errors name the parameter and what was expected.
 */
export function parseItemsQuery(c: Collection, query: Record<string, unknown>): ItemsQuery {
  const str = (k: string): string | undefined => {
    const v = query[k];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) throw new InvalidParameterValue(k, 'given more than once');
    return String(v);
  };
  // Larger pages are served at the maximum, with next links: what clients asking for "everything" need.
  const limit = Math.min(typeof query['limit'] === 'number' ? query['limit'] : DEFAULT_LIMIT, MAX_LIMIT);
  const offset = typeof query['offset'] === 'number' ? query['offset'] : 0;
  const crsText = str('crs');
  const crs = crsText === undefined ? CRS84 : parseVectorCrs(crsText, 'crs');
  const filter: FeatureFilter = {};
  const bbox = query['bbox'];
  if (Array.isArray(bbox)) {
    const bboxCrs = str('bbox-crs');
    filter.bbox = bboxToCrs84(
      bbox as number[],
      bboxCrs === undefined ? CRS84 : parseVectorCrs(bboxCrs, 'bbox-crs'),
      'bbox',
    );
  } else if (str('bbox-crs') !== undefined) {
    parseVectorCrs(str('bbox-crs')!, 'bbox-crs');
  }
  const datetime = str('datetime');
  if (datetime !== undefined) filter.datetime = parseDatetime(datetime);
  const cql = str('filter');
  const filterCrs = str('filter-crs');
  const fcrs = filterCrs === undefined ? CRS84 : parseVectorCrs(filterCrs, 'filter-crs');
  if (cql !== undefined) filter.cql = filterToCrs84(parseFilter(cql, str('filter-lang')), fcrs);
  else if (str('filter-lang') !== undefined) parseFilter('true', str('filter-lang'));
  const sortby = query['sortby'];
  if (Array.isArray(sortby)) filter.sortby = parseSortby(sortby);
  const types = c.features?.propertyTypes() ?? new Map<string, string>();
  const props: Record<string, PropertyValue> = {};
  for (const key of Object.keys(query)) {
    if (ITEMS_PARAMETERS.includes(key)) continue;
    const type = types.get(key);
    if (!type || key === 'datetime')
      throw new UnknownParameter(key, [...ITEMS_PARAMETERS, ...[...types.keys()].filter((k) => k !== 'datetime')]);
    props[key] = coerce(key, str(key)!, type);
  }
  if (Object.keys(props).length > 0) filter.properties = props;
  return { limit, offset, filter, crs };
}
