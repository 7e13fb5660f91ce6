// What the STAC API specs and their validator require and odas once broke (issue 10), over real HTTP.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { statSync } from 'node:fs';
import { buildTestApp, SHARED_DATA } from '../helpers/app.js';
import { validateStac } from '../helpers/stac-validate.js';
import { DATACUBE_EXTENSION, PROJECTION_EXTENSION } from '../../src/stac/grid-extensions.js';
import { FILE_EXTENSION } from '../../src/stac/item-doc.js';

interface Item {
  id: string;
  collection: string;
  properties: Record<string, unknown>;
  assets?: Record<string, unknown>;
  stac_extensions?: string[];
  [k: string]: unknown;
}
interface FC {
  features: Item[];
  numberMatched?: number;
}

let app: FastifyInstance;
let base = '';
t.before(async () => {
  app = await buildTestApp();
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
t.teardown(async () => {
  await app.close();
});

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: await r.json() };
}
async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

t.test('datetime: RFC 3339 date-times only (STAC API item search), 400 otherwise', async (t) => {
  // The forms stac-api-validator sends as invalid, and the issue's own three.
  const invalid = [
    '1985-04-12',
    '1985-12-12T23:20:50.52',
    '1937-01-01T12:00:27.87+0100',
    '1985-04-12T23:20:50,52Z',
    '1985-04-12T23:20:50.Z',
    '37-01-01T12:00:27.87Z',
    '1985-13-12T23:20:50.52Z',
    '1985-12-01T25:20:50.52Z',
    '1985-12-01T00:06:61.52Z',
    '2020-07-23T00:00:00+24:00',
    '/',
    '../..',
    '1986-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z',
    '/1984-04-12T23:20:50.52Z/1985-04-12T23:20:50.52Z',
    '2009-01-01/2009-12-31',
  ];
  for (const dt of invalid) {
    for (const path of ['/stac/search', '/stac/collections/1900857_prof/items']) {
      const r = await get(`${path}?datetime=${encodeURIComponent(dt)}`);
      t.equal(r.status, 400, `${path} datetime=${dt}`);
      t.match((r.body as { description: string }).description, /'datetime'/);
    }
    t.equal((await post('/stac/search', { datetime: dt })).status, 400, `POST datetime=${dt}`);
  }
  const valid = [
    '1985-04-12T23:20:50.52Z',
    '1996-12-19T16:39:57-08:00',
    '1937-01-01T12:00:27.87+01:00',
    '1985-04-12t23:20:50.000z',
    '2020-07-23T00:00:00.012345678Z',
    '../1985-04-12T23:20:50.52Z',
    '1985-04-12T23:20:50.52Z/',
    '/1985-04-12T23:20:50.52Z',
    '1990-12-31T23:59:60Z',
  ];
  for (const dt of valid)
    t.equal((await get(`/stac/search?datetime=${encodeURIComponent(dt)}`)).status, 200, `datetime=${dt}`);
  // +01:00 is the same instant as 23:03 UTC: profile 96 of 1900857 (2010-10-15T02:04:00Z) found by its local time.
  const r = await get(
    `/stac/search?collections=1900857_prof&datetime=${encodeURIComponent('2010-10-15T04:04:00+02:00')}`,
  );
  t.same(
    (r.body as FC).features.map((f) => f.properties['cycle_number']),
    [96],
  );
});

t.test("fields: null include/exclude accepted; a nested include wins over its parent's exclude", async (t) => {
  for (const fields of [{ include: null, exclude: null }, { include: null }, { exclude: null, include: ['id'] }]) {
    const r = await post('/stac/search', { collections: ['1900857_prof'], limit: 1, fields });
    t.equal(r.status, 200, JSON.stringify(fields));
  }
  const nested = await get(
    '/stac/collections/1900857_prof/items?limit=2&sortby=id&fields=-properties,%2Bproperties.cycle_number',
  );
  t.equal(nested.status, 200);
  for (const f of (nested.body as FC).features)
    t.same(f.properties, { cycle_number: f.properties['cycle_number'] }, 'only the included property');
  t.same(
    (nested.body as FC).features.map((f) => f.properties['cycle_number']),
    [0, 0],
    'cycle 0 has a descending and an ascending profile',
  );
  const viaPost = await post('/stac/search', {
    collections: ['1900857_prof'],
    limit: 1,
    sortby: [{ field: 'id', direction: 'asc' }],
    fields: { exclude: ['properties'], include: ['properties.cycle_number', 'id'] },
  });
  t.same((viaPost.body as FC).features[0]!.properties, { cycle_number: 0 });
  // The more specific exclude wins the other way round.
  const child = await get('/stac/search?collections=1900857_prof&limit=1&fields=properties,-properties.cycle_number');
  const p = (child.body as FC).features[0]!.properties;
  t.notOk('cycle_number' in p);
  t.ok('platform_number' in p && 'datetime' in p);
});

t.test("GeoTIFFs: the item time is the data's own (metadata), never the file's modification time", async (t) => {
  const cog = (await get('/stac/collections/ghrsst_blk_analysed_sst_20160707_cog/items')).body as FC;
  t.equal(cog.features.length, 1);
  // GDAL kept the NetCDF time coordinate (NETCDF_DIM_time_VALUES, seconds since 1981) and ACDD's coverage.
  t.match(cog.features[0]!.properties, {
    datetime: '2016-07-07T00:00:00Z',
    start_datetime: '2016-07-06T19:00:00Z',
    end_datetime: '2016-07-07T07:00:00Z',
  });
  const twin = (await get('/stac/collections/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02-0-fv01-0/items'))
    .body as FC;
  t.equal(
    twin.features[0]!.properties['datetime'],
    cog.features[0]!.properties['datetime'],
    'the same instant as the NetCDF it was cut from',
  );
  const exact = (
    await get('/stac/search?datetime=2016-07-07T00:00:00Z&collections=ghrsst_blk_analysed_sst_20160707_cog')
  ).body as FC;
  t.equal(exact.features.length, 1, 'an exact-instant search finds it');

  // A copy with another modification time, and a TIFF whose only date is its DateTime tag (written by GDAL).
  const dir = await mkdtemp(join(tmpdir(), 'odas-stac-time-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await copyFile(join(SHARED_DATA, 'geotiff', 'ghrsst_blk_analysed_sst_20160707_cog.tif'), join(dir, 'copy.tif'));
  await utimes(join(dir, 'copy.tif'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
  await promisify(execFile)('gdal_translate', [
    '-q',
    '-mo',
    'TIFFTAG_DATETIME=2019:06:15 10:30:00',
    join(SHARED_DATA, 'geotiff', 'RGB.byte.tif'),
    join(dir, 'dated.tif'),
  ]);
  const app2 = await buildTestApp([dir]);
  t.teardown(() => app2.close());
  const items = JSON.parse((await app2.inject({ url: '/stac/search?limit=10&sortby=id' })).body) as FC;
  t.same(
    items.features.map((f) => [f.id, f.properties['datetime']]),
    [
      ['copy', '2016-07-07T00:00:00Z'],
      ['dated', '2019-06-15T10:30:00Z'],
    ],
  );
});

t.test('a GeoTIFF with no time anywhere is no item; its collection offers the file as an asset', async (t) => {
  const items = (await get('/stac/collections/cogeo/items')).body as FC;
  t.equal(items.features.length, 0);
  const c = (await get('/stac/collections/cogeo')).body as {
    assets: Record<string, { href: string; roles: string[] }>;
  };
  t.ok(c.assets['data']?.roles.includes('data'));
  const file = await fetch(c.assets['data']!.href.replace(/^https?:\/\/[^/]+/, base), {
    headers: { range: 'bytes=0-1' },
  });
  t.equal(file.status, 206);
  t.same([...new Uint8Array(await file.arrayBuffer())], [0x49, 0x49], 'the TIFF itself');
  t.match(c.assets['netcdf']?.href, /\/collections\/cogeo\/coverage\?f=netcdf$/);
});

t.test('COGs a static catalog publishes appear once in STAC: in the published catalog', async (t) => {
  const hidden = [
    'oisst-avhrr-v02r01-20220913-sst',
    'oisst-avhrr-v02r01-20220913-anom',
    'oisst-avhrr-v02r01-20220913-err',
    'oisst-avhrr-v02r01-20220913-ice',
    'mean_temperature_anomaly_0-100_pentad_2017-2021',
    'mean_salinity_anomaly_0-100_pentad_2017-2021',
  ];
  const root = (await get('/stac')).body as { links: Array<{ rel: string; href: string }> };
  const children = root.links.filter((l) => l.rel === 'child').map((l) => l.href.replace(/^.*\//, ''));
  t.ok(
    children.includes('noaa-cdr-sea-surface-temperature-optimum-interpolation') &&
      children.includes('noaa-cdr-ocean-heat-content'),
  );
  for (const id of hidden) {
    t.notOk(children.includes(id), `${id} not a STAC child`);
    const r = await get(`/stac/collections/${id}`);
    t.equal(r.status, 404);
    t.match((r.body as { description: string }).description, /static catalog collection 'noaa-cdr-/);
    t.equal((await fetch(`${base}/collections/${id}`)).status, 200, 'still an OGC API coverage');
  }
  const listed = (await get('/stac/collections')).body as { collections: Array<{ id: string }> };
  t.notOk(listed.collections.some((c) => hidden.includes(c.id)));
  const all = (await get('/stac/search?limit=10000')).body as FC;
  t.notOk(
    all.features.some((f) => hidden.includes(f.collection)),
    'no generated item of a published file',
  );
  t.equal(all.numberMatched, all.features.length);
  t.equal(all.features.filter((f) => f.id === 'oisst-avhrr-v02r01.20220913').length, 1);
});

t.test('grid items declare proj, datacube and file with their fields, and validate', async (t) => {
  const ice = ((await get('/stac/collections/seaice_conc_monthly_nh_202112_f17_v04r00/items')).body as FC).features[0]!;
  t.same(ice.stac_extensions, [PROJECTION_EXTENSION, DATACUBE_EXTENSION, FILE_EXTENSION]);
  // gdalinfo NETCDF:…:cdr_seaice_conc_monthly: 304 x 448, origin (-3850000, 5850000), pixel 25000 x -25000.
  t.match(ice.properties, {
    'proj:epsg': 3411,
    'proj:shape': [448, 304],
    'proj:transform': [25000, 0, -3850000, 0, -25000, 5850000],
    'proj:bbox': [-3850000, -5350000, 3750000, 5850000],
  });
  const dims = ice.properties['cube:dimensions'] as Record<
    string,
    { type: string; axis?: string; reference_system?: number; extent: unknown[] }
  >;
  t.match(dims['x'], { type: 'spatial', axis: 'x', reference_system: 3411 });
  t.same(dims['tdim']!.extent, ['2021-12-01T00:00:00Z', '2021-12-01T00:00:00Z']);
  t.ok((ice.properties['cube:variables'] as Record<string, unknown>)['cdr_seaice_conc_monthly']);
  t.equal(
    (ice.assets!['source'] as { 'file:size': number })['file:size'],
    statSync(join(SHARED_DATA, 'satellite', 'seaice_conc_monthly_nh_202112_f17_v04r00.nc')).size,
  );
  const adt = ((await get('/stac/collections/dt_med_allsat_phy_l4_2005T2/items?limit=1&sortby=%2Bdatetime')).body as FC)
    .features[0]!;
  t.match(adt.properties, { 'proj:epsg': 4326, 'proj:shape': [128, 344] });
  t.same(
    (adt.properties['cube:dimensions'] as Record<string, { extent: unknown[] }>)['time']!.extent,
    ['2005-04-01T00:00:00Z', '2005-04-01T00:00:00Z'],
    "the item's own step",
  );
  const cog = ((await get('/stac/collections/ghrsst_blk_analysed_sst_20160707_cog/items')).body as FC).features[0]!;
  t.match(cog.properties, { 'proj:epsg': 4326, 'proj:shape': [240, 384] });
  const profile = ((await get('/stac/collections/1900857_prof/items?limit=1')).body as FC).features[0]!;
  t.same(profile.stac_extensions, [], 'a profile is a point in CRS84: no grid extension applies');
  const v = await validateStac([ice, adt, cog, profile]);
  t.ok(v.ok, v.output.slice(-600));
});
