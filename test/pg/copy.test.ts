// `odas catalog copy` from a SQLite catalog into PostgreSQL: the copy serves the same pages without re-indexing.
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { PgBackend } from '../../src/catalog/store/pg/backend.js';
import { copySqliteToPg } from '../../src/catalog/store/pg/copy.js';
import Database from 'better-sqlite3';
import { freshDatabase } from '../helpers/catalog-db.js';
import { silent } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const odas = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });

t.test('odas catalog copy moves a SQLite catalog into PostgreSQL: the same pages, no re-indexing', async (t) => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-copy-'));
  const root = sharedData('argo');
  const built = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    rescanSeconds: 0,
    workers: 1,
  });
  await built.indexOnce();
  await built.close();
  const url = await freshDatabase();
  const copied = odas('catalog', 'copy', '--data', root, '--cache-dir', cacheDir, '--to', url);
  t.equal(copied.status, 0, `odas catalog copy exits 0 ${copied.status === 0 ? '' : copied.stderr}`);
  t.match(copied.stdout, /collection\(s\), \d+ file\(s\), \d+ item\(s\)/);
  const target = await PgBackend.open(url);
  const db = new Database(await Catalog.fileFor(cacheDir, [root]), { readonly: true });
  await t.rejects(copySqliteToPg(db, target), /is not empty/, 'a second copy into the same database is refused');
  db.close();
  await target.close();

  const sqlite = await Catalog.open({ dataRoots: [root], configs: [], log: silent, cacheDir, rescanSeconds: 0 });
  const postgres = await Catalog.open({ dataRoots: [root], configs: [], log: silent, catalog: url, rescanSeconds: 0 });
  t.teardown(async () => {
    await sqlite.close();
    await postgres.close();
  });
  t.same(
    [...postgres.collections.keys()].sort(),
    [...sqlite.collections.keys()].sort(),
    'the same collections, before any indexing',
  );
  const a = await buildApp({ collections: sqlite.collections });
  const b = await buildApp({ collections: postgres.collections });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  for (const url of [
    '/collections/1900857_prof/items?limit=7&offset=3',
    '/collections/1900857_prof/items?bbox=-60,-50,-20,-30&datetime=2008-01-01T00:00:00Z/..',
    '/stac/search?limit=5&collections=1900857_prof',
    '/collections/1900857_prof/items/1900857_010?f=json',
  ]) {
    const one = (await a.inject({ url })).body.replace(/"timeStamp":"[^"]+"/, '');
    const two = (await b.inject({ url })).body.replace(/"timeStamp":"[^"]+"/, '');
    t.equal(two, one, `${url}: the same answer from both catalogs`);
  }
  const indexed = await postgres.indexer.scan().then(() => postgres.indexer.status());
  t.equal(indexed.lastScan?.read, 0, 'the copy is up to date: a scan reads no file again');
});
