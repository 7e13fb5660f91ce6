import { randomUUID } from 'node:crypto';
import { constants as zlibConstants } from 'node:zlib';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { Collection } from './catalog/collection.js';
import type { StacService } from './stac/service.js';
import { COMMON_CONFORMANCE, commonRoutes } from './api/common/routes.js';
import { statusRoutes } from './api/common/status.js';
import type { CatalogStatus } from './catalog/catalog.js';
import type { IndexStatus } from './catalog/indexer.js';
import type { ApiContext } from './api/context.js';
import { coveragesApi } from './api/coverages/routes.js';
import { edrApi } from './api/edr/routes.js';
import { featuresApi } from './api/features/routes.js';
import type { ApiModule } from './api/module.js';
import { openapiRoutes } from './api/openapi.js';
import { erddapApi } from './api/erddap/routes.js';
import { opendapApi } from './api/opendap/routes.js';
import { stacApi } from './api/stac/routes.js';
import { wmsApi } from './api/wms/routes.js';
import { mapsApi } from './api/maps/routes.js';
import { collectionConfigSchema } from './config/collection-schema.js';
import { healthRoutes, type Readiness, type ReadinessCheck } from './api/common/health.js';
import { catalogOf } from './catalog/catalog.js';
import { opsConfigSchema, resolveOps, type OpsConfigInput } from './config/ops-schema.js';
import { AccessPolicy } from './api/access.js';
import { accessPlugin } from './plugins/access.js';
import { Admission, admissionPlugin } from './plugins/admission.js';
import { errorsPlugin } from './plugins/errors.js';
import { httpCachePlugin } from './plugins/http-cache.js';
import { bytesOut, metricsPlugin, OpsMetrics, routeLabel } from './plugins/metrics.js';
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
  /** Cache-Control policy, admission limits, rate limit (defaults: DEFAULT_OPS). */
  ops?: OpsConfigInput;
  /** The worker pools' state for /ready (default: nothing to check). */
  workers?: () => ReadinessCheck;
  /** Restricted collections (default: the \`access\` blocks of the catalog's collection configs, else none). */
  access?: AccessPolicy;
  /** The catalog's data version (default: the version of the catalog the collections come from). */
  dataVersion?: () => string;
}

/** What the server drives at run time: admission (drained on shutdown) and the metrics registry. */
export interface AppOps {
  admission: Admission;
  metrics: OpsMetrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    ops: AppOps;
  }
}

/** The APIs served, in the order their routes and conformance classes are listed. */
export const API_MODULES: ApiModule[] = [
  featuresApi,
  coveragesApi,
  edrApi,
  stacApi,
  mapsApi,
  wmsApi,
  opendapApi,
  erddapApi,
];

const exceptionSchema = {
  $id: 'exception',
  type: 'object',
  description: 'OGC API exception',
  required: ['code'],
  properties: { code: { type: 'string' }, description: { type: 'string' } },
} as const;

/** Requests whose client closed the connection before the answer was sent: logged once, as such. */
const closedByClient = new WeakSet<FastifyRequest>();

function accessEntry(request: FastifyRequest, reply: FastifyReply, status: number): Record<string, unknown> {
  return {
    method: request.method,
    route: routeLabel(request),
    url: request.url,
    status,
    bytes: bytesOut(request),
    ms: Math.round(reply.elapsedTime * 10) / 10,
  };
}

/**
 * One access line per request instead of Fastify's two: half the logging cost at thousands of req/s.
 * A request whose client went away before the answer gets its line too (Fastify logs none: the
 * response never finishes), with nginx's 499 at info level: the client's doing, not a server failure.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(err: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (closedByClient.has(request)) return;
    const entry = accessEntry(request, reply, reply.statusCode);
    if (err) request.log.error({ ...entry, err }, 'request failed');
    else request.log.info(entry, 'request');
  }

  /** Called when the connection closed; logs the request if its answer was not sent in full. */
  requestClosed(request: FastifyRequest, reply: FastifyReply): void {
    if (reply.raw.writableFinished) return;
    closedByClient.add(request);
    request.log.info(accessEntry(request, reply, 499), 'request closed by the client before the answer');
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
    catalog: {
      file: 'none',
      backend: catalogOf(collections)?.store.kind ?? 'sqlite',
      collections: collections.size,
      features,
      files: { ok: files, skipped: 0, failed: 0 },
    },
    errors: [],
  };
}

/** The data version of the catalog a collection map comes from, if any. */
function catalogVersion(collections: Map<string, Collection>): (() => string) | undefined {
  const catalog = catalogOf(collections);
  return catalog ? () => catalog.dataVersion() : undefined;
}

/** /ready's checks: the catalog answers, the workers are up, something is served (or indexing is done). */
async function readiness(
  status: () => CatalogStatus | Promise<CatalogStatus>,
  collections: Map<string, Collection>,
  admission: Admission,
  workers?: () => ReadinessCheck,
): Promise<Readiness> {
  let s: CatalogStatus | undefined;
  let catalog: ReadinessCheck;
  try {
    s = await status();
    catalog = { ok: true, detail: `${s.catalog.collections} collections, ${s.catalog.files.ok} files served` };
  } catch (err) {
    catalog = { ok: false, detail: `the catalog cannot be read: ${(err as Error).message}` };
  }
  const i = s?.indexing;
  const done = i ? i.files.indexed + i.files.failed : 0;
  // A first start has nothing to serve until files are indexed; a restart serves its catalog at once.
  const indexingOk = i !== undefined && (i.state !== 'indexing' || collections.size > 0);
  return {
    catalog,
    workers: workers?.() ?? { ok: true, detail: 'no worker pool to check' },
    indexing: {
      ok: indexingOk,
      detail: i ? (i.state === 'indexing' ? `indexing: ${done} / ${i.files.total} files` : i.state) : 'unknown',
      state: i?.state ?? 'unknown',
      filesDone: done,
      filesTotal: i?.files.total ?? 0,
    },
    draining: admission.draining,
  };
}

/** The whole service as one Fastify instance: infrastructure, then one plugin per API, then errors. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const accessLog = new AccessLog();
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : { logger: false }),
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].length <= 128
        ? req.headers['x-request-id']
        : randomUUID(),
    trustProxy: true,
    logController: accessLog,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
  });
  const ctx: ApiContext = {
    collections: opts.collections,
    title: opts.title ?? 'odas — Ocean Data Access Server',
    description:
      opts.description ??
      'Ocean observations and gridded products served from their NetCDF, HDF5, GeoTIFF and Zarr files through OGC API - Features, Coverages, EDR, Maps and Tiles, a STAC API, a WMS 1.3 for QGIS and portals, OPeNDAP and ERDDAP URLs.',
    conformance: [...COMMON_CONFORMANCE, ...API_MODULES.flatMap((m) => m.conformance)],
    describers: API_MODULES.flatMap((m) => (m.describeCollection ? [m.describeCollection] : [])),
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.stac ? { stac: opts.stac } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    access: opts.access ?? new AccessPolicy(),
  };
  const access = ctx.access!;
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.raw.once('close', () => accessLog.requestClosed(request, reply));
  });
  const opsConfig = resolveOps(opts.ops);
  const admission = new Admission(opsConfig);
  const status = opts.status ?? (() => staticStatus(opts.collections));
  const metrics = new OpsMetrics({ limiters: admission.limiters, status });
  app.decorate('ops', { admission, metrics });
  await app.register(errorsPlugin, { onReaderError: (kind: string) => metrics.readerErrors.inc({ kind }) });
  await app.register(metricsPlugin, { metrics });
  await app.register(accessPlugin, { access });
  await app.register(admissionPlugin, { admission, metrics });
  const dataVersion = opts.dataVersion ?? catalogVersion(opts.collections);
  await app.register(httpCachePlugin, {
    collections: opts.collections,
    policy: opsConfig.cacheControl,
    restricted: (id: string) => access.restricted(id),
    ...(dataVersion ? { dataVersion } : {}),
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
  });
  // Open data: any origin may read it unless the operator lists origins.
  const origin = opts.cors === undefined || opts.cors === true ? '*' : opts.cors;
  // Headers scripts in a browser must be able to read: the CRS, extent and time of a coverage or
  // features answer (Content-Crs, -Bbox, -Datetime), download names, sizes, paging links.
  const exposedHeaders = [
    'x-request-id',
    'content-disposition',
    'content-crs',
    'content-bbox',
    'content-datetime',
    'content-length',
    'link',
    'preference-applied',
  ];
  await app.register(cors, { origin, exposedHeaders });
  // The fastest zlib level: answers run to tens of MB (21 MB of CoverageJSON for an area over 10 000 profiles
  // takes ~1.4 s at the default level 6, ~0.15 s at level 1, for a third more bytes); CPU is what 2 cores lack.
  await app.register(compress, {
    global: true,
    threshold: 2048,
    encodings: ['gzip', 'deflate'],
    zlibOptions: { level: zlibConstants.Z_BEST_SPEED },
  });
  app.addSchema(exceptionSchema);
  app.addSchema({ ...collectionConfigSchema, $id: 'collectionConfig' });
  app.addSchema({ ...opsConfigSchema, $id: 'opsConfig' });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'odas — Ocean Data Access Server', version: VERSION, description: ctx.description },
      tags: [{ name: 'Common' }, ...API_MODULES.map((m) => ({ name: m.name }))],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
  });
  await app.register(commonRoutes, { ctx });
  await app.register(statusRoutes, { ctx, status });
  await app.register(healthRoutes, { readiness: () => readiness(status, opts.collections, admission, opts.workers) });
  for (const m of API_MODULES) await app.register(m.routes, { ctx });
  await app.register(openapiRoutes, { ctx });
  return app;
}
