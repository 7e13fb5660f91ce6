import type { Collection } from '../../catalog/collection.js';
import type { FeatureFilter } from '../../catalog/store/types.js';
import type { PropertyValue } from '../../catalog/feature.js';
import { InvalidParameterValue, UnknownParameter } from '../../core/errors.js';
import { parseBBox } from '../../core/query/bbox.js';
import { parseDatetime } from '../../core/query/datetime.js';
import { CRS84 } from '../../core/grid/crs.js';

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 10_000;

/** Query parameters of /items defined by OGC API - Features Part 1 (everything else must be a queryable). */
const ITEMS_PARAMETERS = ['f', 'limit', 'offset', 'bbox', 'bbox-crs', 'datetime', 'crs'] as const;

const ACCEPTED_CRS = new Set([CRS84, 'http://www.opengis.net/def/crs/EPSG/0/4326', 'EPSG:4326', 'OGC:CRS84']);

export interface ItemsQuery {
  limit: number;
  offset: number;
  filter: FeatureFilter;
}

function coerce(name: string, value: string, type: string): PropertyValue {
  if (type === 'integer' || type === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) {
      throw new InvalidParameterValue(name, `expected ${type === 'integer' ? 'an integer' : 'a number'}, got '${value}'`);
    }
    return n;
  }
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') throw new InvalidParameterValue(name, `expected true or false, got '${value}'`);
    return value === 'true';
  }
  return value;
}

/** Parse and check every /items parameter; the errors name the parameter and what was expected. */
export function parseItemsQuery(c: Collection, query: Record<string, unknown>): ItemsQuery {
  const str = (k: string): string | undefined => {
    const v = query[k];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) throw new InvalidParameterValue(k, 'given more than once');
    return String(v);
  };
  const limitText = str('limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!/^\s*\d+\s*$/.test(limitText) || limit < 1) throw new InvalidParameterValue('limit', `expected a whole number from 1 to ${MAX_LIMIT}, got '${limitText}'`);
    // Larger pages are served at the maximum, with next links: what clients asking for "everything" need.
    limit = Math.min(limit, MAX_LIMIT);
  }
  const offsetText = str('offset');
  let offset = 0;
  if (offsetText !== undefined) {
    offset = Number(offsetText);
    if (!/^\s*\d+\s*$/.test(offsetText)) throw new InvalidParameterValue('offset', `expected a whole number ≥ 0, got '${offsetText}'`);
  }
  for (const k of ['crs', 'bbox-crs']) {
    const v = str(k);
    if (v !== undefined && !ACCEPTED_CRS.has(v)) throw new InvalidParameterValue(k, `only ${CRS84} is supported, got '${v}'`);
  }
  const filter: FeatureFilter = {};
  const bbox = str('bbox');
  if (bbox !== undefined) filter.bbox = parseBBox(bbox);
  const datetime = str('datetime');
  if (datetime !== undefined) filter.datetime = parseDatetime(datetime);
  const types = c.features?.propertyTypes() ?? new Map<string, string>();
  const props: Record<string, PropertyValue> = {};
  for (const key of Object.keys(query)) {
    if ((ITEMS_PARAMETERS as readonly string[]).includes(key)) continue;
    const type = types.get(key);
    if (!type || key === 'datetime') throw new UnknownParameter(key, [...ITEMS_PARAMETERS, ...[...types.keys()].filter((k) => k !== 'datetime')]);
    props[key] = coerce(key, str(key)!, type);
  }
  if (Object.keys(props).length > 0) filter.properties = props;
  return { limit, offset, filter };
}
