import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from './app.js';
import { discover } from './catalog/discover.js';
import type { CollectionConfig } from './config/collection-schema.js';
import { StacService, type StacExtensionName } from './stac/service.js';

export interface ServeOptions {
  dataRoots: string[];
  configs: CollectionConfig[];
  host: string;
  port: number;
  cacheDir?: string;
  baseUrl?: string;
  cors: boolean | string[];
  logLevel: string;
  /** STAC extensions to declare (their schemas must be reachable by validators). */
  stacExtensions?: StacExtensionName[];
}

export function createLogger(level: string): Logger {
  // Buffered asynchronous writes: a synchronous write per access line costs a third of the throughput.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => destination.flush(), 1000).unref();
  return pino({ level, base: { service: 'odas' }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

/** Index the data roots, build the app, listen, and close cleanly on SIGINT/SIGTERM. */
export async function serve(opts: ServeOptions): Promise<FastifyInstance> {
  const log = createLogger(opts.logLevel);
  {
    // Before discovery opens any file: which read path each HDF5 variable takes is logged once.
    const { getHdf5Pool } = await import('./readers/hdf5/reader.js');
    getHdf5Pool().setLog(log.child({ component: 'hdf5' }));
  }
  const collections = await discover({
    dataRoots: opts.dataRoots,
    configs: opts.configs,
    log,
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
  });
  const hdf5Collections = [...collections.values()].filter((c) => c.formats.includes('hdf5'));
  if (hdf5Collections.length > 0) {
    const { getHdf5Pool } = await import('./readers/hdf5/reader.js');
    const pool = getHdf5Pool();
    pool.warm();
    // Metadata of the first grid files, in the background: the first coverage request then starts at once.
    for (const c of hdf5Collections.filter((x) => x.kind === 'grid').slice(0, 16)) {
      pool.info(join(c.root, c.files[0]!)).catch(() => undefined);
    }
  }
  const stac = await StacService.open({ collections, dataRoots: opts.dataRoots, log, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), ...(opts.stacExtensions ? { extensions: opts.stacExtensions } : {}) });
  const app = await buildApp({ collections, logger: log, cors: opts.cors, stac, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}) });
  app.addHook('onClose', async () => stac.close());
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    await app.close();
    log.flush();
    const { closeHdf5Pool } = await import('./readers/hdf5/reader.js');
    await closeHdf5Pool();
    process.exit(0);
  };
  process.once('SIGINT', () => void close('SIGINT'));
  process.once('SIGTERM', () => void close('SIGTERM'));
  await app.listen({ host: opts.host, port: opts.port });
  return app;
}
