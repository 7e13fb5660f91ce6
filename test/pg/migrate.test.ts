// Schema migrations (applied at start, `odas catalog migrate`), and a catalog from a newer odas refused.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { Catalog } from '../../src/catalog/catalog.js';
import { PgBackend } from '../../src/catalog/store/pg/backend.js';
import { migrate, SCHEMA_VERSION } from '../../src/catalog/store/pg/schema.js';
import { freshDatabase } from '../helpers/catalog-db.js';
import { silent } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const odas = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli.ts'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });

t.test('migrations run once; a catalog from a newer odas is refused with a clear message', async (t) => {
  const url = await freshDatabase();
  const run = odas('catalog', 'migrate', '--catalog', url);
  t.equal(run.status, 0, `odas catalog migrate exits 0 ${run.status === 0 ? '' : run.stderr}`);
  t.match(run.stdout, new RegExp(`catalog schema ${SCHEMA_VERSION}`));
  const again = await PgBackend.open(url);
  t.same(
    await migrate(again.pool, again.location),
    { from: SCHEMA_VERSION, to: SCHEMA_VERSION },
    'a second run has nothing to do',
  );
  await again.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const gist = await c.query<{ indexname: string }>(
    "SELECT indexname FROM pg_indexes WHERE tablename = 'items' AND indexdef LIKE '%gist%' ORDER BY indexname",
  );
  t.same(
    gist.rows.map((r) => r.indexname),
    ['items_g', 'items_stbox'],
    'items have GiST indexes on their geometry and on space + time',
  );
  await c.query('INSERT INTO odas_schema (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
  await c.end();
  await t.rejects(PgBackend.open(url), /written by a newer odas \(schema \d+; this odas knows schemas up to \d+\)/);
  await t.rejects(
    Catalog.open({ dataRoots: [sharedData('argo')], configs: [], log: silent, catalog: url }),
    /newer odas/,
    'odas serve refuses it',
  );
});
