import { CRS84 } from '../../core/grid/crs.js';
import { DEFAULT_LIMIT, ITEMS_PARAMETERS, MAX_LIMIT, SEARCH_PARAMETERS } from '../../stac/search-request.js';

// Route schemas: they document the API in OpenAPI; values are checked by the parsers (errors name the parameter).

const errors = {
  400: { description: 'Invalid parameter (OGC exception JSON naming it)', $ref: 'exception#' },
  404: { description: 'Unknown collection or item (OGC exception JSON)', $ref: 'exception#' },
};

export const jsonResponse = (description: string) => ({
  200: { description, type: 'object', additionalProperties: true },
  ...errors,
});

export const itemsResponse = {
  200: {
    description:
      'GeoJSON FeatureCollection of STAC Items (numberMatched when cheap to count, next link when more), or one Item',
    content: { 'application/geo+json': { schema: { type: 'object', additionalProperties: true } } },
  },
  ...errors,
};

export const fileResponse = {
  200: {
    description: 'The file (NetCDF, HDF5 or GeoTIFF), with Accept-Ranges',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
  206: {
    description: 'One byte range of the file (Range: bytes=a-b)',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  },
  404: errors[404],
  416: { description: 'The range lies outside the file', $ref: 'exception#' },
};

export const idParams = {
  type: 'object',
  required: ['collectionId'],
  properties: { collectionId: { type: 'string', description: 'Collection id' } },
} as const;
export const itemParams = {
  type: 'object',
  required: ['collectionId', 'itemId'],
  properties: { collectionId: { type: 'string' }, itemId: { type: 'string' } },
} as const;

const DOCS: Record<string, string> = {
  f: 'json (the only format; geojson is accepted as a synonym).',
  bbox: 'minLon,minLat,maxLon,maxLat in CRS84 (minLon > maxLon crosses the antimeridian).',
  intersects: 'A GeoJSON geometry (JSON text): items whose geometry intersects it. Not with bbox.',
  datetime: 'RFC 3339 instant or interval (a/b, ../b, a/..): items whose time overlaps it.',
  ids: 'Comma-separated item ids.',
  collections: 'Comma-separated collection ids.',
  limit: `Items per page, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT}; larger values are served at ${MAX_LIMIT}).`,
  token: 'Paging token: follow the next link.',
  fields:
    'Fields extension: comma-separated paths to include, prefixed with - to exclude (e.g. id,properties.datetime,-assets).',
  sortby:
    'Sort extension: comma-separated fields, + ascending (default) or - descending (e.g. -properties.datetime,id). Default: datetime descending.',
  filter:
    'CQL2 filter (text by default): comparisons, LIKE, BETWEEN, IN, IS NULL, AND/OR/NOT, S_INTERSECTS, T_INTERSECTS and the other temporal functions. Properties: see /stac/queryables.',
  'filter-lang': 'cql2-text (default for GET) or cql2-json.',
  'filter-crs': `Only ${CRS84}.`,
  q: 'Free text: comma-separated terms, any of which may match the title, description, keywords or id.',
};

const querystring = (names: readonly string[]) => ({
  type: 'object',
  additionalProperties: true,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', description: DOCS[n] ?? n }])),
});

export const searchQuerystring = querystring(SEARCH_PARAMETERS);
export const itemsQuerystring = querystring(ITEMS_PARAMETERS);
export const collectionsQuerystring = querystring(['f', 'q', 'bbox', 'datetime', 'limit', 'token']);

export const searchBody = {
  type: 'object',
  additionalProperties: true,
  description:
    'Search parameters as JSON: arrays for bbox, ids and collections; filter as CQL2 JSON (or text with filter-lang cql2-text); sortby as [{field, direction}]; fields as {include, exclude}.',
  properties: {
    bbox: { type: 'array', items: { type: 'number' }, description: DOCS['bbox'] },
    intersects: { type: 'object', additionalProperties: true, description: 'A GeoJSON geometry. Not with bbox.' },
    datetime: { type: 'string', description: DOCS['datetime'] },
    ids: { type: 'array', items: { type: 'string' } },
    collections: { type: 'array', items: { type: 'string' } },
    limit: { type: 'integer', description: DOCS['limit'] },
    token: { type: 'string', description: DOCS['token'] },
    fields: {
      type: 'object',
      nullable: true,
      additionalProperties: true,
      properties: {
        include: { type: 'array', nullable: true, items: { type: 'string' } },
        exclude: { type: 'array', nullable: true, items: { type: 'string' } },
      },
    },
    sortby: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: { field: { type: 'string' }, direction: { type: 'string', enum: ['asc', 'desc'] } },
      },
    },
    filter: { description: 'CQL2 JSON object (or CQL2 text string)' },
    'filter-lang': { type: 'string', enum: ['cql2-json', 'cql2-text'] },
    'filter-crs': { type: 'string' },
  },
};
