import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { isFeatureCollection } from '../../catalog/collection.js';
import { EmptySelection, InvalidParameterValue, NotFound, UnknownParameter } from '../../core/errors.js';
import type { SampleSet } from '../../encoders/edr/payload.js';
import type { EdrAnswer } from './grid.js';
import { parseBBox } from '../../core/query/bbox.js';
import { baseUrl, getCollection, sendText, type ApiContext } from '../context.js';
import { isoTime } from '../link.js';
import type { ApiModule } from '../module.js';
import { FORMATS, negotiate } from '../negotiate.js';
import { sendGridAnswer } from '../grid-answer.js';
import { sendStream } from '../stream.js';
import { EDR_FORMATS, edrGridAnswer, encodeSamples, extensionOf, type EdrFormat } from './encode.js';
import { locationIdOf, TRAJECTORY_DEFAULT_WIDTH_M } from './insitu.js';
import { describeEdr, GRID_QUERIES, INSITU_QUERIES, type VerticalExtent } from './metadata.js';
import { parseEdrDatetime, parseEdrQuery, QUERY_PARAMETERS, type QueryType } from './query.js';
import { runEdrQuery } from './run.js';

const ROOTS = [
  'http://www.opengis.net/spec/ogcapi-edr-1/1.0/conf',
  'http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf',
];
/** Only what is implemented: no HTML pages and no instances (no collection has model runs yet). */
const EDR_CONFORMANCE = ROOTS.flatMap((r) =>
  ['core', 'collections', 'json', 'geojson', 'covjson', 'oas30', 'queries'].map((c) => `${r}/${c}`),
);

const PARAM_DOCS: Record<string, string> = {
  f: 'Output format: covjson (CoverageJSON, also json), geojson, csv, netcdf or arrow (Apache Arrow IPC stream); beats the Accept header.',
  coords:
    'Well Known Text in CRS84: POINT, MULTIPOINT (position, radius), POLYGON, MULTIPOLYGON (area), LINESTRING with optional Z, M or ZM (trajectory, corridor; M is the time in epoch seconds).',
  datetime: 'RFC 3339 instant or interval (a/b, ../b, a/..).',
  'parameter-name':
    'Comma-separated parameter names (see parameter_names in the collection description); all by default.',
  z: "Vertical selection in the collection's vertical units (m of depth, or decibar for Argo pressure): a level, min/max, a list, or Rn/min/step.",
  crs: 'Only CRS84 (or EPSG:4326) is supported.',
  bbox: 'minLon,minLat,maxLon,maxLat in CRS84.',
  'cube-z': 'Same as z, for cube queries.',
  within: 'Radius of the circle, in within-units.',
  'within-units': 'km, m, mi or nmi (geodesic distance).',
  'corridor-width': `Full width of the corridor, in width-units (a trajectory query on in-situ data uses ${TRAJECTORY_DEFAULT_WIDTH_M / 500} km).`,
  'width-units': 'km, m, mi or nmi.',
  'corridor-height': "Full height of the corridor around the path's Z, in the vertical axis units.",
  'height-units': 'Units of corridor-height (the vertical axis units, e.g. m or dbar).',
  'resolution-x': 'Number of positions along x (grids; nearest-neighbour, at most the native count).',
  'resolution-y': 'Number of positions along y (grids).',
  'resolution-z': 'Number of levels (grids).',
  limit: 'At most this many features (profiles, stations, trajectories).',
};

function querystring(type: QueryType): Record<string, unknown> {
  const names = ['f', 'crs', 'datetime', 'parameter-name', 'z', 'limit', ...QUERY_PARAMETERS[type]];
  // coords (bbox for a cube) is what the query is about: required, as EDR's API description has it.
  const required = type === 'cube' ? ['bbox'] : QUERY_PARAMETERS[type].includes('coords') ? ['coords'] : [];
  return {
    type: 'object',
    additionalProperties: true,
    required,
    properties: Object.fromEntries(names.map((n) => [n, { type: 'string', description: PARAM_DOCS[n] ?? n }])),
  };
}

const dataResponse = {
  200: {
    description:
      'The data: CoverageJSON (Coverage or CoverageCollection), GeoJSON, CSV, NetCDF-3 or an Arrow IPC stream',
    content: Object.fromEntries(
      [
        'application/vnd.cov+json',
        'application/geo+json',
        'text/csv',
        'application/x-netcdf',
        'application/vnd.apache.arrow.stream',
      ].map((t) => [t, { schema: { type: 'string' } }]),
    ),
  },
  400: { description: 'Invalid parameter (OGC exception JSON naming it)', $ref: 'exception#' },
  404: { description: 'Unknown collection or location', $ref: 'exception#' },
  413: { description: 'The answer would be too large (OGC exception JSON)', $ref: 'exception#' },
  502: { description: 'A data file of the collection could not be read', $ref: 'exception#' },
};

const collectionParams = {
  type: 'object',
  required: ['collectionId'],
  properties: { collectionId: { type: 'string' } },
} as const;

/** `f=json` and `Accept: application/json` mean CoverageJSON here (EDR's default), not GeoJSON. */
function edrFormat(request: FastifyRequest): EdrFormat {
  const q = request.query as Record<string, unknown>;
  const f = typeof q['f'] === 'string' ? q['f'].trim().toLowerCase() : undefined;
  if (f === 'json' || f === 'covjson' || f === 'coveragejson') return 'covjson';
  if (!f && /^\s*application\/json\b/i.test(request.headers.accept ?? '')) return 'covjson';
  return negotiate(request, EDR_FORMATS) as EdrFormat;
}

/** Parses and plans before the first byte, so every mistake is an OGC exception, not a cut stream. */
async function sendEdr(
  ctx: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  c: Collection,
  type: QueryType,
  locationId?: string,
): Promise<FastifyReply> {
  const format = edrFormat(request);
  const q = parseEdrQuery(type, c, request.query as Record<string, unknown>, locationId);
  const controller = new AbortController();
  let answer: EdrAnswer;
  try {
    answer = await runEdrQuery(c, q, `${request.method} ${baseUrl(ctx, request)}${request.url}`, controller.signal);
    if (answer.kind === 'samples') {
      const sets = await withFirstSet(answer.sets);
      if (!sets) throw new EmptySelection('coords', 'no data in the selection');
      answer = { ...answer, sets };
    }
  } catch (err) {
    // EDR 1.1 /req/core/no-data: a valid query that selects nothing answers 204, not an error.
    if (err instanceof EmptySelection) {
      request.log.info({ reason: err.message }, 'EDR query selects no data: 204');
      return reply.status(204).send();
    }
    throw err;
  }
  // NetCDF, Arrow and CSV are saved rather than shown.
  const download =
    format === 'netcdf' || format === 'arrow' || format === 'csv'
      ? {
          filename: `${c.id}-${locationId ?? type}`,
          disposition: format === 'csv' ? ('inline' as const) : ('attachment' as const),
        }
      : {};
  if (answer.kind === 'grid')
    return sendGridAnswer(request, reply, edrGridAnswer(answer, format), { controller, api: 'edr', ...download });
  return sendStream(request, reply, encodeSamples(format, answer), {
    type: FORMATS[format].mediaType,
    controller,
    ...(download.filename
      ? { filename: `${download.filename}.${extensionOf(format)}`, disposition: download.disposition }
      : {}),
  });
}

/**
 * The sets of an answer with the first one already pulled: undefined when there is none (the
 * query matched no data), so the status can still be 204 before any byte is written.
 */
async function withFirstSet(
  sets: () => AsyncIterable<SampleSet>,
): Promise<(() => AsyncIterable<SampleSet>) | undefined> {
  const it = sets()[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return undefined;
  let used = false;
  return () => {
    if (used) throw new Error('the sets of an EDR answer are read once');
    used = true;
    return (async function* () {
      yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  };
}

interface LocationEntry {
  id: string;
  geometry:
    | { type: 'Point'; coordinates: [number, number] }
    | { type: 'LineString'; coordinates: Array<[number, number]> }
    | null;
  features: number;
  start: number;
  end: number;
}

/** The list of locations (one per platform or station) is GeoJSON, or CSV for spreadsheets; their data come from /locations/{id}. */
const LOCATION_LIST_FORMATS = ['geojson', 'csv'] as const;

/** A collection's locations: one per platform (Argo float) or station, with its track and time span. */
async function locationsOf(
  c: Collection & { features: NonNullable<Collection['features']> },
  query: Record<string, unknown>,
): Promise<{ all: LocationEntry[]; shown: LocationEntry[] }> {
  const allowed = ['f', 'bbox', 'datetime', 'limit'];
  for (const k of Object.keys(query)) if (!allowed.includes(k)) throw new UnknownParameter(k, allowed);
  const bbox = typeof query['bbox'] === 'string' ? parseBBox(query['bbox']) : undefined;
  const datetime = typeof query['datetime'] === 'string' ? parseEdrDatetime(query['datetime']) : undefined;
  const limit = typeof query['limit'] === 'string' ? Number(query['limit']) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new InvalidParameterValue('limit', `expected a whole number ≥ 1, got '${String(query['limit'])}'`);
  // One pass over the matching features, folding each into its platform's track and time span.
  const groups = new Map<
    string,
    { n: number; onePoint: boolean; points: Array<[number, number]>; start: number; end: number }
  >();
  for await (const r of c.features.iterate({ ...(bbox ? { bbox } : {}), ...(datetime ? { datetime } : {}) })) {
    const id = locationIdOf(c, r);
    let g = groups.get(id);
    if (!g) {
      g = { n: 0, onePoint: r.geometry?.type === 'Point', points: [], start: Infinity, end: -Infinity };
      groups.set(id, g);
    }
    g.n++;
    if (r.geometry?.type === 'Point') g.points.push(r.geometry.coordinates);
    else if (r.geometry?.type === 'LineString') g.points.push(...r.geometry.coordinates);
    if (Number.isFinite(r.start)) g.start = Math.min(g.start, r.start);
    if (Number.isFinite(r.end)) g.end = Math.max(g.end, r.end);
  }
  const all: LocationEntry[] = [...groups].map(([id, g]) => ({
    id,
    geometry:
      g.points.length === 0
        ? null
        : g.points.length === 1 || (g.n === 1 && g.onePoint)
          ? { type: 'Point', coordinates: g.points[0]! }
          : { type: 'LineString', coordinates: g.points },
    features: g.n,
    start: g.start,
    end: g.end,
  }));
  return { all, shown: limit ? all.slice(0, limit) : all };
}

const spanOf = (l: LocationEntry): string | null =>
  Number.isFinite(l.start) && Number.isFinite(l.end) ? `${isoTime(l.start)}/${isoTime(l.end)}` : null;

/** GeoJSON of a collection's locations: one feature per platform (Argo float) or station, with its span. */
function locationsGeojson(c: Collection, base: string, list: { all: LocationEntry[]; shown: LocationEntry[] }): string {
  const href = `${base}/collections/${encodeURIComponent(c.id)}/locations`;
  const features = list.shown.map((l) => ({
    type: 'Feature',
    id: l.id,
    geometry: l.geometry,
    properties: {
      name: l.id,
      features: l.features,
      datetime: spanOf(l),
      'parameter-name': c.parameters.map((p) => p.name),
      edrqueryendpoint: `${href}/${encodeURIComponent(l.id)}`,
    },
  }));
  return JSON.stringify({
    type: 'FeatureCollection',
    numberMatched: list.all.length,
    numberReturned: features.length,
    timeStamp: new Date().toISOString(),
    links: [
      { href, rel: 'self', type: 'application/geo+json' },
      { href: `${href}?f=csv`, rel: 'alternate', type: 'text/csv' },
      { href: `${base}/collections/${encodeURIComponent(c.id)}`, rel: 'collection', type: 'application/json' },
    ],
    features,
  });
}

/** CSV of a collection's locations: one row per platform or station, its last position and time span. */
function locationsCsv(list: { shown: LocationEntry[] }): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = list.shown.map((l) => {
    const last =
      l.geometry?.type === 'Point'
        ? l.geometry.coordinates
        : l.geometry?.coordinates[l.geometry.coordinates.length - 1];
    return [
      field(l.id),
      l.features,
      last?.[0] ?? '',
      last?.[1] ?? '',
      Number.isFinite(l.start) ? isoTime(l.start) : '',
      Number.isFinite(l.end) ? isoTime(l.end) : '',
    ].join(',');
  });
  return `id,features,longitude,latitude,start,end\r\n${rows.map((r) => `${r}\r\n`).join('')}`;
}

function vertical(c: Collection): VerticalExtent | undefined {
  if (c.kind === 'grid') {
    const z = c.grid?.[0]?.summary.axes.find((a) => a.role === 'z');
    if (!z) return undefined;
    return {
      interval: [Math.min(z.first, z.last), Math.max(z.first, z.last)],
      vrs: z.units ? `vertical coordinate (${z.units})` : 'vertical coordinate',
      name: z.label,
    };
  }
  if (c.kind === 'profile') {
    const max = c.features?.range('pres_max')?.[1];
    if (max !== undefined && Number.isFinite(max))
      return { interval: [0, max], vrs: 'sea water pressure (decibar), positive down', name: 'PRES' };
  }
  return undefined;
}

export const edrApi: ApiModule = {
  name: 'EDR',
  conformance: EDR_CONFORMANCE,
  routes: (app, opts) => edrRoutes(app, opts),
  describeCollection: (c, doc, base) => describeEdr(c, doc, base, vertical(c)),
};

/** OGC API - EDR: position, radius, area, cube, trajectory, corridor and locations, on grids and in-situ data. */
async function edrRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  const queries: QueryType[] = ['position', 'radius', 'area', 'cube', 'trajectory', 'corridor'];
  for (const type of queries) {
    app.get(
      `/collections/:collectionId/${type}`,
      {
        schema: {
          summary: `EDR ${type} query`,
          tags: ['EDR'],
          params: collectionParams,
          querystring: querystring(type),
          response: dataResponse,
        },
      },
      async (request, reply) => {
        const { collectionId } = request.params as { collectionId: string };
        const c = getCollection(ctx, collectionId);
        const offered = c.kind === 'grid' ? GRID_QUERIES : INSITU_QUERIES;
        if (!offered.includes(type))
          throw new NotFound(`Collection '${c.id}' does not offer ${type} queries; it offers: ${offered.join(', ')}`);
        return sendEdr(ctx, request, reply, c, type);
      },
    );
  }

  app.get(
    '/collections/:collectionId/locations',
    {
      schema: {
        summary: 'EDR locations: the platforms (Argo floats) and stations of an in-situ collection',
        tags: ['EDR'],
        params: collectionParams,
        querystring: {
          type: 'object',
          additionalProperties: true,
          properties: {
            f: {
              type: 'string',
              description:
                'geojson (default) or csv: the list of locations. The data of one location, in every EDR format, come from /locations/{locationId}.',
            },
            bbox: { type: 'string', description: PARAM_DOCS['bbox'] },
            datetime: { type: 'string', description: PARAM_DOCS['datetime'] },
            limit: { type: 'string' },
          },
        },
        response: {
          200: {
            description: 'GeoJSON FeatureCollection, one feature per location (or CSV, one row per location)',
            content: {
              'application/geo+json': { schema: { type: 'object', additionalProperties: true } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          400: dataResponse[400],
          404: dataResponse[404],
        },
      },
    },
    async (request, reply) => {
      const { collectionId } = request.params as { collectionId: string };
      const c = getCollection(ctx, collectionId);
      if (!isFeatureCollection(c))
        throw new NotFound(`Collection '${c.id}' is a grid: it has no named locations; use position`);
      const f = (request.query as Record<string, unknown>)['f'];
      if (typeof f === 'string' && ['covjson', 'coveragejson', 'netcdf', 'arrow'].includes(f.trim().toLowerCase())) {
        throw new InvalidParameterValue(
          'f',
          `the list of locations is GeoJSON or CSV; the data of one location come as ${f} from ${baseUrl(ctx, request)}/collections/${c.id}/locations/{locationId}?f=${f}`,
        );
      }
      const format = negotiate(request, LOCATION_LIST_FORMATS);
      const list = await locationsOf(c, request.query as Record<string, unknown>);
      if (format === 'csv') return sendText(reply, 'csv', locationsCsv(list));
      return sendText(reply, 'geojson', locationsGeojson(c, baseUrl(ctx, request), list));
    },
  );

  app.get(
    '/collections/:collectionId/locations/:locationId',
    {
      schema: {
        summary: "EDR data of one location (all profiles of an Argo float, a station's time series)",
        tags: ['EDR'],
        params: {
          type: 'object',
          required: ['collectionId', 'locationId'],
          properties: { collectionId: { type: 'string' }, locationId: { type: 'string' } },
        },
        querystring: querystring('locations'),
        response: dataResponse,
      },
    },
    async (request, reply) => {
      const { collectionId, locationId } = request.params as { collectionId: string; locationId: string };
      const c = getCollection(ctx, collectionId);
      if (!isFeatureCollection(c))
        throw new NotFound(`Collection '${c.id}' is a grid: it has no named locations; use position`);
      return sendEdr(ctx, request, reply, c, 'locations', locationId);
    },
  );
}
