import { statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { API_MODULES, buildApp } from '../../src/app.js';
import { exportStaticCatalog } from '../../src/api/stac/export.js';
import { StacService } from '../../src/stac/service.js';
import { buildTestApp, discoverRoots, getJson, SHARED_DATA } from '../helpers/app.js';
import { validateStac } from '../helpers/stac-validate.js';

interface Link {
  rel: string;
  href: string;
  type?: string;
  method?: string;
  body?: Record<string, unknown>;
  merge?: boolean;
}
interface Item {
  id: string;
  collection: string;
  geometry: { type: string; coordinates: unknown } | null;
  bbox?: [number, number, number, number];
  properties: Record<string, unknown>;
  assets: Record<string, { href: string; type: string }>;
  links: Link[];
  stac_version: string;
}
interface FC {
  type: string;
  features: Item[];
  links: Link[];
  numberMatched?: number;
  numberReturned: number;
}

let app: FastifyInstance;
t.before(async () => {
  app = await buildTestApp();
});
t.teardown(async () => {
  await app.close();
});

const local = (href: string) => href.replace(/^https?:\/\/[^/]+/, '');
const link = (doc: { links: Link[] }, rel: string) => doc.links.find((l) => l.rel === rel);

async function post<T>(url: string, payload: object): Promise<{ status: number; body: T }> {
  const r = await app.inject({ method: 'POST', url, payload });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

/** Follow next links (GET or POST) to the end; returns every item id. */
async function pageAll(first: FC): Promise<string[]> {
  const ids = first.features.map((f) => `${f.collection}/${f.id}`);
  let page = first;
  for (let n = 0; n < 200; n++) {
    const next = link(page, 'next');
    if (!next) break;
    page =
      next.method === 'POST'
        ? (await post<FC>(local(next.href), next.body!)).body
        : (await getJson<FC>(app, local(next.href))).body;
    ids.push(...page.features.map((f) => `${f.collection}/${f.id}`));
  }
  return ids;
}

t.test('landing page: a Catalog with conformsTo and the links STAC clients look for', async (t) => {
  const { status, body } = await getJson<{ type: string; stac_version: string; conformsTo: string[]; links: Link[] }>(
    app,
    '/stac',
  );
  t.equal(status, 200);
  t.equal(body.type, 'Catalog');
  t.equal(body.stac_version, '1.0.0');
  for (const c of ['core', 'collections', 'ogcapi-features', 'item-search', 'item-search#fields', 'item-search#filter'])
    t.ok(body.conformsTo.includes(`https://api.stacspec.org/v1.0.0/${c}`), c);
  t.ok(body.conformsTo.includes('https://api.stacspec.org/v1.1.0/item-search#sort'));
  t.ok(body.conformsTo.includes('http://www.opengis.net/spec/cql2/1.0/conf/cql2-json'));
  for (const rel of ['self', 'root', 'service-desc', 'service-doc', 'conformance', 'data']) t.ok(link(body, rel), rel);
  t.same(
    body.links
      .filter((l) => l.rel === 'search')
      .map((l) => l.method)
      .sort(),
    ['GET', 'POST'],
  );
  t.ok(body.links.some((l) => l.rel === 'child' && l.href.endsWith('/stac/collections/1900857_prof')));
  t.equal(local(link(body, 'service-desc')!.href), '/api');
  const conf = await getJson<{ conformsTo: string[] }>(app, '/stac/conformance');
  t.same(conf.body.conformsTo, body.conformsTo);
  const ogc = await getJson<{ links: Link[] }>(app, '/');
  t.equal(
    local(ogc.body.links.find((l) => l.href.endsWith('/stac'))!.href),
    '/stac',
    'the OGC landing page links the STAC root',
  );
  const html = await app.inject({ url: '/stac?f=html' });
  t.equal(html.statusCode, 400);
  t.match(JSON.parse(html.body), { code: 'InvalidParameterValue', description: /'f'/ });
});

t.test('collections: generated from the data and valid STAC 1.0.0', async (t) => {
  const { status, body } = await getJson<{
    collections: Array<Record<string, unknown> & { id: string; links: Link[] }>;
  }>(app, '/stac/collections');
  t.equal(status, 200);
  const ids = body.collections.map((c) => c.id);
  for (const id of [
    '1900857_prof',
    'dt_med_allsat_phy_l4_2005T2',
    'MCTD_HUD2013004_1845_10515_1800',
    'noaa-cdr-ocean-heat-content',
  ])
    t.ok(ids.includes(id), id);
  const argo = body.collections.find((c) => c.id === '1900857_prof')!;
  t.match(argo, {
    type: 'Collection',
    license: 'proprietary',
    extent: {
      spatial: { bbox: [[Number, Number, Number, Number]] },
      temporal: { interval: [['2008-02-25T04:03:00Z', '2013-06-01T05:34:00Z']] },
    },
  });
  t.match(argo['summaries'], {
    data_mode: ['D'],
    direction: ['A', 'D'],
    platform_number: ['1900857'],
    cycle_number: { minimum: 0, maximum: 192 },
  });
  t.ok(
    argo.links.some((l) => l.rel === 'license'),
    'proprietary comes with a licence link',
  );
  t.ok(
    argo.links.some((l) => l.rel === 'alternate' && local(l.href) === '/collections/1900857_prof'),
    'links to the OGC collection',
  );
  t.ok(
    argo.links.some((l) => l.rel === 'alternate' && local(l.href) === '/collections/1900857_prof/items'),
    'and its OGC items',
  );
  t.match(argo['providers'], [{ roles: ['producer'] }, { roles: ['host'] }]);
  const grid = body.collections.find((c) => c.id === 'dt_med_allsat_phy_l4_2005T2')!;
  t.match(grid['extent'], { temporal: { interval: [['2005-04-01T00:00:00Z', '2005-06-30T00:00:00Z']] } });
  const generated = body.collections.filter(
    (c) => c['stac_version'] === '1.0.0' && !String(c['id']).startsWith('noaa-cdr'),
  );
  const v = await validateStac(generated);
  t.ok(v.ok, `${generated.length} generated collections valid under stac-node-validator: ${v.output.slice(-400)}`);
  const one = await getJson<{ id: string }>(app, '/stac/collections/1900857_prof');
  t.equal(one.body.id, '1900857_prof');
  const missing = await getJson<{ code: string }>(app, '/stac/collections/nope');
  t.equal(missing.status, 404);
  t.equal(missing.body.code, 'NotFound');
});

t.test('collection search: q, bbox, datetime, limit', async (t) => {
  const q = await getJson<{ collections: Array<{ id: string }>; numberMatched: number }>(
    app,
    '/stac/collections?q=mediterranean,nonexistentword',
  );
  t.same(
    q.body.collections.map((c) => c.id).sort(),
    ['dt_med_allsat_phy_l4_2005T2', 'med_allsat_phy_l4_2005_P1D'],
    'the NetCDF file and its Zarr copy',
  );
  const b = await getJson<{ collections: Array<{ id: string }> }>(app, '/stac/collections?bbox=-70,40,-50,50');
  t.ok(b.body.collections.some((c) => c.id === 'MCTD_HUD2013004_1845_10515_1800'));
  t.notOk(b.body.collections.some((c) => c.id === 'dt_med_allsat_phy_l4_2005T2'));
  const d = await getJson<{ collections: Array<{ id: string }> }>(
    app,
    '/stac/collections?datetime=2005-05-01T00:00:00Z',
  );
  t.ok(d.body.collections.some((c) => c.id === 'dt_med_allsat_phy_l4_2005T2'));
  t.notOk(d.body.collections.some((c) => c.id === '3902131_Sprof'));
  const l = await getJson<{ collections: unknown[]; links: Link[] }>(app, '/stac/collections?limit=2');
  t.equal(l.body.collections.length, 2);
  const next = await getJson<{ collections: Array<{ id: string }> }>(app, local(link(l.body, 'next')!.href));
  t.equal(next.body.collections.length, 2);
  const bad = await getJson<{ description: string }>(app, '/stac/collections?limit=zero');
  t.equal(bad.status, 400);
  t.match(bad.body.description, /'limit'/);
});

t.test('items are valid STAC, with the data, the file and the OGC links as assets', async (t) => {
  const argo = await getJson<FC>(app, '/stac/collections/1900857_prof/items?limit=3&sortby=datetime');
  t.equal(argo.status, 200);
  const first = argo.body.features[0]!;
  t.equal(first.id, '1900857_000D');
  t.same(first.geometry, { type: 'Point', coordinates: [10.809, -39.926] });
  t.match(first.properties, {
    datetime: '2008-02-25T04:03:00Z',
    platform_number: '1900857',
    cycle_number: 0,
    data_mode: 'D',
  });
  t.equal(local(first.assets['data']!.href), '/collections/1900857_prof/items/1900857_000D');
  t.equal(local(first.assets['csv']!.href), '/collections/1900857_prof/items/1900857_000D?f=csv');
  t.equal(local(first.assets['source']!.href), '/stac/collections/1900857_prof/files/argo/1900857_prof.nc');
  t.equal(first.assets['source']!.type, 'application/x-netcdf');
  const csv = await app.inject({ url: local(first.assets['csv']!.href) });
  t.equal(csv.statusCode, 200, 'the CSV asset resolves');
  const grid = await getJson<FC>(app, '/stac/collections/dt_med_allsat_phy_l4_2005T2/items?limit=2&sortby=%2Bdatetime');
  t.equal(grid.body.numberMatched, 91, 'one item per daily time step');
  const g = grid.body.features[0]!;
  t.equal(g.id, 'dt_med_allsat_phy_l4_2005T2_20050401');
  t.equal(g.geometry?.type, 'Polygon');
  t.equal(g.properties['datetime'], '2005-04-01T00:00:00Z');
  const item = await getJson<Item>(app, '/stac/collections/1900857_prof/items/1900857_096');
  t.equal(item.status, 200);
  t.equal(item.body.properties['cycle_number'], 96);
  t.equal(local(link(item.body, 'self')!.href), '/stac/collections/1900857_prof/items/1900857_096');
  const traj = await getJson<FC>(app, '/stac/collections/1900857_Rtraj/items');
  const tr = traj.body.features[0]!;
  t.equal(tr.geometry?.type, 'LineString');
  t.ok(tr.properties['start_datetime'] && tr.properties['end_datetime'], 'a trajectory has a time span');
  const all = [
    ...argo.body.features,
    ...grid.body.features,
    item.body,
    ...traj.body.features,
    ...(await getJson<FC>(app, '/stac/collections/MCTD_HUD2013004_1845_10515_1800/items')).body.features,
  ];
  const v = await validateStac(all as unknown as Array<Record<string, unknown>>);
  t.ok(v.ok, `${all.length} items valid under stac-node-validator: ${v.output.slice(-400)}`);
  t.equal((await getJson(app, '/stac/collections/1900857_prof/items/nope')).status, 404);
});

t.test('GET search: bbox, datetime, limit, paging by next links without duplicates', async (t) => {
  const q =
    'bbox=0,-60,100,50&datetime=2005-01-01T00:00:00Z/2010-12-31T23:59:59Z&limit=7&collections=1900857_prof,dt_med_allsat_phy_l4_2005T2';
  const { status, body } = await getJson<FC>(app, `/stac/search?${q}`);
  t.equal(status, 200);
  t.equal(body.features.length, 7);
  t.ok(body.numberMatched! > 100);
  for (const f of body.features) {
    const [w, s, e, n] = f.bbox!;
    t.ok(e >= 0 && w <= 100 && n >= -60 && s <= 50, `${f.id} intersects the box`);
  }
  const ids = await pageAll(body);
  t.equal(ids.length, body.numberMatched);
  t.equal(new Set(ids).size, ids.length, 'no duplicates');
  const times = (await getJson<FC>(app, `/stac/search?${q.replace('limit=7', 'limit=50')}`)).body.features.map((f) =>
    String(f.properties['datetime']),
  );
  t.same(times, [...times].sort().reverse(), 'newest first');
  const ids2 = await getJson<FC>(app, '/stac/search?ids=1900857_096,1900857_000D&collections=1900857_prof');
  t.same(ids2.body.features.map((f) => f.id).sort(), ['1900857_000D', '1900857_096']);
  const none = await getJson<FC>(app, '/stac/search?bbox=-10,-10,-9,-9&collections=1900857_prof');
  t.equal(none.body.numberMatched, 0);
  t.same(none.body.features, []);
  const intersects = JSON.stringify({
    type: 'Polygon',
    coordinates: [
      [
        [20, -45],
        [40, -45],
        [40, -40],
        [20, -40],
        [20, -45],
      ],
    ],
  });
  const inter = await getJson<FC>(
    app,
    `/stac/search?collections=1900857_prof&limit=200&intersects=${encodeURIComponent(intersects)}`,
  );
  const byBox = await getJson<FC>(app, '/stac/search?collections=1900857_prof&limit=200&bbox=20,-45,40,-40');
  t.ok(inter.body.features.length > 0);
  t.same(
    inter.body.features.map((f) => f.id).sort(),
    byBox.body.features.map((f) => f.id).sort(),
    'intersects with a box polygon = bbox',
  );
});

t.test('POST search: the same answers, next links carry method, body and merge', async (t) => {
  const body = {
    bbox: [0, -60, 100, 50],
    datetime: '2005-01-01T00:00:00Z/2010-12-31T23:59:59Z',
    limit: 9,
    collections: ['1900857_prof', 'dt_med_allsat_phy_l4_2005T2'],
  };
  const r = await post<FC>('/stac/search', body);
  t.equal(r.status, 200);
  const next = link(r.body, 'next')!;
  t.equal(next.method, 'POST');
  t.equal(next.merge, false);
  t.match(next.body, { ...body, token: String });
  const ids = await pageAll(r.body);
  t.equal(ids.length, r.body.numberMatched);
  t.equal(new Set(ids).size, ids.length);
  const get = await pageAll(
    (
      await getJson<FC>(
        app,
        '/stac/search?bbox=0,-60,100,50&datetime=2005-01-01T00:00:00Z/2010-12-31T23:59:59Z&limit=9&collections=1900857_prof,dt_med_allsat_phy_l4_2005T2',
      )
    ).body,
  );
  t.same(ids, get, 'GET and POST page through the same items');
  const inter = await post<FC>('/stac/search', {
    intersects: { type: 'Point', coordinates: [10.809, -39.926] },
    collections: ['1900857_prof'],
  });
  t.same(
    inter.body.features.map((f) => f.id),
    ['1900857_000D'],
  );
});

t.test('CQL2 filters (text and JSON), fields and sortby', async (t) => {
  const text = await getJson<FC>(
    app,
    `/stac/search?collections=1900857_prof&limit=100&filter=${encodeURIComponent("cycle_number BETWEEN 10 AND 12 AND direction = 'A'")}`,
  );
  t.equal(text.status, 200);
  t.same(text.body.features.map((f) => f.properties['cycle_number']).sort(), [10, 11, 12]);
  const json = await post<FC>('/stac/search', {
    collections: ['1900857_prof'],
    limit: 100,
    filter: {
      op: 'and',
      args: [
        { op: 'between', args: [{ property: 'cycle_number' }, 10, 12] },
        { op: '=', args: [{ property: 'direction' }, 'A'] },
      ],
    },
  });
  t.same(json.body.features.map((f) => f.id).sort(), text.body.features.map((f) => f.id).sort(), 'JSON = text');
  const time = await post<FC>('/stac/search', {
    collections: ['1900857_prof'],
    limit: 500,
    'filter-lang': 'cql2-json',
    filter: {
      op: 't_intersects',
      args: [{ property: 'datetime' }, { interval: ['2009-01-01T00:00:00Z', '2009-12-31T23:59:59Z'] }],
    },
  });
  t.ok(time.body.features.length > 0);
  t.ok(time.body.features.every((f) => String(f.properties['datetime']).startsWith('2009')));
  const spatial = await getJson<FC>(
    app,
    `/stac/search?collections=1900857_prof&limit=500&filter=${encodeURIComponent('S_INTERSECTS(geometry, POLYGON((20 -45, 40 -45, 40 -40, 20 -40, 20 -45)))')}`,
  );
  t.equal(
    spatial.body.numberMatched,
    (await getJson<FC>(app, '/stac/search?collections=1900857_prof&bbox=20,-45,40,-40')).body.numberMatched,
  );
  const fields = await getJson<FC>(
    app,
    '/stac/search?collections=1900857_prof&limit=2&fields=id,properties.cycle_number,-links',
  );
  t.same(Object.keys(fields.body.features[0]!).sort(), ['id', 'properties', 'stac_version', 'type']);
  t.same(Object.keys(fields.body.features[0]!.properties), ['cycle_number']);
  const excl = await post<FC>('/stac/search', {
    collections: ['1900857_prof'],
    limit: 1,
    fields: { exclude: ['assets', 'geometry'] },
  });
  t.notOk('assets' in excl.body.features[0]!);
  t.ok('properties' in excl.body.features[0]!);
  const sorted = await getJson<FC>(app, '/stac/search?collections=1900857_prof&limit=5&sortby=-cycle_number,id');
  t.same(
    sorted.body.features.map((f) => f.properties['cycle_number']),
    [192, 191, 190, 189, 188],
  );
  const sortedPost = await post<FC>('/stac/search', {
    collections: ['1900857_prof'],
    limit: 5,
    sortby: [{ field: 'properties.cycle_number', direction: 'asc' }],
  });
  t.same(
    sortedPost.body.features.map((f) => f.properties['cycle_number']),
    [0, 0, 1, 2, 3],
  );
  const q = await getJson<{ properties: Record<string, { type?: string }> }>(
    app,
    '/stac/collections/1900857_prof/queryables',
  );
  t.equal(q.body.properties['cycle_number']!.type, 'integer');
  t.equal(q.body.properties['platform_number']!.type, 'string');
  const all = await getJson<{ properties: Record<string, unknown> }>(app, '/stac/queryables');
  t.ok('n_observations' in all.body.properties && 'cycle_number' in all.body.properties);
});

t.test('bad input: 400 OGC exception JSON naming the parameter', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['/stac/search?bbox=1,2,3', /'bbox'/],
    ['/stac/search?datetime=yesterday', /'datetime'/],
    ['/stac/search?limit=0', /'limit'/],
    ['/stac/search?token=garbage', /'token'/],
    ['/stac/search?collections=nope', /'collections'/],
    ['/stac/search?intersects=%7Bnot', /'intersects'/],
    [
      '/stac/search?bbox=0,0,1,1&intersects=%7B%22type%22%3A%22Point%22%2C%22coordinates%22%3A%5B0%2C0%5D%7D',
      /'intersects'/,
    ],
    ['/stac/search?filter=cycle_number%20%3D', /'filter'/],
    ['/stac/search?filter=nope%20%3D%201', /'filter'.*unknown queryable 'nope'/],
    ['/stac/search?filter=a%3D1&filter-lang=cql3', /'filter-lang'/],
    ['/stac/search?sortby=-nope', /'sortby'/],
    ['/stac/search?colections=a', /'colections'/],
    ['/stac/search?filter-crs=EPSG:3857&filter=a%3D1', /'filter-crs'/],
    ['/stac/collections/1900857_prof/items?collections=x', /'collections'/],
  ];
  for (const [url, re] of cases) {
    const r = await app.inject({ url });
    t.equal(r.statusCode, 400, url);
    const body = JSON.parse(r.body) as { code: string; description: string };
    t.equal(body.code, 'InvalidParameterValue', url);
    t.match(body.description, re, url);
  }
  const posts: Array<[object, RegExp]> = [
    [{ bbox: 'x' }, /'bbox'/],
    [{ limit: 'ten' }, /'limit'/],
    [{ filter: { op: 'like', args: [{ property: 'id' }, 5] } }, /'filter'/],
    [{ query: { a: { eq: 1 } } }, /'query'/],
    [{ sortby: [{ field: 'id', direction: 'up' }] }, /'sortby'|direction/],
    [{ intersects: { type: 'Point', coordinates: [500, 0] } }, /'intersects'/],
  ];
  for (const [payload, re] of posts) {
    const r = await post<{ code: string; description: string }>('/stac/search', payload);
    t.equal(r.status, 400, JSON.stringify(payload));
    t.match(r.body.description, re, JSON.stringify(payload));
  }
});

t.test("file downloads: whole, byte ranges, only the collection's own files", async (t) => {
  const url = '/stac/collections/D1900857_001/files/argo/D1900857_001.nc';
  const whole = await app.inject({ url });
  t.equal(whole.statusCode, 200);
  t.equal(whole.headers['accept-ranges'], 'bytes');
  t.equal(whole.headers['content-type'], 'application/x-netcdf');
  t.equal(
    whole.rawPayload.length,
    statSync(join(SHARED_DATA, 'argo', 'D1900857_001.nc')).size,
    'the file, uncompressed',
  );
  t.equal(whole.rawPayload.subarray(0, 3).toString(), 'CDF');
  const part = await app.inject({ url, headers: { range: 'bytes=0-3' } });
  t.equal(part.statusCode, 206);
  t.equal(part.headers['content-range'], `bytes 0-3/${whole.rawPayload.length}`);
  t.same([...part.rawPayload], [...whole.rawPayload.subarray(0, 4)]);
  const tail = await app.inject({ url, headers: { range: 'bytes=-10' } });
  t.same([...tail.rawPayload], [...whole.rawPayload.subarray(-10)]);
  const gz = await app.inject({ url, headers: { 'accept-encoding': 'gzip', range: 'bytes=4-7' } });
  t.equal(gz.headers['content-encoding'], undefined, 'ranges are never compressed');
  const bad = await app.inject({ url, headers: { range: 'bytes=99999999-' } });
  t.equal(bad.statusCode, 416);
  t.equal(bad.headers['content-range'], `bytes */${whole.rawPayload.length}`);
  for (const other of [
    '/stac/collections/D1900857_001/files/argo/1900857_prof.nc',
    '/stac/collections/D1900857_001/files/argo/..%2F..%2Fetc%2Fpasswd',
    '/stac/collections/D1900857_001/files/../../etc/passwd',
  ]) {
    t.equal((await app.inject({ url: other })).statusCode, 404, other);
  }
});

t.test('static STAC catalogs in a data folder are served as collections', async (t) => {
  const c = await getJson<{ id: string; links: Link[] }>(
    app,
    '/stac/collections/noaa-cdr-sea-surface-temperature-optimum-interpolation',
  );
  t.equal(c.status, 200);
  t.equal(
    local(link(c.body, 'self')!.href),
    '/stac/collections/noaa-cdr-sea-surface-temperature-optimum-interpolation',
  );
  const items = await getJson<FC>(
    app,
    '/stac/collections/noaa-cdr-sea-surface-temperature-optimum-interpolation/items',
  );
  t.equal(items.body.numberMatched, 1);
  const it = items.body.features[0]!;
  t.equal(it.id, 'oisst-avhrr-v02r01.20220913');
  t.same(
    Object.keys(it.assets).sort(),
    ['anom', 'err', 'ice', 'sst'],
    'the netcdf asset, whose file is not there, is dropped',
  );
  const sst = await app.inject({ url: local(it.assets['sst']!.href), headers: { range: 'bytes=0-3' } });
  t.equal(sst.statusCode, 206, 'a COG asset is served with ranges');
  t.same([...sst.rawPayload.subarray(0, 2)], [0x49, 0x49]);
  const simple = await getJson<FC>(app, '/stac/collections/simple-collection/items');
  t.equal(simple.body.numberMatched, 3, 'three item files, one id: all three kept');
  t.equal(new Set(simple.body.features.map((f) => f.id)).size, 3);
  const found = await getJson<FC>(app, '/stac/search?collections=noaa-cdr-ocean-heat-content&bbox=0,0,10,10');
  t.equal(found.body.numberMatched, 1);
});

t.test('export: a static catalog that validates, with relative navigation', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'odas-stac-export-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const collections = await discoverRoots([join(SHARED_DATA, 'argo'), join(SHARED_DATA, 'insitu')]);
  const stac = await StacService.open({ collections });
  t.teardown(() => stac.close());
  const r = await exportStaticCatalog({ stac, outDir: out, baseUrl: 'https://data.example.org', modules: API_MODULES });
  t.ok(r.items > 350);
  const files = [join(out, 'catalog.json')];
  for (const d of (await readdir(out, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    files.push(join(out, d.name, 'collection.json'));
    const items = await readdir(join(out, d.name, 'items'));
    files.push(...items.slice(0, 20).map((i) => join(out, d.name, 'items', i)));
  }
  const v = await validateStac(files);
  t.ok(v.ok, `${files.length} exported files valid: ${v.output.slice(-400)}`);
  const app2 = await buildApp({ collections, stac });
  t.teardown(() => app2.close());
  const s = await app2.inject({ url: '/stac/search?limit=1' });
  t.equal(s.statusCode, 200, 'the same service serves the API');
});
