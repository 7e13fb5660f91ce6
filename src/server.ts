import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { AccessPolicy } from './api/access.js';
import { buildApp } from './app.js';
import { Catalog } from './catalog/catalog.js';
import { closeEncodePool, encodePoolStats, warmEncodePool } from './encoders/offload/offload.js';
import type { CollectionConfig } from './config/collection-schema.js';
import { loadCollectionConfigs } from './config/load.js';
import { resolveOps, type OpsConfigInput } from './config/ops-schema.js';
import { StacService, type StacExtensionName } from './stac/service.js';

export interface ServeOptions {
  dataRoots: string[];
  configs: CollectionConfig[];
  host: string;
  port: number;
  cacheDir?: string;
  /** A PostgreSQL catalog (postgresql://…) shared with other replicas, instead of the SQLite file. */
  catalog?: string;
  baseUrl?: string;
  cors: boolean | string[];
  logLevel: string;
  /** STAC extensions to declare (their schemas must be reachable by validators). */
  stacExtensions?: StacExtensionName[];
  /** Seconds between rescans of the data roots (0: index once at start). */
  rescanSeconds?: number;
  /** Indexing threads (default: every core). */
  workers?: number;
  /** The folder the configs were read from: SIGHUP reads it again. */
  configsDir?: string;
  /** Cache-Control policy, admission limits, rate limit, shutdown deadline. */
  ops?: OpsConfigInput;
}

function createLogger(level: string): Logger {
  // Buffered asynchronous writes: a synchronous write per access line costs a third of the throughput.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 1000).unref();
  return pino({ level, base: { service: 'odas' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** Open the catalog, listen at once, and index in the background; close cleanly on SIGINT/SIGTERM. */
export async function serve(opts: ServeOptions): Promise<FastifyInstance> {
  const log = createLogger(opts.logLevel);
  {
    // Before the indexer opens any file: which read path each HDF5 variable takes is logged once.
    const { getHdf5Pool } = await import('./readers/hdf5/reader.js');
    getHdf5Pool().setLog(log.child({ component: 'hdf5' }));
  }
  const catalog = await Catalog.open({
    dataRoots: opts.dataRoots,
    configs: opts.configs,
    log,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.catalog ? { catalog: opts.catalog } : {}),
    ...(opts.rescanSeconds !== undefined ? { rescanSeconds: opts.rescanSeconds } : {}),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    hdf5Manifests: true,
  });
  const collections = catalog.collections;
  log.info(
    { file: catalog.file, collections: collections.size },
    `catalog ${catalog.file}: ${collections.size} collection(s) ready to serve; indexing ${opts.dataRoots.join(', ')} in the background`,
  );
  const stac = StacService.create({
    collections,
    store: catalog.store,
    ...(opts.stacExtensions ? { extensions: opts.stacExtensions } : {}),
  });
  const access = new AccessPolicy(opts.configs);
  const { getHdf5Pool } = await import('./readers/hdf5/reader.js');
  const workers = () => {
    const st = getHdf5Pool().stats;
    const needed = [...collections.values()].some((c) => c.formats.includes('hdf5'));
    // Workers start on demand and are restarted after a crash: stuck means tasks waiting with none alive.
    const hdf5Ok = !(needed && st.workers === 0 && st.queued > 0);
    const enc = encodePoolStats();
    const encodeOk = !enc || !(enc.workers === 0 && enc.queued > 0);
    const encodeDetail = enc
      ? `${enc.workers} of ${enc.size} encode worker(s), ${enc.running} job(s), ${enc.queued} queued`
      : 'encoding on the main thread (ODAS_ENCODE_WORKERS=0)';
    return {
      ok: hdf5Ok && encodeOk,
      detail: `${st.workers} HDF5 worker(s), ${st.busy} busy, ${st.queued} queued; ${encodeDetail}`,
    };
  };
  const app = await buildApp({
    collections,
    logger: log,
    cors: opts.cors,
    stac,
    status: () => catalog.status(),
    progress: () => catalog.indexer.status(),
    dataVersion: () => catalog.dataVersion(),
    access,
    workers,
    ...(opts.ops ? { ops: opts.ops } : {}),
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}),
  });
  const { shutdownSeconds } = resolveOps(opts.ops);
  let closing = false;
  // Stop accepting, let answers in flight finish (new requests on open connections get 503 +
  // Connection: close), cut what is still running at the deadline, then exit 0.
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    const inFlight = app.ops.metrics.inFlight;
    log.info(
      { signal, deadlineSeconds: shutdownSeconds },
      `shutting down: no new requests; answers in flight have ${shutdownSeconds} s to finish`,
    );
    app.ops.admission.drain();
    const deadline = setTimeout(() => {
      void inFlight
        .get()
        .then((g) =>
          log.warn({ cut: g.values[0]?.value ?? 0 }, 'shutdown deadline reached: cutting the answers still in flight'),
        );
      app.server.closeAllConnections();
    }, shutdownSeconds * 1000);
    deadline.unref();
    await app.close();
    clearTimeout(deadline);
    await catalog.close();
    const { closeHdf5Pool } = await import('./readers/hdf5/reader.js');
    await closeHdf5Pool();
    await closeEncodePool();
    log.info('stopped');
    log.flush();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
  // SIGHUP: read the collection configs again; connections and answers in flight are not touched.
  process.on('SIGHUP', () => {
    if (!opts.configsDir) {
      log.info('SIGHUP: no --collections folder to reload');
      return;
    }
    void reloadConfigs(opts.configsDir, catalog, access, log);
  });
  await app.listen({ host: opts.host, port: opts.port });
  catalog.start();
  // Static STAC catalogs in the data roots: found after the port opens (a walk of the whole archive).
  stac
    .loadStatics(opts.dataRoots, log)
    .catch((err: Error) => log.error({ err: err.message }, `static STAC catalogs: ${err.message}`));
  warmHdf5(catalog, log);
  warmEncodePool();
  return app;
}

/** Reloads the configs of a folder: access rules and metadata at once; a broken file keeps the old ones. */
async function reloadConfigs(dir: string, catalog: Catalog, access: AccessPolicy, log: Logger): Promise<void> {
  try {
    const configs = await loadCollectionConfigs(dir);
    access.update(configs);
    const r = await catalog.reloadConfigs(configs);
    if (r.applied)
      log.info({ configs: configs.length }, `SIGHUP: ${configs.length} collection config(s) reloaded from ${dir}`);
    else log.warn({ configs: configs.length }, `SIGHUP: access rules reloaded; metadata not applied: ${r.reason}`);
  } catch (err) {
    log.error(
      { err: (err as Error).message },
      `SIGHUP: configs in ${dir} not reloaded, the current ones stay: ${(err as Error).message}`,
    );
  }
}

/** Start the HDF5 workers and read the first grid files' metadata once collections need them. */
function warmHdf5(catalog: Catalog, log: Logger): void {
  let warmed = false;
  const check = () => {
    if (warmed) return;
    const grids = [...catalog.collections.values()].filter((c) => c.formats.includes('hdf5'));
    if (grids.length === 0) return;
    warmed = true;
    void import('./readers/hdf5/reader.js')
      .then(({ getHdf5Pool }) => {
        const pool = getHdf5Pool();
        pool.warm();
        // Metadata of the first grid files: the first coverage request then starts at once.
        for (const c of grids.filter((x) => x.kind === 'grid').slice(0, 16))
          pool.info(join(c.root, c.files[0]!)).catch(() => undefined);
      })
      .catch((err: Error) => log.warn({ err: err.message }, 'could not start the HDF5 workers'));
  };
  check();
  catalog.indexer.onChange(check);
}
