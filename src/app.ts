import { randomUUID } from 'node:crypto';
import { constants as zlibConstants } from 'node:zlib';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Collection } from './catalog/collection.js';
import type { StacService } from './stac/service.js';
import { COMMON_CONFORMANCE, commonRoutes } from './api/common/routes.js';
import { statusRoutes } from './api/common/status.js';
import { catalogOf, type CatalogStatus } from './catalog/catalog.js';
import type { IndexStatus } from './catalog/indexer.js';
import type { ApiContext } from './api/context.js';
import { coveragesApi } from './api/coverages/routes.js';
import { edrApi } from './api/edr/routes.js';
import { featuresApi } from './api/features/routes.js';
import type { ApiModule } from './api/module.js';
import { openapiRoutes } from './api/openapi.js';
import { stacApi } from './api/stac/routes.js';
import { wmsApi } from './api/wms/routes.js';
import { mapsApi } from './api/maps/routes.js';
import { collectionConfigSchema } from './config/collection-schema.js';
import { errorsPlugin } from './plugins/errors.js';
import { VERSION } from './version.js';

export interface AppOptions {
  collections: Map<string, Collection>;
  title?: string;
  description?: string;
  baseUrl?: string;
  /** CORS origin setting: true (any origin, the default), false, or a list of origins. */
  cors?: boolean | string[];
  /** A pino logger shared with discovery; none = silent (tests). */
  logger?: Logger;
  /** The STAC index built at start; without it the STAC API builds a temporary one on first use. */
  stac?: StacService;
  /** The indexer's status document (served at /status and linked from the landing page). */
  status?: () => CatalogStatus | Promise<CatalogStatus>;
  /** The indexer's progress (cheap: read by every /collections listing while it indexes). */
  progress?: () => IndexStatus;
}

/** The APIs served, in the order their routes and conformance classes are listed. */
export const API_MODULES: ApiModule[] = [featuresApi, coveragesApi, edrApi, stacApi, mapsApi, wmsApi];

const exceptionSchema = {
  $id: 'exception',
  type: 'object',
  description: 'OGC API exception',
  required: ['code'],
  properties: { code: { type: 'string' }, description: { type: 'string' } },
} as const;

/** One access line per request instead of Fastify's two: half the logging cost at thousands of req/s. */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(err: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const entry = { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (err) request.log.error({ ...entry, err }, 'request failed');
    else request.log.info(entry, 'request');
  }
}

/** The status of collections given whole (tools, tests): nothing is being indexed. */
function staticStatus(collections: Map<string, Collection>): CatalogStatus {
  let features = 0;
  let files = 0;
  for (const c of collections.values()) {
    features += c.features?.size ?? 0;
    files += c.fileCount;
  }
  return {
    indexing: { state: 'idle', files: { total: files, indexed: files, failed: 0, pending: 0 }, rate: 0, scans: 0 },
    catalog: { file: 'none', backend: catalogOf(collections)?.store.kind ?? 'sqlite', collections: collections.size, features, files: { ok: files, skipped: 0, failed: 0 } },
    errors: [],
  };
}

/** The whole service as one Fastify instance: infrastructure, then one plugin per API, then errors. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    genReqId: (req) => (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].length <= 128 ? req.headers['x-request-id'] : randomUUID()),
    trustProxy: true,
    logController: new AccessLog(),
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });
  const ctx: ApiContext = {
    collections: opts.collections,
    title: opts.title ?? 'odas — Ocean Data Access Server',
    description: opts.description ?? 'Ocean observations and gridded products served from their NetCDF, HDF5 and GeoTIFF files through OGC API - Features, Coverages, EDR, Maps and Tiles, a WMS 1.3 for QGIS and portals, and a STAC API.',
    conformance: [...COMMON_CONFORMANCE, ...API_MODULES.flatMap((m) => m.conformance)],
    describers: API_MODULES.flatMap((m) => (m.describeCollection ? [m.describeCollection] : [])),
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.stac ? { stac: opts.stac } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  };
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await app.register(errorsPlugin);
  // Open data: any origin may read it unless the operator lists origins.
  const origin = opts.cors === undefined || opts.cors === true ? '*' : opts.cors;
  await app.register(cors, { origin, exposedHeaders: ['x-request-id', 'content-disposition'] });
  // The fastest zlib level: answers run to tens of MB (21 MB of CoverageJSON for an area over 10 000 profiles
  // takes ~1.4 s at the default level 6, ~0.15 s at level 1, for a third more bytes); CPU is what 2 cores lack.
  await app.register(compress, { global: true, threshold: 2048, encodings: ['gzip', 'deflate'], zlibOptions: { level: zlibConstants.Z_BEST_SPEED } });
  app.addSchema(exceptionSchema);
  app.addSchema({ ...collectionConfigSchema, $id: 'collectionConfig' });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'odas — Ocean Data Access Server', version: VERSION, description: ctx.description },
      tags: [{ name: 'Common' }, ...API_MODULES.map((m) => ({ name: m.name }))],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
  });
  await app.register(commonRoutes, { ctx });
  await app.register(statusRoutes, { ctx, status: opts.status ?? (() => staticStatus(opts.collections)) });
  for (const m of API_MODULES) await app.register(m.routes, { ctx });
  await app.register(openapiRoutes, { ctx });
  return app;
}
