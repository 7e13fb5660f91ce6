#!/usr/bin/env node
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from './catalog/catalog.js';
import { ConfigError, loadCollectionConfigs } from './config/load.js';
import { loadOpsConfig } from './config/ops-load.js';
import { serve } from './server.js';
import { parseStacExtensions } from './stac/service.js';
import { runStacCommand, STAC_USAGE } from './stac-export-cli.js';
import { CATALOG_USAGE, runCatalogCommand } from './catalog-cli.js';
import { VERSION } from './version.js';

const USAGE = `odas ${VERSION} — Ocean Data Access Server

usage:
  odas serve [--data DIR]... [--collections CONFIG_DIR] [--host H] [--port P]
             [--demo] [--cache-dir DIR | --no-cache] [--base-url URL] [--cors ORIGINS|false]
             [--rescan SECONDS] [--workers N] [--log-level info] [--stac-extensions proj,datacube,file|none]
             [--ops-config FILE] [--cache-control KIND=VALUE]... [--limit CLASS=N[:QUEUE[:WAIT_MS]]]...
             [--rate-limit PER_SECOND[:BURST]] [--shutdown-timeout SECONDS]
             [--catalog postgresql://USER@HOST:PORT/DB]
  odas index --data DIR... [--collections CONFIG_DIR] [--cache-dir DIR | --catalog URL] [--workers N]
                                  build or refresh the catalog offline (cron, CI, a replica's init)
  odas validate [CONFIG_DIR]      check collections/*.yaml against the schema
  odas demo [DIR]                 write the demo data files
${STAC_USAGE}${CATALOG_USAGE}  odas --version

Environment: PORT, HOST, ODAS_CACHE_DIR, ODAS_CATALOG, LOG_LEVEL, ODAS_CACHE_CONTROL ('KIND=VALUE;…'),
  ODAS_RATE_LIMIT, ODAS_SHUTDOWN_TIMEOUT.
  --data DIR       a data root; each file is a collection, a folder of homogeneous files is one,
                   an Argo GDAC tree (dac/<centre>/<wmo>/...) one collection per file family
  --rescan S       seconds between rescans of the data roots for new, changed and removed files
                   (default 15; 0 = index once at start)
  --demo           also serve the demo data the project generates (what 'npm start' does)
  --catalog URL    keep the catalog in PostgreSQL/PostGIS instead of a SQLite file in the cache
                   folder: several odas processes on one database serve together, one indexes
  --cache-control  Cache-Control per kind of answer: metadata, features, data, stac
                   (e.g. --cache-control 'data=public, max-age=3600')
  --limit          admission per class of work (metadata, features, data, heavy): requests at
                   once, queued, and how long one may wait (ms); beyond: 503 with Retry-After
  --rate-limit     requests per second per client (bearer token, else address); over it: 429
  --shutdown-timeout  seconds answers in flight get on SIGTERM before their connections are cut
  SIGHUP reloads the --collections configs (access rules, titles…) without dropping connections.
`;

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function fail(message: string): never {
  process.stderr.write(`odas: ${message}\n`);
  process.exit(2);
}

async function demoDir(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, 'demo-data');
  await mkdir(dir, { recursive: true });
  const { generateDemoData } = await import('./demo/generate.js');
  await generateDemoData(dir);
  return dir;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (command === 'validate') {
    const dir = resolve(rest[0] ?? 'collections');
    try {
      const configs = await loadCollectionConfigs(dir);
      process.stdout.write(
        `${dir}: ${configs.length} collection config(s) valid: ${configs.map((c) => c.id).join(', ')}\n`,
      );
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      throw err;
    }
    return;
  }
  if (command === 'demo') {
    const dir = resolve(rest[0] ?? join(defaultCacheDir(), 'demo-data'));
    await mkdir(dir, { recursive: true });
    const { generateDemoData } = await import('./demo/generate.js');
    const files = await generateDemoData(dir);
    process.stdout.write(`${files.length} demo file(s) in ${dir}\n`);
    return;
  }
  if (command === 'catalog') {
    await runCatalogCommand(rest, fail);
    return;
  }
  if (command === 'stac') {
    await runStacCommand(rest, fail);
    return;
  }
  if (command !== 'serve' && command !== 'index') fail(`unknown command '${command}'\n\n${USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      data: { type: 'string', multiple: true },
      collections: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      demo: { type: 'boolean' },
      'cache-dir': { type: 'string' },
      'no-cache': { type: 'boolean' },
      'base-url': { type: 'string' },
      cors: { type: 'string' },
      'log-level': { type: 'string' },
      'stac-extensions': { type: 'string' },
      rescan: { type: 'string' },
      workers: { type: 'string' },
      catalog: { type: 'string' },
      'ops-config': { type: 'string' },
      'cache-control': { type: 'string', multiple: true },
      limit: { type: 'string', multiple: true },
      'rate-limit': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
    },
    strict: true,
  });
  const stacExtensions =
    values['stac-extensions'] === undefined ? undefined : parseStacExtensions(values['stac-extensions']);
  if (typeof stacExtensions === 'string') fail(`--stac-extensions ${values['stac-extensions']}: ${stacExtensions}`);
  const cacheDir = resolve(values['cache-dir'] ?? defaultCacheDir());
  const dataRoots: string[] = [];
  for (const d of values.data ?? []) {
    const abs = resolve(d);
    if (!(await exists(abs))) fail(`--data ${d}: no such folder`);
    dataRoots.push(abs);
  }
  if (values.demo) dataRoots.push(await demoDir(cacheDir));
  if (dataRoots.length === 0) fail('nothing to serve: give --data DIR (or --demo)');
  let configs: Awaited<ReturnType<typeof loadCollectionConfigs>> = [];
  if (values.collections) {
    try {
      configs = await loadCollectionConfigs(resolve(values.collections));
    } catch (err) {
      if (err instanceof ConfigError) fail(err.message);
      throw err;
    }
  }
  const rescan = values.rescan === undefined ? undefined : Number(values.rescan);
  if (rescan !== undefined && !(Number.isFinite(rescan) && rescan >= 0))
    fail(`--rescan ${values.rescan}: expected seconds ≥ 0`);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
    fail(`--workers ${values.workers}: expected a whole number ≥ 1`);
  const catalog = values.catalog ?? process.env['ODAS_CATALOG'];
  if (catalog !== undefined && !/^postgres(ql)?:\/\//.test(catalog))
    fail(`--catalog ${catalog}: expected postgresql://USER@HOST:PORT/DB`);
  if (command === 'index') {
    if (values['no-cache']) fail('odas index writes the catalog into the cache folder: --no-cache makes no sense here');
    const { indexCommand } = await import('./index-cli.js');
    await indexCommand({
      dataRoots,
      configs,
      cacheDir,
      ...(catalog ? { catalog } : {}),
      logLevel: values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'warn',
      ...(workers !== undefined ? { workers } : {}),
    });
    return;
  }
  const port = Number(values.port ?? process.env['PORT'] ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${values.port}: not a port number`);
  let ops: Awaited<ReturnType<typeof loadOpsConfig>>;
  try {
    const envCache = process.env['ODAS_CACHE_CONTROL'];
    const rate = values['rate-limit'] ?? process.env['ODAS_RATE_LIMIT'];
    const shutdown = values['shutdown-timeout'] ?? process.env['ODAS_SHUTDOWN_TIMEOUT'];
    ops = await loadOpsConfig(values['ops-config'], {
      cacheControl: [...(envCache ? [envCache] : []), ...(values['cache-control'] ?? [])],
      limits: values.limit ?? [],
      ...(rate !== undefined ? { rateLimit: rate } : {}),
      ...(shutdown !== undefined ? { shutdownSeconds: shutdown } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const corsText = values.cors ?? process.env['ODAS_CORS'];
  const cors =
    corsText === undefined || corsText === 'true'
      ? true
      : corsText === 'false'
        ? false
        : corsText.split(',').map((s) => s.trim());
  await serve({
    dataRoots,
    configs,
    host: values.host ?? process.env['HOST'] ?? '0.0.0.0',
    port,
    ...(values['no-cache'] ? {} : { cacheDir }),
    ...(catalog ? { catalog } : {}),
    ...(values['base-url'] ? { baseUrl: values['base-url'] } : {}),
    cors,
    logLevel: values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info',
    ...(stacExtensions ? { stacExtensions } : {}),
    ...(rescan !== undefined ? { rescanSeconds: rescan } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(values.collections ? { configsDir: resolve(values.collections) } : {}),
    ops,
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`odas: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
