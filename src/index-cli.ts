import { pino } from 'pino';
import { Catalog } from './catalog/catalog.js';
import type { CollectionConfig } from './config/collection-schema.js';

export interface IndexCommandOptions {
  dataRoots: string[];
  configs: CollectionConfig[];
  cacheDir: string;
  /** A PostgreSQL catalog instead of the SQLite file in cacheDir. */
  catalog?: string;
  logLevel: string;
  workers?: number;
}

/** `odas index`: bring the catalog up to date once, with a progress line on a terminal, then exit. */
export async function indexCommand(opts: IndexCommandOptions): Promise<void> {
  const log = pino(
    { level: opts.logLevel, base: { service: 'odas' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
  const catalog = await Catalog.open({
    dataRoots: opts.dataRoots,
    configs: opts.configs,
    cacheDir: opts.cacheDir,
    ...(opts.catalog ? { catalog: opts.catalog } : {}),
    log,
    rescanSeconds: 0,
    hdf5Manifests: true,
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
  });
  const tty = process.stderr.isTTY;
  const t0 = Date.now();
  const bar = setInterval(
    () => {
      const s = catalog.indexer.status();
      const done = s.files.indexed + s.files.failed;
      const line = `indexing: ${done}/${s.files.total} files, ${s.lastScan?.read ?? 0} read, ${s.files.failed} failed, ${s.rate} files/s, ${((Date.now() - t0) / 1000).toFixed(0)} s`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
    tty ? 500 : 5000,
  );
  let failure: Error | undefined;
  try {
    await catalog.indexOnce();
  } catch (err) {
    failure = err as Error;
  } finally {
    clearInterval(bar);
    if (tty) process.stderr.write('\n');
  }
  if (failure) {
    // Another process indexing, the database away: one clear line, not a stack.
    process.stderr.write(`odas index: ${failure.message}\n`);
    process.exitCode = 1;
    await catalog.close();
    return;
  }
  const s = await catalog.status();
  process.stdout.write(
    `${catalog.file}: ${s.catalog.collections} collection(s), ${s.catalog.features} feature(s); files: ${s.catalog.files.ok} served, ${s.catalog.files.skipped} skipped, ${s.catalog.files.failed} failed; ${s.indexing.lastScan?.read ?? 0} read in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  for (const e of s.errors.slice(0, 20)) process.stdout.write(`  failed: ${e.file}: ${e.error}\n`);
  await catalog.close();
  const { closeHdf5Pool } = await import('./readers/hdf5/reader.js');
  await closeHdf5Pool();
}
