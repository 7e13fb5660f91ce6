import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseCql2Text } from '../../src/core/cql2/text.js';
import { COUNT_CAP } from '../../src/catalog/store/search.js';
import { SqliteBackend } from '../../src/catalog/store/sqlite-backend.js';
import { CatalogStore } from '../../src/catalog/store/store.js';
import type { CollectionSource, ItemDraft, SearchSpec } from '../../src/catalog/store/types.js';
import { boxPolygon } from '../../src/core/geometry.js';

const T0 = Date.UTC(2010, 0, 1);
const DAY = 86_400_000;

/** Deterministic floats: item i of file f sits on a grid so expected matches are countable. */
function draft(f: number, i: number): ItemDraft {
  const x = -170 + ((f * 37 + i * 7) % 340);
  const y = -80 + ((f * 11 + i * 3) % 160);
  const t = T0 + (f * 100 + i) * DAY;
  return {
    id: `p${f}_${i}`,
    geometry: { type: 'Point', coordinates: [x, y] },
    bbox: [x, y, x, y],
    start: t,
    end: t,
    properties: {
      datetime: new Date(t).toISOString(),
      cycle_number: i,
      data_mode: i % 2 ? 'D' : 'R',
      platform_number: String(1000 + f),
    },
  };
}

function source(id: string, files: number, perFile: number, version = 'v1'): CollectionSource {
  return {
    id,
    kind: 'feature',
    files: Array.from({ length: files }, (_, f) => ({
      rel: `f${f}.nc`,
      stamp: `${version}-${f}`,
      size: () => 1000 + f,
      items: () => Array.from({ length: perFile }, (_, i) => draft(f, i)),
    })),
  };
}

let dir: string;
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'odas-stac-index-'));
});
t.teardown(async () => {
  await rm(dir, { recursive: true, force: true });
});

t.test('sync is incremental per source file and persists across opens', async (t) => {
  const file = join(dir, 'inc.sqlite');
  let idx = CatalogStore.open(file);
  let r = idx.sync([source('a', 3, 10)]);
  t.match(r, { files: 3, kept: 0, replaced: 0, removed: 0, items: 30 });
  idx.close();
  idx = CatalogStore.open(file);
  t.equal(idx.size, 30, 'persisted');
  r = idx.sync([source('a', 3, 10)]);
  t.match(r, { kept: 3, items: 0 }, 'unchanged stamps: nothing re-indexed');
  const changed = source('a', 2, 10);
  (changed.files as Array<{ stamp: string }>)[1]!.stamp = 'v2-1';
  r = idx.sync([changed, source('b', 1, 5)]);
  t.match(r, { kept: 1, replaced: 1, removed: 1, items: 15 }, 'one file changed, one gone, a new collection');
  t.equal(idx.size, 25);
  t.same(idx.collections().sort(), ['a', 'b']);
  t.same(idx.statsOf('a').types, {
    datetime: 'string',
    cycle_number: 'integer',
    data_mode: 'string',
    platform_number: 'string',
  });
  t.same(idx.statsOf('a').values['data_mode']!.sort(), ['D', 'R']);
  t.same(idx.statsOf('a').ranges['cycle_number'], [0, 9]);
  r = idx.sync([source('b', 1, 5)]);
  t.equal(idx.collections().length, 1, 'a collection no longer served is dropped');
  t.equal(idx.size, 5);
  idx.close();
});

t.test('rows served again come from the latest commit, here or by another connection', async (t) => {
  const file = join(dir, 'rows.sqlite');
  const relabel = (mode: string, stamp: string): CollectionSource => {
    const s = source('a', 1, 10);
    const f = (s.files as Array<{ stamp: string; items: () => ItemDraft[] }>)[0]!;
    f.stamp = stamp;
    const items = f.items;
    f.items = () => items().map((d) => ({ ...d, properties: { ...d.properties, data_mode: mode } }));
    return s;
  };
  const modes = (idx: CatalogStore) => ({
    page: idx.features('a', {}, 0, 10).rows.map((r) => (JSON.parse(r.props) as { data_mode: string }).data_mode),
    search: idx
      .search({ collections: ['a'], limit: 10 })
      .rows.map((r) => (JSON.parse(r.props) as { data_mode: string }).data_mode),
  });
  const idx = CatalogStore.open(file);
  idx.sync([relabel('R', 'v1')]);
  t.same(modes(idx), { page: Array(10).fill('R'), search: Array(10).fill('R') });
  // The file is indexed again with other values: its items are deleted and inserted (their rowids reused).
  idx.sync([relabel('D', 'v2')]);
  t.same(modes(idx), { page: Array(10).fill('D'), search: Array(10).fill('D') }, 'this connection committed');
  const other = CatalogStore.open(file);
  other.sync([relabel('A', 'v3')]);
  other.close();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(modes(idx), { page: Array(10).fill('A'), search: Array(10).fill('A') }, 'another connection committed');
  idx.close();
});

t.test('search: filters agree with a brute-force scan, pages have no duplicates', async (t) => {
  const idx = CatalogStore.open(':memory:');
  idx.sync([source('a', 20, 100), source('b', 5, 100)]);
  const all = [...Array(20).keys()]
    .flatMap((f) => Array.from({ length: 100 }, (_, i) => ({ c: 'a', ...draft(f, i) })))
    .concat([...Array(5).keys()].flatMap((f) => Array.from({ length: 100 }, (_, i) => ({ c: 'b', ...draft(f, i) }))));
  const collect = (q: Omit<SearchSpec, 'limit' | 'token'>, limit = 37) => {
    const ids: string[] = [];
    let token;
    let matched: number | undefined;
    for (let n = 0; n < 1000; n++) {
      const r = idx.search({ ...q, limit, ...(token ? { token } : {}) });
      if (n === 0) matched = r.matched;
      ids.push(...r.rows.map((x) => `${x.collection}/${x.id}`));
      if (!r.next) break;
      token = r.next;
    }
    return { ids, matched };
  };
  const expect = (pred: (d: (typeof all)[number]) => boolean) =>
    all
      .filter(pred)
      .map((d) => `${d.c}/${d.id}`)
      .sort();
  const cases: Array<[string, Omit<SearchSpec, 'limit'>, (d: (typeof all)[number]) => boolean]> = [
    [
      'bbox',
      { bbox: { west: 0, south: -20, east: 60, north: 40 } },
      (d) => d.bbox![0] >= 0 && d.bbox![0] <= 60 && d.bbox![1] >= -20 && d.bbox![1] <= 40,
    ],
    [
      'antimeridian bbox',
      { bbox: { west: 170, south: -90, east: -160, north: 90 } },
      (d) => d.bbox![0] >= 170 || d.bbox![0] <= -160,
    ],
    [
      'datetime',
      { datetime: { start: T0 + 300 * DAY, end: T0 + 700 * DAY } },
      (d) => d.start >= T0 + 300 * DAY && d.start <= T0 + 700 * DAY,
    ],
    ['collections', { collections: ['b'] }, (d) => d.c === 'b'],
    ['ids', { ids: ['p3_4', 'p0_0', 'nope'] }, (d) => ['p3_4', 'p0_0'].includes(d.id)],
    [
      'intersects',
      { intersects: boxPolygon([-50, -50, 0, 0]) },
      (d) => d.bbox![0] >= -50 && d.bbox![0] <= 0 && d.bbox![1] >= -50 && d.bbox![1] <= 0,
    ],
    [
      'CQL2 AND',
      { filter: parseCql2Text("data_mode = 'D' AND cycle_number < 10") },
      (d) => d.properties['data_mode'] === 'D' && (d.properties['cycle_number'] as number) < 10,
    ],
    [
      'CQL2 OR/NOT/IN',
      { filter: parseCql2Text("NOT (cycle_number >= 3) OR platform_number IN ('1004', '1005')") },
      (d) =>
        (d.properties['cycle_number'] as number) < 3 ||
        ['1004', '1005'].includes(d.properties['platform_number'] as string),
    ],
    [
      'CQL2 S_INTERSECTS + T_INTERSECTS',
      {
        filter: parseCql2Text(
          "S_INTERSECTS(geometry, BBOX(-100, -80, 100, 0)) AND T_INTERSECTS(datetime, INTERVAL('2011-01-01', '2012-12-31'))",
        ),
      },
      (d) =>
        d.bbox![0] >= -100 &&
        d.bbox![0] <= 100 &&
        d.bbox![1] <= 0 &&
        d.start >= Date.UTC(2011, 0, 1) &&
        d.start <= Date.UTC(2012, 11, 31, 23, 59, 59, 999),
    ],
    [
      'CQL2 collection + LIKE',
      { filter: parseCql2Text("collection = 'b' AND id LIKE 'p1\\_%'") },
      (d) => d.c === 'b' && d.id.startsWith('p1_'),
    ],
    ['everything', {}, () => true],
  ];
  for (const [label, q, pred] of cases) {
    const want = expect(pred);
    const { ids, matched } = collect(q);
    t.equal(new Set(ids).size, ids.length, `${label}: no duplicates over ${ids.length} items`);
    t.same([...ids].sort(), want, `${label}: the same items as a scan (${want.length})`);
    if (want.length <= COUNT_CAP) t.equal(matched, want.length, `${label}: numberMatched`);
  }
  idx.close();
});

t.test('search: order, sortby and the many-matches plan', async (t) => {
  const idx = CatalogStore.open(':memory:');
  idx.sync([source('a', 130, 100)]);
  t.ok(idx.size > COUNT_CAP, 'more items than the count cap');
  const first = idx.search({ limit: 5 });
  t.equal(first.matched, idx.size, 'a plain count is still given');
  const times = first.rows.map((r) => r.sk);
  t.same(
    times,
    [...times].sort((a, b) => b - a),
    'newest first by default',
  );
  const broad = idx.search({ limit: 50, bbox: { west: -180, south: -90, east: 180, north: 90 } });
  t.equal(broad.matched, undefined, 'no count over the cap for a spatial query');
  const seen = new Set<string>();
  let token = broad.next;
  broad.rows.forEach((r) => seen.add(r.id));
  for (let i = 0; i < 5 && token; i++) {
    const r = idx.search({ limit: 50, bbox: { west: -180, south: -90, east: 180, north: 90 }, token });
    r.rows.forEach((x) => t.notOk(seen.has(x.id)) || seen.add(x.id));
    token = r.next;
  }
  const asc = idx.search({ limit: 3, sortby: [{ field: 'properties.datetime', direction: 'asc' }] });
  t.same(
    asc.rows.map((r) => r.id),
    ['p0_0', 'p0_1', 'p0_2'],
  );
  const byCycle = idx.search({
    limit: 3,
    collections: ['a'],
    ids: ['p1_5', 'p2_3', 'p3_9'],
    sortby: [{ field: 'cycle_number', direction: 'desc' }],
  });
  t.same(
    byCycle.rows.map((r) => r.id),
    ['p3_9', 'p1_5', 'p2_3'],
  );
  t.throws(() => idx.search({ limit: 1, sortby: [{ field: 'nope', direction: 'asc' }] }), {
    statusCode: 400,
    message: /'sortby'/,
  });
  t.throws(() => idx.search({ limit: 1, filter: parseCql2Text('nope = 1') }), {
    statusCode: 400,
    message: /unknown queryable 'nope'/,
  });
  t.throws(() => idx.search({ limit: 1, filter: parseCql2Text("cycle_number = 'three'") }), {
    statusCode: 400,
    message: /cycle_number/,
  });
  t.throws(() => idx.search({ limit: 1, collections: ['zz'] }), { statusCode: 400, message: /'collections'/ });
  idx.close();
});

t.test('the planner statistics follow a catalog indexed file by file', async (t) => {
  const backend = SqliteBackend.open(':memory:');
  t.teardown(() => backend.close());
  const commit = (k: number, n: number) =>
    backend.ledger.commit([
      {
        root: '/data/growth',
        rel: `f${k}.nc`,
        size: 100,
        mtimeMs: 1_700_000_000_000,
        status: 'ok',
        collection: { id: 'growth', kind: 'feature' },
        items: Array.from({ length: n }, (_, i) => ({
          id: `f${k}_${i}`,
          geometry: { type: 'Point' as const, coordinates: [i % 360, 10] },
          bbox: [i % 360, 10, i % 360, 10] as [number, number, number, number],
          start: 1_600_000_000_000 + i,
          end: 1_600_000_000_000 + i,
          properties: { datetime: new Date(1_600_000_000_000 + i).toISOString() },
        })),
      },
    ]);
  await commit(0, 5);
  for (let k = 1; k <= 6; k++) await commit(k, 500);
  const db = backend.store.connection;
  const stat = db.prepare("SELECT stat FROM sqlite_stat1 WHERE tbl = 'items' LIMIT 1").pluck().get() as string;
  t.ok(Number(stat.split(' ')[0]) >= 1500, `statistics count the items as they grew (${stat})`);
  const ids = db.prepare('SELECT rowid FROM items LIMIT 50').pluck().all() as number[];
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN SELECT i.rowid FROM items i WHERE i.rowid IN (${ids.map(() => '?').join(',')})`)
    .all(...ids) as Array<{ detail: string }>;
  t.match(plan.map((p) => p.detail).join('; '), /SEARCH i USING INTEGER PRIMARY KEY/, 'a page of rowids is looked up');
});
