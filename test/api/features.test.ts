import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildTestApp, getJson } from '../helpers/app.js';

interface Feature {
  id: string;
  geometry: { type: string; coordinates: number[] | number[][] } | null;
  properties: Record<string, unknown>;
}
interface FC {
  type: string;
  numberMatched: number;
  numberReturned: number;
  timeStamp: string;
  features: Feature[];
  links: Array<{ rel: string; href: string; type?: string }>;
}

/** The same float32 as the MANIFEST's 6-decimal reference (answers print the shortest faithful text: 34.33). */
function sameFloat32(t: Test, got: unknown, want: number, msg: string): void {
  t.equal(
    typeof got === 'number' ? Math.fround(got) : got,
    Math.fround(want),
    `${msg}: ${String(got)} is float32 ${want}`,
  );
}

let app: FastifyInstance;
t.before(async () => {
  app = await buildTestApp();
});
t.teardown(async () => {
  await app.close();
});

t.test('Argo multi-profile file: one Point per profile with the MANIFEST values', async (t) => {
  const { status, body, headers } = await getJson<FC>(app, '/collections/1900857_prof/items?limit=200');
  t.equal(status, 200);
  t.match(String(headers['content-type']), /application\/geo\+json/);
  t.equal(body.numberMatched, 194, 'N_PROF = 194');
  t.equal(body.numberReturned, 194);
  const first = body.features[0]!;
  t.equal(first.id, '1900857_000D', 'cycle 0, descending');
  t.same(first.geometry, { type: 'Point', coordinates: [10.809, -39.926] });
  t.equal(first.properties['datetime'], '2008-02-25T04:03:00Z');
  t.equal(first.properties['platform_number'], '1900857');
  t.equal(first.properties['cycle_number'], 0);
  t.equal(first.properties['direction'], 'D');
  t.equal(first.properties['data_mode'], 'D');
  t.equal(first.properties['data_centre'], 'IF');
  t.equal(first.properties['project_name'], 'GOODHOPE');
  t.equal(first.properties['parameters'], 'PRES,TEMP,PSAL');
  const p97 = body.features[97]!;
  t.equal(p97.properties['cycle_number'], 96);
  t.equal(p97.properties['direction'], 'A');
  t.equal(p97.properties['datetime'], '2010-10-15T02:04:00Z');
  t.same(p97.geometry?.coordinates, [30.379, -42.218]);
  const last = body.features[193]!;
  t.equal(last.properties['datetime'], '2013-06-01T05:34:00Z');
  t.same(last.geometry?.coordinates, [92.646, -44.163]);
});

t.test('one item carries its levels: MANIFEST PRES/TEMP/PSAL at N_PROF 97, level 55', async (t) => {
  const { status, body } = await getJson<Feature>(app, '/collections/1900857_prof/items/1900857_096');
  t.equal(status, 200);
  const levels = body.properties['levels'] as Record<string, Array<number | string | null>>;
  t.equal(levels['PRES']![55], 663);
  t.equal(levels['TEMP']![55], 5.49);
  sameFloat32(t, levels['PSAL']![55], 34.330002, 'PSAL');
  t.equal(levels['PRES_QC']![55], '1');
  t.same((body.properties['units'] as Record<string, string>)['TEMP'], 'degree_Celsius');
  const csv = await app.inject({ url: '/collections/1900857_prof/items/1900857_096?f=csv' });
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /text\/csv/);
  const lines = csv.body.trim().split('\r\n');
  t.match(lines[0], /^id,datetime,longitude,latitude,PRES \[decibar\]/);
  t.match(lines[56], /^1900857_096,2010-10-15T02:04:00Z,30.379,-42.218,663,663,1,5.49,/);
});

t.test('Argo BGC S-profile file through the HDF5 reader', async (t) => {
  const { status, body } = await getJson<FC>(app, '/collections/3902131_Sprof/items?limit=1');
  t.equal(status, 200);
  t.equal(body.numberMatched, 162);
  const f = body.features[0]!;
  t.equal(f.properties['platform_number'], '3902131');
  t.equal(f.properties['datetime'], '2018-03-13T06:01:00Z');
  t.same(f.geometry?.coordinates, [5.001455, -6.633677]);
  const item = await getJson<Feature>(app, `/collections/3902131_Sprof/items/${f.id}`);
  const levels = item.body.properties['levels'] as Record<string, Array<number | null>>;
  sameFloat32(t, levels['PRES']![0], 13.1, 'PRES');
  sameFloat32(t, levels['TEMP']![0], 28.419001, 'TEMP');
  sameFloat32(t, levels['DOXY']![0], 193.054749, 'DOXY');
});

t.test('single-profile file: two profiles of cycle 1 get distinct ids', async (t) => {
  const { body } = await getJson<FC>(app, '/collections/D1900857_001/items');
  t.equal(body.numberMatched, 2);
  t.same(
    body.features.map((f) => f.id),
    ['1900857_001', '1900857_001_2'],
  );
  t.equal(body.features[0]!.properties['datetime'], '2008-03-09T01:23:00Z');
});

t.test('glider: one LineString trajectory; mooring: one station Point', async (t) => {
  const glider = await getJson<FC>(app, '/collections/dfo-rosie713-20190615/items');
  t.equal(glider.body.numberMatched, 1);
  const g = glider.body.features[0]!;
  t.equal(g.geometry?.type, 'LineString');
  t.equal(g.properties['start_datetime'], '2019-06-20T06:20:53.969Z');
  t.equal(g.properties['end_datetime'], '2019-06-20T17:55:47.235Z');
  const gi = await getJson<Feature>(app, `/collections/dfo-rosie713-20190615/items/${g.id}`);
  const obs = gi.body.properties['observations'] as Record<string, Array<number | string | null>>;
  t.equal(obs['temperature']![117], 7.1517);
  t.equal(obs['time']![117], '2019-06-20T07:22:30.718Z');
  const mooring = await getJson<FC>(app, '/collections/MCTD_HUD2013004_1845_10515_1800/items');
  t.equal(mooring.body.numberMatched, 1);
  const m = mooring.body.features[0]!;
  t.same(m.geometry, { type: 'Point', coordinates: [-59.14106, 46.25225] });
  const mi = await getJson<Feature>(app, `/collections/MCTD_HUD2013004_1845_10515_1800/items/${m.id}`);
  const mobs = mi.body.properties['observations'] as Record<string, Array<number | string | null>>;
  t.equal(mobs['TEMP_01']![782], 1.8012, 'swapped valid_min/valid_max do not mask the data');
  t.equal(mobs['PSAL_01']![3910], 32.91);
  t.equal(mobs['time']![7038], '2013-09-12T04:01:00Z');
});

t.test('bbox and datetime filter for real', async (t) => {
  const all = (await getJson<FC>(app, '/collections/1900857_prof/items?limit=1000')).body.features;
  const box = [20, -45, 40, -40];
  const inBox = all.filter((f) => {
    const [x, y] = f.geometry!.coordinates as number[];
    return x! >= box[0]! && x! <= box[2]! && y! >= box[1]! && y! <= box[3]!;
  });
  const r = (await getJson<FC>(app, `/collections/1900857_prof/items?bbox=${box.join(',')}&limit=1000`)).body;
  t.ok(inBox.length > 0 && inBox.length < all.length, 'the box selects some profiles');
  t.same(
    r.features.map((f) => f.id),
    inBox.map((f) => f.id),
    'exactly the profiles inside the box',
  );
  const dt = (
    await getJson<FC>(
      app,
      '/collections/1900857_prof/items?datetime=2009-01-01T00:00:00Z/2009-12-31T23:59:59Z&limit=1000',
    )
  ).body;
  const in2009 = all.filter((f) => String(f.properties['datetime']).startsWith('2009'));
  t.same(
    dt.features.map((f) => f.id),
    in2009.map((f) => f.id),
  );
  const open = (await getJson<FC>(app, '/collections/1900857_prof/items?datetime=../2008-12-31&limit=1000')).body;
  t.same(
    open.features.map((f) => f.id),
    all.filter((f) => String(f.properties['datetime']) < '2009').map((f) => f.id),
    'open start, date-only end means the whole day',
  );
  const none = (
    await getJson<FC>(app, '/collections/1900857_prof/items?datetime=1800-01-01T00:00:00Z/1800-12-31T00:00:00Z')
  ).body;
  t.equal(none.numberMatched, 0);
  const far = (await getJson<FC>(app, '/collections/1900857_prof/items?bbox=179,-89.9,179.5,-89.5')).body;
  t.equal(far.numberMatched, 0);
  const anti = (await getJson<FC>(app, '/collections/1900857_prof/items?bbox=90,-50,-170,-30&limit=1000')).body;
  t.same(
    anti.features.map((f) => f.id),
    all.filter((f) => (f.geometry!.coordinates as number[])[0]! >= 90).map((f) => f.id),
    'a box across the antimeridian',
  );
});

t.test('attribute filters on queryables', async (t) => {
  const q = await getJson<{ properties: Record<string, { type?: string }> }>(
    app,
    '/collections/1900857_prof/queryables',
  );
  t.equal(q.status, 200);
  t.equal(q.body.properties['platform_number']?.type, 'string');
  t.equal(q.body.properties['cycle_number']?.type, 'integer');
  const r = (await getJson<FC>(app, '/collections/1900857_prof/items?platform_number=1900857&direction=D&limit=1000'))
    .body;
  t.ok(r.numberMatched >= 1);
  t.ok(r.features.every((f) => f.properties['direction'] === 'D'));
  const c = (await getJson<FC>(app, '/collections/1900857_prof/items?cycle_number=96')).body;
  t.same(
    c.features.map((f) => f.id),
    ['1900857_096'],
  );
});

t.test('paging: next links keep every parameter and reach every feature once', async (t) => {
  const seen: string[] = [];
  let url: string | undefined = '/collections/1900857_prof/items?limit=50&datetime=2008-01-01T00:00:00Z/..';
  let pages = 0;
  while (url && pages < 20) {
    const body: FC = (await getJson<FC>(app, url)).body;
    seen.push(...body.features.map((f) => f.id));
    const next = body.links.find((l) => l.rel === 'next');
    if (next) t.match(next.href, /datetime=2008-01-01T00%3A00%3A00Z%2F\.\./);
    url = next ? next.href.replace(/^https?:\/\/[^/]+/, '') : undefined;
    pages++;
  }
  t.equal(pages, 4);
  t.equal(seen.length, 194);
  t.equal(new Set(seen).size, 194);
});

t.test('collection metadata and the items link without a query string', async (t) => {
  const { body } = await getJson<{
    extent: { spatial: { bbox: number[][] }; temporal: { interval: string[][] } };
    links: Array<{ rel: string; href: string }>;
    itemType: string;
  }>(app, '/collections/1900857_prof');
  t.equal(body.itemType, 'feature');
  t.same(body.extent.spatial.bbox[0], [9.045, -48.855, 93.926, -34.444], 'MANIFEST LONGITUDE/LATITUDE ranges');
  t.same(body.extent.temporal.interval[0], ['2008-02-25T04:03:00Z', '2013-06-01T05:34:00Z']);
  const items = body.links.find((l) => l.rel === 'items')!;
  t.notMatch(items.href, /\?/);
});

t.test('bad input: 400/404 in OGC exception JSON, never 500', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['/collections/1900857_prof/items?bbox=1,2,3', 400, /bbox/],
    ['/collections/1900857_prof/items?bbox=a,b,c,d', 400, /bbox/],
    ['/collections/1900857_prof/items?bbox=0,10,5,-10', 400, /bbox/],
    ['/collections/1900857_prof/items?bbox=0,-100,5,10', 400, /bbox/],
    ['/collections/1900857_prof/items?datetime=yesterday', 400, /datetime/],
    ['/collections/1900857_prof/items?datetime=2010-01-01/2009-01-01', 400, /datetime/],
    ['/collections/1900857_prof/items?datetime=../..', 400, /datetime/],
    ['/collections/1900857_prof/items?datetime=2010-02-30T00:00:00Z', 400, /datetime/],
    ['/collections/1900857_prof/items?limit=0', 400, /limit/],
    ['/collections/1900857_prof/items?limit=ten', 400, /limit/],
    ['/collections/1900857_prof/items?limit=-5', 400, /limit/],
    ['/collections/1900857_prof/items?offset=-1', 400, /offset/],
    ['/collections/1900857_prof/items?cycle_number=abc', 400, /cycle_number/],
    ['/collections/1900857_prof/items?colour=red', 400, /colour/],
    ['/collections/1900857_prof/items?f=xml', 400, /'f'/],
    ['/collections/1900857_prof/items?crs=EPSG:32633', 400, /'crs': unsupported CRS/],
    ['/collections/nope/items', 404, /nope/],
    ['/collections/1900857_prof/items/nope', 404, /nope/],
    ['/collections/coads_sst/items', 404, /gridded/],
    ['/collections/..%2F..%2Fetc/items', 404, /collection/],
    ['/nowhere', 404, /nowhere/],
  ];
  for (const [url, status, desc] of cases) {
    const res = await app.inject({ url });
    t.equal(res.statusCode, status, url);
    const body = JSON.parse(res.body) as { code: string; description: string };
    t.type(body.code, 'string', `${url}: code`);
    t.match(body.description, desc, `${url}: ${body.description}`);
  }
  const big = await getJson<FC>(app, '/collections/1900857_prof/items?limit=20000');
  t.equal(big.status, 200, 'limit above the maximum is served at the maximum');
  t.equal(big.body.numberReturned, 194);
});
