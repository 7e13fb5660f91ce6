import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { EmptySelection, NotFound } from '../../core/errors.js';
import { coverageLimitBytes } from '../../core/grid/limits.js';
import type { GridModel } from '../../core/grid/types.js';
import { baseUrl, getCollection, sendText, type ApiContext } from '../context.js';
import { sendGridAnswer } from '../grid-answer.js';
import type { ApiModule } from '../module.js';
import { negotiate } from '../negotiate.js';
import { coverageHeaders } from './headers.js';
import { describeGridCollection, domainSet, fieldSchema, rangeType } from './describe.js';
import { OFFERED, type CoverageFormatName } from './formats.js';
import { COVERAGE_PARAMETERS } from './query.js';
import { prepareCoverage, type PreparedCoverage } from './run.js';

const ROOT = 'http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/';

/** What works, under the current class names and the older ones clients still look for. */
const COVERAGES_CONFORMANCE = [
  'core',
  'subsetting-spatial',
  'subsetting-temporal',
  'subsetting-general',
  'scaling-spatial',
  'scaling-temporal',
  'scaling-general',
  'field-selection',
  'coveragejson',
  'netcdf',
  'geotiff',
  'geodata-coverage',
  'coverage-subset',
  'coverage-bbox',
  'coverage-datetime',
  'coverage-rangesubset',
].map((c) => `${ROOT}${c}`);

const params = {
  type: 'object',
  required: ['collectionId'],
  properties: { collectionId: { type: 'string', description: 'Collection id' } },
} as const;

const PARAMETER_DOCS: Record<(typeof COVERAGE_PARAMETERS)[number], string> = {
  f: 'Output format: covjson (CoverageJSON, also f=json), netcdf (NetCDF-3, CF-1.8) or tif (GeoTIFF); beats the Accept header.',
  bbox: 'minLon,minLat,maxLon,maxLat in CRS84 (or in bbox-crs); west > east crosses the antimeridian. Cells whose centre lies inside are returned.',
  'bbox-crs': "CRS of bbox: CRS84 (default), EPSG:4326 (latitude first) or the coverage's native CRS.",
  subset:
    'Axis trims and slices, e.g. Lat(10:20),Lon(30:40),time("2000-03-01T00:00:00Z":"2000-06-30T00:00:00Z"); * for an open end; one value slices to the nearest cell; time(*) is the latest step; Lon(170:-170) crosses the antimeridian. May repeat. Not with bbox on a spatial axis, nor with datetime on time (400). Outside the coverage: 204.',
  'subset-crs': 'CRS of the x/y values of subset (native by default; CRS84 on a projected grid).',
  datetime:
    'RFC 3339 instant (the nearest time step) or interval a/b, ../b, a/.. (the steps inside). Without it, f=tif holds the latest step (one band per field); other formats every step.',
  properties: 'Comma-separated fields to return (default: all; see /schema).',
  'exclude-properties': 'Comma-separated fields to leave out.',
  'scale-factor': 'Keep n/factor cells along every axis (nearest neighbour; factor ≥ 1).',
  'scale-axes': 'Per-axis factors, e.g. Lat(2),Lon(2).',
  'scale-size': 'Per-axis cell counts, e.g. Lat(100),Lon(200) (also scaleSize, as GDAL sends it).',
  width: "Cells along x (nearest neighbour, at most the subset's).",
  height: "Cells along y (nearest neighbour, at most the subset's).",
  resolution:
    'Target spacing: one number for x and y, or Lon(0.5),Lat(0.5) in axis units, time(P1M) as an ISO 8601 period; empty (resolution= or Lon()) is the native resolution. Nearest neighbour, no upsampling.',
  crs: 'Output CRS: the native CRS only (no reprojection).',
  'dry-run': 'true: answer with the size estimate (JSON) instead of the data.',
};

const coverageQuerystring = {
  type: 'object',
  additionalProperties: true,
  properties: Object.fromEntries(
    COVERAGE_PARAMETERS.map((p) => [
      p,
      p === 'subset'
        ? { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: PARAMETER_DOCS[p] }
        : { type: 'string', description: PARAMETER_DOCS[p] },
    ]),
  ),
} as const;

const errors = {
  400: { description: 'Invalid parameter (OGC exception JSON)', $ref: 'exception#' },
  404: { description: 'Unknown collection, or not a coverage (OGC exception JSON)', $ref: 'exception#' },
  502: { description: 'A data file of the collection could not be read (OGC exception JSON)', $ref: 'exception#' },
};

const jsonDoc = (description: string) => ({
  200: { description, type: 'object', additionalProperties: true },
  ...errors,
});

function gridCollection(ctx: ApiContext, id: string): Collection {
  const c = getCollection(ctx, id);
  if (c.kind !== 'grid')
    throw new NotFound(`Collection '${c.id}' holds ${c.kind} features, not a coverage: use /collections/${c.id}/items`);
  return c;
}

async function modelOf(ctx: ApiContext, request: FastifyRequest): Promise<{ c: Collection; model: GridModel }> {
  const { collectionId } = request.params as { collectionId: string };
  const c = gridCollection(ctx, collectionId);
  return { c, model: await collectionGrid(c, request.log) };
}

function dryRunDoc(c: Collection, prepared: PreparedCoverage): object {
  const { plan, bytes, exact } = prepared;
  return {
    collection: c.id,
    format: prepared.format.mediaType,
    fields: plan.fields.map((f) => f.name),
    axes: Object.fromEntries(plan.axes.map((a) => [a.axis.label, a.picks.length])),
    cells: plan.cells * plan.fields.length,
    bytes,
    exact,
    sourceBytes: plan.sourceBytes,
    limitBytes: coverageLimitBytes(),
    withinLimit: bytes <= coverageLimitBytes(),
  };
}

async function coverage(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { collectionId } = request.params as { collectionId: string };
  const c = gridCollection(ctx, collectionId);
  const format = negotiate(request, OFFERED) as CoverageFormatName;
  const controller = new AbortController();
  let prepared: PreparedCoverage;
  try {
    prepared = await prepareCoverage(c, request.query as Record<string, unknown>, format, {
      signal: controller.signal,
      requestUrl: `${baseUrl(ctx, request)}${request.url}`,
      log: request.log,
    });
  } catch (err) {
    // A well-formed subset outside the coverage: 204 No Content, as the Coverages draft allows
    // (and EDR requires); GDAL's OGC API driver reads such a block as empty.
    if (!(err instanceof EmptySelection)) throw err;
    request.log.info({ reason: err.message }, 'coverage: the selection holds no data');
    return reply.code(204).send();
  }
  if (prepared.dryRun) return sendText(reply, 'json', JSON.stringify(dryRunDoc(c, prepared)));
  reply.headers(coverageHeaders(prepared.plan));
  // Downloads (NetCDF, GeoTIFF) are named after the collection; CoverageJSON is shown.
  return sendGridAnswer(request, reply, prepared, {
    controller,
    api: 'coverages',
    ...(format === 'covjson' ? {} : { filename: c.id }),
  });
}

/** OGC API - Coverages: the coverage of a grid collection (subset, scaled, streamed), its domain, range type and schema. */
async function coveragesRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;

  app.get(
    '/collections/:collectionId/coverage',
    {
      schema: {
        summary:
          'The coverage of a grid collection, optionally subset (bbox, subset, datetime), field-selected and scaled',
        tags: ['Coverages'],
        params,
        querystring: coverageQuerystring,
        response: {
          200: {
            description: 'The coverage (streamed); with dry-run=true, its size estimate as JSON',
            content: {
              'application/vnd.cov+json': { schema: { type: 'object', additionalProperties: true } },
              'application/x-netcdf': { schema: { type: 'string', format: 'binary' } },
              'image/tiff; application=geotiff': { schema: { type: 'string', format: 'binary' } },
            },
          },
          204: { description: 'The subset lies outside the coverage (no data); nothing is returned', type: 'null' },
          ...errors,
          413: {
            description:
              "The answer would exceed the server's size limit; the description gives the estimate and a split (OGC exception JSON)",
            $ref: 'exception#',
          },
        },
      },
    },
    (request, reply) => coverage(ctx, request, reply),
  );

  app.get(
    '/collections/:collectionId/coverage/domainset',
    {
      schema: {
        summary: 'Domain set of the coverage (CIS 1.1 JSON): axes, extents, resolutions, grid limits',
        tags: ['Coverages'],
        params,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonDoc('DomainSet'),
      },
    },
    async (request, reply) => {
      const { model } = await modelOf(ctx, request);
      return sendText(reply, 'json', JSON.stringify(domainSet(model)));
    },
  );

  app.get(
    '/collections/:collectionId/coverage/rangetype',
    {
      schema: {
        summary: 'Range type of the coverage (SWE Common DataRecord): one field per variable',
        tags: ['Coverages'],
        params,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonDoc('DataRecord'),
      },
    },
    async (request, reply) => {
      const { model } = await modelOf(ctx, request);
      return sendText(reply, 'json', JSON.stringify(rangeType(model)));
    },
  );

  app.get(
    '/collections/:collectionId/schema',
    {
      schema: {
        summary: 'Fields of the coverage as a JSON Schema (for properties=)',
        tags: ['Coverages'],
        params,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonDoc('JSON Schema'),
      },
    },
    async (request, reply) => {
      const { c, model } = await modelOf(ctx, request);
      const href = `${baseUrl(ctx, request)}/collections/${encodeURIComponent(c.id)}/schema`;
      return sendText(reply, 'application/schema+json', JSON.stringify(fieldSchema(model, href, c.title)));
    },
  );
}

export const coveragesApi: ApiModule = {
  name: 'Coverages',
  conformance: COVERAGES_CONFORMANCE,
  routes: (app, opts) => coveragesRoutes(app, opts),
  describeCollection: describeGridCollection,
};
