import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { API_MODULES } from './app.js';
import { defaultCacheDir } from './catalog/catalog.js';
import { discover } from './catalog/discover.js';
import { loadCollectionConfigs } from './config/load.js';
import { parseStacExtensions, StacService } from './stac/service.js';
import { exportStaticCatalog } from './api/stac/export.js';

export const STAC_USAGE = `  odas stac export OUTDIR [--data DIR]... [--collections CONFIG_DIR] [--base-url URL]
             [--cache-dir DIR | --no-cache] [--stac-extensions proj,datacube,file|none]
                                  write every collection and item as a static STAC catalog
`;

/** `odas stac export OUTDIR …`: discover like `serve`, then write the catalog; returns the process exit code. */
export async function runStacCommand(argv: string[], fail: (message: string) => never): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: 'string', multiple: true },
      collections: { type: 'string' },
      'base-url': { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
      'stac-extensions': { type: 'string' },
      'log-level': { type: 'string' },
    },
    strict: true,
  });
  const [sub, out] = positionals;
  if (sub !== 'export' || !out) fail(`usage:\n${STAC_USAGE}`);
  const dataRoots = (values.data ?? []).map((d) => resolve(d));
  if (dataRoots.length === 0) fail('stac export: give --data DIR');
  const extensions =
    values['stac-extensions'] === undefined ? undefined : parseStacExtensions(values['stac-extensions']);
  if (typeof extensions === 'string') fail(`--stac-extensions: ${extensions}`);
  const baseUrl = values['base-url'] ?? 'http://localhost:8080';
  if (!values['base-url'])
    process.stderr.write(`odas: assets and OGC links point at ${baseUrl} (give --base-url for the public server)\n`);
  const log = pino({ level: values['log-level'] ?? 'warn' }, pino.destination(2));
  const cacheDir = values['no-cache'] ? undefined : resolve(values['cache-dir'] ?? defaultCacheDir());
  const configs = values.collections ? await loadCollectionConfigs(resolve(values.collections)) : [];
  const collections = await discover({ dataRoots, configs, log, ...(cacheDir ? { cacheDir } : {}) });
  const stac = await StacService.open({
    collections,
    dataRoots,
    log,
    ...(extensions ? { extensions } : {}),
    ...(cacheDir ? { cacheDir } : {}),
  });
  try {
    const t0 = Date.now();
    const r = await exportStaticCatalog({
      stac,
      outDir: resolve(out),
      baseUrl,
      modules: API_MODULES,
      onCollection: (id, n) => process.stderr.write(`  ${id}: ${n} item(s)\n`),
    });
    process.stdout.write(
      `${resolve(out)}/catalog.json: ${r.collections} collection(s), ${r.items} item(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  } finally {
    await stac.close();
  }
}
