import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CatalogStatus } from '../catalog/catalog.js';
import type { WorkClass } from '../config/ops-schema.js';
import type { Limiter } from '../core/limiter.js';
import { encodePoolStats } from '../encoders/offload/offload.js';
import { chunkCacheStats } from '../readers/hdf5/chunk-cache.js';
import { geotiffImageReads } from '../readers/geotiff/reader.js';
import { picksStats } from '../readers/hdf5/engine.js';

/** Socket bytes written before each request started: keep-alive sockets carry one request after another. */
const socketStart = new WeakMap<FastifyRequest, number>();

/** Bytes written to the client for this request so far (status line, headers and body, after compression). */
export function bytesOut(request: FastifyRequest): number {
  const start = socketStart.get(request);
  const now = request.raw.socket?.bytesWritten;
  return start === undefined || now === undefined ? 0 : Math.max(0, now - start);
}

/** The route template a request matched, or 'unmatched' (404s must not grow the label set). */
export function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

export interface MetricsSources {
  limiters: Record<WorkClass, Limiter>;
  status: () => CatalogStatus | Promise<CatalogStatus>;
}

/** The Prometheus registry of one app, with the counters the error handler and the streams feed. */
export class OpsMetrics {
  readonly registry = new Registry();
  readonly readerErrors = new Counter({
    name: 'odas_reader_errors_total',
    help: 'Requests failed by a data file that could not be read, by error kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'odas_requests_rejected_total',
    help: 'Requests refused by admission control (503) or the per-client rate limit (429)',
    labelNames: ['class', 'reason'],
    registers: [this.registry],
  });
  readonly requests = new Counter({
    name: 'odas_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'odas_http_request_duration_seconds',
    help: 'Time from request to the last byte sent, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'odas_http_response_bytes_total',
    help: 'Bytes sent (headers and body, after compression), by route template',
    labelNames: ['route'],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'odas_http_requests_in_flight',
    help: 'Requests being answered',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'odas_work_running',
      help: 'Requests holding a slot, by class of work',
      labelNames: ['class'],
      registers: r,
      collect() {
        for (const [name, l] of Object.entries(sources.limiters)) this.set({ class: name }, l.stats.running);
      },
    });
    new Gauge({
      name: 'odas_work_queued',
      help: 'Requests waiting for a slot, by class of work',
      labelNames: ['class'],
      registers: r,
      collect() {
        for (const [name, l] of Object.entries(sources.limiters)) this.set({ class: name }, l.stats.queued);
      },
    });
    const cache = (name: string, help: string, read: () => number | Promise<number>) =>
      new Gauge({
        name,
        help,
        registers: r,
        async collect() {
          this.set(await read());
        },
      });
    // Gauges over monotonic counts kept by the reader layer: Prometheus' counter semantics hold (they only grow).
    new Counter({
      name: 'odas_hdf5_chunk_cache_hits_total',
      help: 'Decoded HDF5 chunks served from the chunk cache',
      registers: r,
      collect() {
        this.reset();
        this.inc(chunkCacheStats.hits);
      },
    });
    new Counter({
      name: 'odas_hdf5_chunk_cache_misses_total',
      help: 'HDF5 chunks read and decoded (not in the cache)',
      registers: r,
      collect() {
        this.reset();
        this.inc(chunkCacheStats.misses);
      },
    });
    new Counter({
      name: 'odas_hdf5_chunk_cache_evictions_total',
      help: 'Decoded chunks dropped from the cache to stay within its size',
      registers: r,
      collect() {
        this.reset();
        this.inc(chunkCacheStats.evictions);
      },
    });
    new Counter({
      name: 'odas_hdf5_picked_chunks_total',
      help: 'HDF5 chunks decoded by the workers of decimated reads (maps, overviews)',
      registers: r,
      collect() {
        this.reset();
        this.inc(picksStats.chunks);
      },
    });
    new Counter({
      name: 'odas_hdf5_picked_tasks_dropped_total',
      help: 'Decimated-read tasks dropped unstarted because their request went away',
      registers: r,
      collect() {
        this.reset();
        this.inc(picksStats.dropped);
      },
    });
    new Counter({
      name: 'odas_geotiff_image_reads_total',
      help: 'GeoTIFF pieces read, by image: ifd 0 is full resolution, higher ones are overviews',
      labelNames: ['ifd'],
      registers: r,
      collect() {
        this.reset();
        geotiffImageReads.forEach((n, ifd) => this.inc({ ifd: String(ifd) }, n ?? 0));
      },
    });
    cache('odas_hdf5_chunk_cache_bytes', 'Decoded bytes held by the chunk cache', () => chunkCacheStats.bytes);
    // The encode workers (large CoverageJSON/CSV/GeoJSON answers, maps): threads, jobs at work and waiting, outcomes.
    cache('odas_encode_workers', 'Encode worker threads alive', () => encodePoolStats()?.workers ?? 0);
    cache('odas_encode_jobs_running', 'Encode jobs given a worker', () => encodePoolStats()?.running ?? 0);
    cache('odas_encode_jobs_queued', 'Encode jobs waiting for a worker', () => encodePoolStats()?.queued ?? 0);
    new Counter({
      name: 'odas_encode_jobs_total',
      help: 'Encode jobs by outcome: done, failed, cancelled (client gone), refused (queue full: 503)',
      labelNames: ['outcome'],
      registers: r,
      collect() {
        this.reset();
        const st = encodePoolStats();
        for (const outcome of ['done', 'failed', 'cancelled', 'refused'] as const)
          this.inc({ outcome }, st?.[outcome] ?? 0);
      },
    });
    let last: { at: number; status: Promise<CatalogStatus> } | undefined;
    // One status read per scrape, shared by the index gauges (it counts files in the catalog).
    const status = (): Promise<CatalogStatus> => {
      const now = Date.now();
      if (!last || now - last.at > 500) last = { at: now, status: Promise.resolve(sources.status()) };
      return last.status;
    };
    new Gauge({
      name: 'odas_index_files',
      help: 'Files of the current (or last) scan by state: total, indexed, failed, pending (modified too recently)',
      labelNames: ['state'],
      registers: r,
      async collect() {
        const f = (await status()).indexing.files;
        for (const state of ['total', 'indexed', 'failed', 'pending'] as const) this.set({ state }, f[state]);
      },
    });
    new Gauge({
      name: 'odas_index_state',
      help: 'The indexer state (1 for the current one): idle, indexing, follower',
      labelNames: ['state'],
      registers: r,
      async collect() {
        const s = (await status()).indexing.state;
        for (const state of ['idle', 'indexing', 'follower'] as const) this.set({ state }, s === state ? 1 : 0);
      },
    });
    cache(
      'odas_index_rate_files_per_second',
      'Files read per second by the current (or last) scan',
      async () => (await status()).indexing.rate,
    );
    cache('odas_index_scans', 'Scans of the data roots since start', async () => (await status()).indexing.scans);
    cache('odas_catalog_collections', 'Collections served', async () => (await status()).catalog.collections);
    cache('odas_catalog_features', 'Features in the catalog', async () => (await status()).catalog.features);
    new Gauge({
      name: 'odas_catalog_files',
      help: 'Files in the catalog by state: ok (served), skipped (not data), failed (unreadable)',
      labelNames: ['state'],
      registers: r,
      async collect() {
        const f = (await status()).catalog.files;
        for (const state of ['ok', 'skipped', 'failed'] as const) this.set({ state }, f[state]);
      },
    });
  }
}

/** Request counts, latency and bytes per route template; `/metrics` in the Prometheus text format. */
export const metricsPlugin = fp(async (app: FastifyInstance, opts: { metrics: OpsMetrics }) => {
  const m = opts.metrics;
  app.addHook('onRequest', async (request, reply) => {
    socketStart.set(request, request.raw.socket?.bytesWritten ?? 0);
    m.inFlight.inc();
    // 'close' comes once per response, whether it finished or the client went away mid-stream.
    reply.raw.once('close', () => {
      m.inFlight.dec();
      const labels = { method: request.method, route: routeLabel(request), status: String(reply.statusCode) };
      m.requests.inc(labels);
      m.duration.observe(labels, reply.elapsedTime / 1000);
      m.bytes.inc({ route: labels.route }, bytesOut(request));
    });
  });
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format 0.0.4)',
        tags: ['Common'],
        hide: false,
        response: { 200: { description: 'Metrics in the Prometheus text format', type: 'string' } },
      },
    },
    async (_request, reply) => {
      const text = await m.registry.metrics();
      return reply.header('cache-control', 'no-store').type(m.registry.contentType).send(text);
    },
  );
});
