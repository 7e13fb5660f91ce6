/**
 * `odas catalog migrate|copy`: bring a PostgreSQL catalog to this odas's schema, or move a SQLite
 * catalog (the one `odas serve` built for some data roots) into PostgreSQL for replicas to share.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Catalog, defaultCacheDir, isDatabaseUrl } from './catalog/catalog.js';

export const CATALOG_USAGE = `  odas catalog migrate --catalog postgresql://USER@HOST:PORT/DB
                                  apply the catalog schema's migrations (serve does it at start)
  odas catalog copy --data DIR... [--cache-dir DIR | --from FILE.sqlite] --to postgresql://...
                                  move a SQLite catalog into an empty PostgreSQL catalog
`;

export async function runCatalogCommand(args: string[], fail: (message: string) => never): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      catalog: { type: 'string' },
      data: { type: 'string', multiple: true },
      'cache-dir': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
    strict: true,
  });
  const log = pino({ level: 'warn' }, pino.destination(2));
  const { PgBackend } = await import('./catalog/store/pg/backend.js');
  if (sub === 'migrate') {
    const url = values.catalog ?? process.env['ODAS_CATALOG'];
    if (!isDatabaseUrl(url))
      fail('odas catalog migrate needs --catalog postgresql://USER@HOST:PORT/DB (or ODAS_CATALOG)');
    const { migrate } = await import('./catalog/store/pg/schema.js');
    const backend = await PgBackend.open(url, { log });
    try {
      const { from, to } = await migrate(backend.pool, backend.location);
      process.stdout.write(`${backend.location}: catalog schema ${to}${from === to ? ' (up to date)' : ''}\n`);
    } finally {
      await backend.close();
    }
    return;
  }
  if (sub === 'copy') {
    const url = values.to;
    if (!isDatabaseUrl(url)) fail('odas catalog copy needs --to postgresql://USER@HOST:PORT/DB');
    let file = values.from ? resolve(values.from) : undefined;
    if (!file) {
      if (!values.data?.length)
        fail(
          'odas catalog copy needs the data roots the catalog was built for (--data DIR...) or the catalog file (--from FILE)',
        );
      file = await Catalog.fileFor(
        resolve(values['cache-dir'] ?? defaultCacheDir()),
        values.data.map((d) => resolve(d)),
      );
    }
    if (!existsSync(file)) fail(`no SQLite catalog at ${file}: build it first with odas index --data DIR...`);
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    const { copySqliteToPg } = await import('./catalog/store/pg/copy.js');
    const target = await PgBackend.open(url, { log });
    try {
      const r = await copySqliteToPg(db, target, (table, n) => process.stderr.write(`\r${table}: ${n} rows\u001b[K`));
      process.stderr.write('\n');
      process.stdout.write(
        `${file} → ${target.location}: ${r.collections} collection(s), ${r.files} file(s), ${r.items} item(s) in ${r.seconds.toFixed(1)} s\n`,
      );
    } catch (err) {
      fail((err as Error).message);
    } finally {
      db.close();
      await target.close();
    }
    return;
  }
  fail(`unknown catalog command '${sub ?? ''}'\n\n${CATALOG_USAGE}`);
}
