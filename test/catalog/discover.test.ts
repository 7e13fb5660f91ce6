import { copyFile, mkdir, mkdtemp, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { pino, type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { discover } from '../../src/catalog/discover.js';
import { parseCollectionConfig } from '../../src/config/load.js';
import { SHARED_DATA, silent } from '../helpers/app.js';

const argo = (name: string) => join(SHARED_DATA, 'argo', name);

function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

t.test('a folder of homogeneous files is one collection; loose files are one each', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-disc-'));
  await mkdir(join(root, 'dac', '1900857', 'profiles'), { recursive: true });
  await copyFile(argo('D1900857_001.nc'), join(root, 'dac', '1900857', 'profiles', 'D1900857_001.nc'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'dac', '1900857', 'profiles', 'D1900857_001b.nc'));
  await copyFile(argo('1900857_prof.nc'), join(root, '1900857_prof.nc'));
  await copyFile(argo('1900857_meta.nc'), join(root, '1900857_meta.nc'));
  const cols = await discover({ dataRoots: [root], configs: [], log: silent });
  t.same([...cols.keys()].sort(), ['1900857_prof', 'dac-1900857-profiles']);
  const folder = cols.get('dac-1900857-profiles')!;
  t.equal(folder.files.length, 2);
  t.equal(folder.features!.size, 4, 'two files × two profiles, ids made unique');
  const ids = new Set<string>();
  for await (const r of folder.features!.iterate()) ids.add(r.id);
  t.equal(ids.size, 4);
});

t.test('same-shaped grids without their own times stay separate collections', async (t) => {
  const src = join(
    SHARED_DATA,
    'stac',
    'noaa-cdr',
    'noaa-cdr-sea-surface-temperature-optimum-interpolation',
    'oisst-avhrr-v02r01.20220913',
  );
  const root = await mkdtemp(join(tmpdir(), 'odas-oisst-'));
  await mkdir(join(root, 'oisst'));
  for (const v of ['sst', 'anom'])
    await copyFile(
      join(src, `oisst-avhrr-v02r01.20220913-${v}.tif`),
      join(root, 'oisst', `oisst-avhrr-v02r01.20220913-${v}.tif`),
    );
  const cols = await discover({ dataRoots: [root], configs: [], log: silent });
  t.same(
    [...cols.keys()].sort(),
    ['oisst-avhrr-v02r01-20220913-anom', 'oisst-avhrr-v02r01-20220913-sst'],
    'the sst and anom rasters are two datasets, not one along time',
  );
});

t.test('nothing outside the data root is read: symlinks out are skipped', async (t) => {
  const outside = await mkdtemp(join(tmpdir(), 'odas-outside-'));
  const root = await mkdtemp(join(tmpdir(), 'odas-root-'));
  await copyFile(argo('D1900857_001.nc'), join(outside, 'secret.nc'));
  await symlink(join(outside, 'secret.nc'), join(root, 'secret.nc'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'inside.nc'));
  await symlink(join(root, 'inside.nc'), join(root, 'alias.nc'));
  const { log, lines } = capturingLogger();
  const cols = await discover({ dataRoots: [root], configs: [], log });
  t.same([...cols.keys()].sort(), ['alias', 'inside']);
  t.ok(
    lines.some((l) => String(l['msg']).includes('outside the data root')),
    'the skip is logged',
  );
});

t.test(
  'unreadable files are skipped with a log line; a file broken after start fails only its own requests',
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'odas-bad-'));
    await writeFile(join(root, 'garbage.nc'), 'this is not netcdf');
    const head = (await readFile(argo('1900857_prof.nc'))).subarray(0, 3000);
    await writeFile(join(root, 'truncated_header.nc'), head);
    await copyFile(argo('D1900857_001.nc'), join(root, 'good.nc'));
    await copyFile(argo('1900857_prof.nc'), join(root, 'later_broken.nc'));
    const { log, lines } = capturingLogger();
    const cols = await discover({ dataRoots: [root], configs: [], log });
    t.same([...cols.keys()].sort(), ['good', 'later_broken']);
    t.ok(lines.some((l) => String(l['msg']).startsWith('skipped garbage.nc')));
    t.ok(lines.some((l) => String(l['msg']).startsWith('skipped truncated_header.nc')));
    await truncate(join(root, 'later_broken.nc'), 200_000);
    const app = await buildApp({ collections: cols });
    t.teardown(() => app.close());
    const broken = await app.inject({ url: '/collections/later_broken/items/1900857_150' });
    t.equal(broken.statusCode, 502);
    const err = JSON.parse(broken.body) as { code: string; description: string };
    t.match(err.description, /later_broken/, 'the message names the collection');
    const list = await app.inject({ url: '/collections/later_broken/items' });
    t.equal(list.statusCode, 200, 'listing comes from the index');
    const good = await app.inject({ url: '/collections/good/items/1900857_001' });
    t.equal(good.statusCode, 200, 'other collections keep serving');
  },
);

t.test('the index is cached by size and mtime: a restart reads no file again', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-cache-root-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-cache-'));
  await copyFile(argo('1900857_prof.nc'), join(root, 'a.nc'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'b.nc'));
  const first = capturingLogger();
  await discover({ dataRoots: [root], configs: [], log: first.log, cacheDir });
  t.ok(first.lines.some((l) => l['read'] === 2));
  const second = capturingLogger();
  const cols = await discover({ dataRoots: [root], configs: [], log: second.log, cacheDir });
  const summary = second.lines.find((l) => String(l['msg']).startsWith('indexed'));
  t.equal(summary?.['read'], 0, 'nothing read');
  t.equal(summary?.['indexed'], 2, 'both files up to date from the catalog');
  t.equal(cols.get('a')!.features!.size, 194);
  t.equal((await cols.get('a')!.features!.sample(1))[0]!.properties['datetime'], '2008-02-25T04:03:00Z');
});

t.test('collection configs: globs claim files, metadata overrides apply, errors name file and field', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'odas-conf-'));
  await mkdir(join(root, 'argo'));
  await copyFile(argo('1900857_prof.nc'), join(root, 'argo', '1900857_prof.nc'));
  await copyFile(argo('D1900857_001.nc'), join(root, 'argo', 'D1900857_001.nc'));
  const config = parseCollectionConfig(
    'id: goodhope\ntitle: GOODHOPE floats\nlicense: CC-BY-4.0\nkeywords: [Argo]\nsource: "argo/*.nc"\nvariables: [TEMP, PSAL]\n',
    'goodhope.yaml',
  );
  const cols = await discover({ dataRoots: [root], configs: [config], log: silent });
  t.same([...cols.keys()], ['goodhope']);
  const c = cols.get('goodhope')!;
  t.equal(c.title, 'GOODHOPE floats');
  t.equal(c.features!.size, 196);
  t.same(
    c.parameters.map((p) => p.name),
    ['TEMP', 'PSAL'],
  );
  t.throws(() => parseCollectionConfig('id: "bad.id"\nsource: x\n', 'bad.yaml'), /bad\.yaml: field 'id'/);
  t.throws(() => parseCollectionConfig('id: ok\nsource: x\ncolour: red\n', 'extra.yaml'), /extra\.yaml: .*'colour'/);
  t.throws(() => parseCollectionConfig('id: ok\n', 'nosource.yaml'), /nosource\.yaml: .*source/);
  t.throws(
    () => parseCollectionConfig('id: ok\nsource: "../etc/*"\n', 'escape.yaml'),
    /escape\.yaml: field 'source' must stay inside/,
  );
});
