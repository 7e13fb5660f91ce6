import { copyFile, mkdir, mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { parseCollectionConfig } from '../../src/config/load.js';
import { DecodedReader } from '../../src/cf/read.js';
import { openReader } from '../../src/readers/registry.js';
import { SHARED_DATA, silent } from '../helpers/app.js';

const argo = (name: string) => join(SHARED_DATA, 'argo', name);

async function until(what: string, test: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await test())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('an Argo GDAC tree gives one collection per file family across all floats, never one per float', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-gdac-'));
  const float = join(root, 'dac', 'coriolis', '1900857');
  await mkdir(join(float, 'profiles'), { recursive: true });
  await copyFile(argo('D1900857_001.nc'), join(float, 'profiles', 'D1900857_001.nc'));
  await copyFile(argo('D1900857_001.nc'), join(float, 'profiles', 'R1900857_002.nc'));
  await copyFile(argo('1900857_prof.nc'), join(float, '1900857_prof.nc'));
  await copyFile(argo('1900857_meta.nc'), join(float, '1900857_meta.nc'));
  await copyFile(argo('1900857_Rtraj.nc'), join(float, '1900857_Rtraj.nc'));
  await mkdir(join(root, 'dac', 'aoml', '3902131'), { recursive: true });
  await copyFile(argo('3902131_Sprof.nc'), join(root, 'dac', 'aoml', '3902131', '3902131_Sprof.nc'));
  const catalog = await Catalog.open({ dataRoots: [root], configs: [], log: silent, settleMs: 0, rescanSeconds: 0 });
  t.teardown(() => catalog.close());
  await catalog.indexOnce();
  const cols = catalog.collections;
  t.same([...cols.keys()].sort(), ['argo-prof', 'argo-profiles', 'argo-sprof', 'argo-traj']);
  const profiles = cols.get('argo-profiles')!;
  t.equal(profiles.fileCount, 2);
  t.equal(profiles.features!.size, 4, 'two single-cycle files of two profiles each');
  t.match(profiles.title, /Argo core profiles/);
  const status = await catalog.status();
  t.equal(status.catalog.files.skipped, 1, 'the _meta file is metadata, not a collection');
  // One float stays one query away.
  const app = await buildApp({ collections: cols });
  t.teardown(() => app.close());
  const res = await app.inject({ url: '/collections/argo-prof/items?platform_number=1900857&limit=1' });
  t.equal(res.statusCode, 200);
  t.equal((JSON.parse(res.body) as { numberMatched: number }).numberMatched, 194);
  const loc = await app.inject({ url: '/collections/argo-prof/locations/1900857?parameter-name=TEMP&f=CSV' });
  t.equal(loc.statusCode, 200);
  const file = await app.inject({
    url: '/stac/collections/argo-profiles/files/dac/coriolis/1900857/profiles/R1900857_002.nc',
  });
  t.equal(file.statusCode, 200, 'any file of a family collection downloads as its STAC source asset');
  const outside = await app.inject({
    url: '/stac/collections/argo-profiles/files/dac/coriolis/1900857/1900857_prof.nc',
  });
  t.equal(outside.statusCode, 404, 'a file of another collection does not');
});

t.test(
  'a live archive: new, changed and removed files are picked up by rescans, the status document says so',
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'odas-live-'));
    const cacheDir = await mkdtemp(join(tmpdir(), 'odas-live-cache-'));
    await copyFile(argo('1900857_prof.nc'), join(root, 'a_prof.nc'));
    const catalog = await Catalog.open({
      dataRoots: [root],
      configs: [],
      log: silent,
      cacheDir,
      settleMs: 0,
      rescanSeconds: 0.2,
    });
    t.teardown(() => catalog.close());
    t.equal(catalog.collections.size, 0, 'a first start serves an empty catalog at once');
    catalog.start();
    await until('the first file', () => catalog.collections.has('a_prof'));
    t.equal(catalog.collections.get('a_prof')!.features!.size, 194);

    await copyFile(argo('3902131_Sprof.nc'), join(root, 'b_Sprof.nc'));
    await until('the new file', () => catalog.collections.has('b_Sprof'));
    t.pass('a new file is served without a restart');

    await rm(join(root, 'a_prof.nc'));
    await until('the removed file to go', () => !catalog.collections.has('a_prof'));
    t.pass('a removed file disappears');

    await writeFile(join(root, 'broken.nc'), 'CDF\u0001 this is no header');
    await until('the broken file to be recorded', async () =>
      (await catalog.status()).errors.some((e) => e.file === 'broken.nc'),
    );
    const status = await catalog.status();
    t.match(status.errors.find((e) => e.file === 'broken.nc')!.error, /cannot/, 'the error is kept with the file');
    t.ok(catalog.collections.has('b_Sprof'), 'a bad file blocks nothing else');

    const app = await buildApp({ collections: catalog.collections, status: () => catalog.status() });
    t.teardown(() => app.close());
    const landing = JSON.parse((await app.inject({ url: '/' })).body) as {
      links: Array<{ rel: string; href: string }>;
    };
    t.ok(
      landing.links.some((l) => l.rel === 'monitor' && l.href.endsWith('/status')),
      'the landing page links the status document',
    );
    const doc = JSON.parse((await app.inject({ url: '/status' })).body) as {
      state: string;
      files: { total: number; indexed: number; failed: number };
      errors: unknown[];
    };
    t.equal(
      doc.files.total,
      doc.files.indexed +
        doc.files.failed +
        (doc.state === 'idle' ? 0 : doc.files.total - doc.files.indexed - doc.files.failed),
    );
    t.ok(doc.errors.length >= 1);
    t.notOk(
      JSON.stringify(doc).includes(root) || JSON.stringify(doc).includes(cacheDir),
      'no server path in the public status document',
    );
    const html = await app.inject({ url: '/status?f=html' });
    t.match(html.body, /broken\.nc/);
  },
);

t.test('a file rewritten in place is re-read; a restart reuses the catalog and resumes', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-rewrite-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-rewrite-cache-'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'x.nc'));
  let catalog = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0,
  });
  await catalog.indexOnce();
  t.equal(catalog.collections.get('x')!.features!.size, 2);
  await catalog.close();
  await copyFile(argo('1900857_prof.nc'), join(root, 'x.nc'));
  const later = new Date(Date.now() + 5000);
  await utimes(join(root, 'x.nc'), later, later);
  catalog = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0,
  });
  t.teardown(() => catalog.close());
  t.equal(catalog.collections.get('x')!.features!.size, 2, 'the catalog serves what it had at once');
  await catalog.indexOnce();
  t.equal(catalog.collections.get('x')!.features!.size, 194, 'then the rewritten file, whole');
  t.equal((await catalog.status()).indexing.lastScan!.read, 1);
});

t.test('a corrupt catalog file is moved aside and rebuilt, never served', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-corrupt-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-corrupt-cache-'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'x.nc'));
  const file = await Catalog.fileFor(cacheDir, [root]);
  await writeFile(file, Buffer.alloc(64 * 1024, 0x5a));
  const catalog = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0,
  });
  t.teardown(() => catalog.close());
  t.match(catalog.store.recovered, /moved to .*corrupt/);
  await catalog.indexOnce();
  t.equal(catalog.collections.get('x')!.features!.size, 2);
});

t.test('a half-written file waits for the next scan', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-young-'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'young.nc'));
  const catalog = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    settleMs: 60_000,
    rescanSeconds: 0,
  });
  t.teardown(() => catalog.close());
  await catalog.indexOnce();
  t.equal(catalog.collections.size, 0, 'a file modified a moment ago is not read yet');
  t.equal((await catalog.status()).indexing.files.pending, 1);
});

t.test('two processes on one catalog: one indexes, the other follows its commits; the lease passes on', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-two-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-two-cache-'));
  await copyFile(argo('1900857_prof.nc'), join(root, 'a_prof.nc'));
  const a = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0.2,
  });
  const b = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0.2,
  });
  t.teardown(() => b.close());
  a.start();
  await until('the leader to index', () => a.collections.has('a_prof'));
  b.start();
  await until('the follower to see it', () => b.collections.has('a_prof'), 10_000);
  t.notOk(b.indexer.leader, 'the second process does not index');
  t.equal(b.indexer.status().state, 'follower');
  await a.close();
  await copyFile(argo('3902131_Sprof.nc'), join(root, 'b_Sprof.nc'));
  await until('the second process to take over and index the new file', () => b.collections.has('b_Sprof'), 10_000);
  t.ok(b.indexer.leader, 'a released lease is taken over');
});

t.test('a one-off index while another process holds the lease says so instead of indexing nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-held-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-held-cache-'));
  await copyFile(argo('1900857_prof.nc'), join(root, 'a_prof.nc'));
  const open = () =>
    Catalog.open({ dataRoots: [root], configs: [], log: silent, cacheDir, settleMs: 0, rescanSeconds: 0.2 });
  const server = await open();
  const oneOff = await open();
  t.teardown(async () => {
    await oneOff.close();
    await server.close();
  });
  server.start();
  await until('the server to index', () => server.collections.has('a_prof'));
  await t.rejects(oneOff.indexOnce(), /another odas process holds this catalog's indexing lease/);
  t.notOk(oneOff.indexer.leader);
  // A reader (stac export) takes what the lease holder has indexed.
  await oneOff.indexOnce({ whenHeld: 'read' });
  t.ok(oneOff.collections.has('a_prof'), "the reader sees the server's collection");
});

t.test('changed collection configs regroup the files', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-regroup-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-regroup-cache-'));
  await copyFile(argo('1900857_prof.nc'), join(root, 'a_prof.nc'));
  let catalog = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0,
  });
  await catalog.indexOnce();
  t.same([...catalog.collections.keys()], ['a_prof']);
  await catalog.close();
  const config = parseCollectionConfig('id: floats\nsource: "*.nc"\n', 'floats.yaml');
  catalog = await Catalog.open({
    dataRoots: [root],
    configs: [config],
    log: silent,
    cacheDir,
    settleMs: 0,
    rescanSeconds: 0,
  });
  t.teardown(() => catalog.close());
  await catalog.indexOnce();
  t.same([...catalog.collections.keys()], ['floats'], 'the file now belongs to the configured collection');
});

t.test('counts and pages follow the catalog as files arrive', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-counts-'));
  await mkdir(join(root, 'f'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'f', 'x1.nc'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'f', 'x2.nc'));
  const catalog = await Catalog.open({ dataRoots: [root], configs: [], log: silent, settleMs: 0, rescanSeconds: 0.2 });
  t.teardown(() => catalog.close());
  catalog.start();
  await until('the folder collection', () => catalog.collections.get('f')?.features?.size === 4);
  const app = await buildApp({ collections: catalog.collections });
  t.teardown(() => app.close());
  const page = async (offset: number) =>
    JSON.parse(
      (await app.inject({ url: `/collections/f/items?limit=2&offset=${offset}&bbox=-180,-90,180,90` })).body,
    ) as { numberMatched: number; features: Array<{ id: string }> };
  const first = await page(0);
  const second = await page(2);
  t.equal(first.numberMatched, 4);
  t.equal(new Set([...first.features, ...second.features].map((f) => f.id)).size, 4, 'two pages, no duplicates');
  await copyFile(argo('D1900857_001.nc'), join(root, 'f', 'x3.nc'));
  await until('the third file', () => catalog.collections.get('f')?.features?.size === 6);
  t.equal((await page(0)).numberMatched, 6, 'a cached count is dropped when the catalog changes');
  t.equal((await page(4)).features.length, 2, 'and so is a cached page end');
});

t.test('profile levels kept in the catalog equal the file read', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-levels-'));
  await copyFile(argo('3902131_Sprof.nc'), join(root, 's_Sprof.nc'));
  const catalog = await Catalog.open({ dataRoots: [root], configs: [], log: silent, settleMs: 0, rescanSeconds: 0 });
  t.teardown(() => catalog.close());
  await catalog.indexOnce();
  const c = catalog.collections.get('s_Sprof')!;
  const reader = await openReader(argo('3902131_Sprof.nc'));
  t.teardown(() => reader.close());
  const data = await DecodedReader.of(reader);
  let compared = 0;
  for (const r of await c.features!.sample(5)) {
    const levels = (await c.features!.levels(r))!;
    t.ok(levels, `${r.id} has levels in the catalog`);
    for (const name of ['PRES', 'TEMP', 'PSAL', 'DOXY']) {
      if (!data.has(name)) continue;
      const direct = await data.numbers(name, { N_PROF: [r.source.index, r.source.index + 1] });
      t.same(Array.from(levels.get(name)!), Array.from(direct), `${r.id} ${name}`);
      compared++;
    }
  }
  t.ok(compared >= 10);
});

t.test('files copied just before the start are read as soon as they settle, not a rescan later', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-settle-'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'fresh.nc'));
  const catalog = await Catalog.open({
    dataRoots: [root],
    configs: [],
    log: silent,
    settleMs: 1500,
    rescanSeconds: 600,
  });
  t.teardown(() => catalog.close());
  // Young as the scan starts, however long opening took on a loaded machine.
  const now = new Date();
  await utimes(join(root, 'fresh.nc'), now, now);
  catalog.start();
  // The first scan's end, not a guess at how long it takes: the file then waits to settle.
  await until('the first scan', () => catalog.indexer.status().lastScan?.finished !== undefined);
  const first = catalog.indexer.status();
  t.equal(first.files.pending, 1, 'the young file waits');
  t.equal(first.state, 'indexing', 'a catalog with files waiting to settle is not complete');
  await until('the settled file', () => catalog.collections.has('fresh'));
  t.pass('read within seconds although the next rescan is ten minutes away');
});

t.test('a watched archive picks up a new file and a removal within seconds, long before the next rescan', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-watch-'));
  await mkdir(join(root, 'sub'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'sub', 'one.nc'));
  const catalog = await Catalog.open({ dataRoots: [root], configs: [], log: silent, settleMs: 0, rescanSeconds: 600 });
  t.teardown(() => catalog.close());
  catalog.start();
  await until('the first file', () => catalog.collections.has('one'));
  // The folders are watched once the first scan has ended (it sets up the watches before it finishes).
  await until('the first scan', () => catalog.indexer.status().lastScan?.finished !== undefined);
  await copyFile(argo('3902131_Sprof.nc'), join(root, 'sub', 'two_Sprof.nc'));
  await until('the new file, by the folder watch', () => catalog.collections.has('two_Sprof'), 8000);
  await rm(join(root, 'sub', 'two_Sprof.nc'));
  await until('the removal, by the folder watch', () => !catalog.collections.has('two_Sprof'), 8000);
  // Rewritten in place: the folder's mtime does not change, the watch still names the folder.
  await copyFile(argo('1900857_prof.nc'), join(root, 'sub', 'one.nc'));
  await until(
    'the rewritten file, by the folder watch',
    () => catalog.collections.get('one')?.features?.size === 194,
    8000,
  );
  t.pass('both within seconds with the next rescan ten minutes away');
});
