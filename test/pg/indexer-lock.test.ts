// The indexing lock's overlap guard on a real PostgreSQL: the lock lives on one connection, commits go
// through the pool. When that connection is killed (pg_terminate_backend, as a database restart or a
// network cut would), PostgreSQL frees the lock while the old holder's pool still works: its next
// commit must be refused once another process has taken the lock, and nothing of it may land.
// And what the lock holder maintains besides the rows: the B-trees of the queryable properties.
import pg from 'pg';
import t from 'tap';
import { PgBackend } from '../../src/catalog/store/pg/backend.js';
import type { FileCommit } from '../../src/catalog/store/ledger.js';
import { freshDatabase } from '../helpers/catalog-db.js';

const ROOT = '/data/fence';

function file(rel: string, lon: number): FileCommit {
  return {
    root: ROOT,
    rel,
    size: 100,
    mtimeMs: 1_700_000_000_000,
    status: 'ok',
    collection: { id: 'fence', kind: 'feature' },
    items: [
      {
        id: rel.replace(/\W/g, '_'),
        geometry: { type: 'Point', coordinates: [lon, 10] },
        bbox: [lon, 10, lon, 10],
        start: 1_600_000_000_000,
        end: 1_600_000_000_000,
        properties: { datetime: '2020-09-13T12:26:40Z' },
      },
    ],
  };
}

async function sql<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<R>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** pg_terminate_backend on the connection holding the indexing lock. */
async function killLockSession(url: string): Promise<number> {
  const db = new URL(url).pathname.slice(1);
  const rows = await sql<{ pid: number }>(
    url,
    `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1 AND a.application_name = 'odas-index-lock'`,
    [db],
  );
  for (const r of rows) await sql(url, 'SELECT pg_terminate_backend($1)', [r.pid]);
  return rows.length;
}

/** The plan of `query` on a connection that avoids sequential scans (small test tables would take them). */
async function planOf(url: string, query: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('SET enable_seqscan = off');
    return (await c.query<{ 'QUERY PLAN': string }>(query)).rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await c.end();
  }
}

t.test('an indexer whose lock connection was killed cannot write once another holds the lock', async (t) => {
  const url = await freshDatabase();
  const a = await PgBackend.open(url, { poolSize: 2 });
  const b = await PgBackend.open(url, { poolSize: 2 });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });

  t.equal(await a.ledger.lease('a', 30_000), true, 'a takes the lock');
  t.equal(await b.ledger.lease('b', 30_000), false, 'b does not while a holds it');
  await a.ledger.commit([file('one.nc', 1)]);
  t.equal(await killLockSession(url), 1, "a's lock connection is terminated");

  // PostgreSQL freed the lock with the connection: b takes over (and fences a out).
  let took = false;
  for (let i = 0; i < 50 && !took; i++) {
    took = await b.ledger.lease('b', 30_000);
    if (!took) await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(took, true, 'b takes the lock over');

  // a's pool connections still work, but its commit is refused and leaves nothing behind.
  await t.rejects(a.ledger.commit([file('two.nc', 2)]), { name: 'LeaseLostError' }, "a's commit is refused");
  const rels = (await sql<{ rel: string }>(url, 'SELECT rel FROM files ORDER BY rel')).map((r) => r.rel);
  t.same(rels, ['one.nc'], 'nothing of the refused commit landed');
  t.equal(await a.ledger.lease('a', 30_000), false, 'a sees it is no longer the indexer');

  await b.ledger.commit([file('three.nc', 3)]);
  const after = (await sql<{ rel: string }>(url, 'SELECT rel FROM files ORDER BY rel')).map((r) => r.rel);
  t.same(after, ['one.nc', 'three.nc'], "the new holder's commit lands");
});

t.test('a commit in flight when the lock changes hands lands before the new holder starts', async (t) => {
  const url = await freshDatabase();
  const a = await PgBackend.open(url, { poolSize: 2 });
  const b = await PgBackend.open(url, { poolSize: 2 });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  t.equal(await a.ledger.lease('a', 30_000), true);
  // Hold a's commit open inside its transaction (a long item insert is simulated by a lock on files).
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  t.teardown(() => blocker.end());
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE files IN EXCLUSIVE MODE');
  const inFlight = a.ledger.commit([file('slow.nc', 4)]);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await killLockSession(url), 1);
  let takeover: Promise<boolean> | undefined;
  for (let i = 0; i < 50; i++) {
    // pg_try_advisory_lock succeeds at once; the epoch bump then waits for a's open commit.
    const held = await sql<{ n: number }>(
      url,
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
    if (held[0]!.n === 0) {
      takeover = b.ledger.lease('b', 30_000);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(takeover, 'the lock was freed');
  await new Promise((r) => setTimeout(r, 300));
  await blocker.query('COMMIT');
  await inFlight;
  t.equal(await takeover, true, 'b holds the lock after the in-flight commit');
  await t.rejects(a.ledger.commit([file('late.nc', 5)]), { name: 'LeaseLostError' });
  const rels = (await sql<{ rel: string }>(url, 'SELECT rel FROM files ORDER BY rel')).map((r) => r.rel);
  t.same(rels, ['slow.nc'], 'the in-flight commit landed, the late one did not');
});

t.test('the indexer gives each queryable property a B-tree the property tests use', async (t) => {
  const url = await freshDatabase();
  const a = await PgBackend.open(url, { poolSize: 2 });
  t.teardown(() => a.close());
  t.equal(await a.ledger.lease('a', 30_000), true);
  const f = file('props.nc', 7);
  const item = (f.items as Array<{ properties: Record<string, unknown> }>)[0]!;
  item.properties = { ...item.properties, ship: 'Marion Dufresne', cycle: 12 };
  await a.ledger.commit([f]);
  const made = await a.indexQueryables();
  t.same(made.sort(), ['items_q_n_cycle', 'items_q_s_ship'], 'one index per queryable property but datetime');
  t.same(await a.indexQueryables(), [], 'made once');
  // The planner can use them for the expressions the CQL2 and property filters compile to.
  const plan = (where: string) => planOf(url, `EXPLAIN SELECT 1 FROM items i WHERE i.cid = 1 AND ${where}`);
  t.match(await plan(`((i.props->>'ship') COLLATE "C") = 'Marion Dufresne'`), /items_q_s_ship/);
  t.match(
    await plan(`(CASE WHEN json_typeof(i.props->'cycle') = 'number' THEN (i.props->>'cycle')::float8 END) > 3`),
    /items_q_n_cycle/,
  );
  t.match(await plan(`((i.props->>'platform_number') COLLATE "C") = '4900000'`), /items_q_s_platform_number/);
});

t.test('after a load the indexer vacuums: deep pages walk the sort key without visiting the table', async (t) => {
  const url = await freshDatabase();
  const a = await PgBackend.open(url, { poolSize: 2 });
  t.teardown(() => a.close());
  t.equal(await a.maintain(), false, 'nothing to do before the lock and a commit');
  t.equal(await a.ledger.lease('a', 30_000), true);
  await a.ledger.commit([file('one.nc', 1), file('two.nc', 2)]);
  t.equal(await a.maintain(), true, 'commits were written: VACUUM (ANALYZE)');
  t.equal(await a.maintain(), false, 'once per batch of commits');
  const visible = await sql<{ n: number }>(url, "SELECT relallvisible AS n FROM pg_class WHERE relname = 'items'");
  t.ok(visible[0]!.n > 0, 'the visibility map is set (index-only scans need it)');
  const plan = await planOf(
    url,
    'EXPLAIN (ANALYZE) SELECT i.rowid FROM items i WHERE i.cid = 1 ORDER BY i.rowid LIMIT 1 OFFSET 1',
  );
  t.match(plan, /Index Only Scan/, 'the OFFSET walk is an index-only scan');
  t.match(plan, /Heap Fetches: 0/, 'that visits no table page');
});

t.test("a collection's first files come from an index in byte order, not a sort of all its files", async (t) => {
  const url = await freshDatabase();
  const a = await PgBackend.open(url, { poolSize: 2 });
  t.teardown(() => a.close());
  t.equal(await a.ledger.lease('a', 30_000), true);
  await a.ledger.commit([file('b.nc', 1), file('a.nc', 2), file('B.nc', 3)]);
  t.same(
    (await a.ledger.collectionFiles('fence', 2)).map((f) => f.rel),
    ['B.nc', 'a.nc'],
    'byte order, as SQLite sorts',
  );
  // With 1 000 000 files a sort of them all took 1.3 s; on a small table the planner would sort anyway.
  const plan = await planOf(url, 'EXPLAIN SELECT rel, entry FROM files WHERE cid = 1 ORDER BY rel COLLATE "C" LIMIT 1');
  t.match(plan, /Index Scan using files_cid_c/, 'walks the byte-ordered index');
  t.notMatch(plan, /Sort/, 'and sorts nothing');
});
