// OGC API - Features Parts 2 (CRS), 3 (filtering, CQL2) and sorting, and the /api parameter
// definitions the OGC test suite (ets-ogcapi-features10) checks: real HTTP on the shared Argo file.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/app.js';
import { http, httpJson, listen } from '../helpers/http.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Feature {
  id: string;
  geometry: { type: string; coordinates: number[] };
  properties: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
interface FC {
  numberMatched: number;
  numberReturned: number;
  features: Feature[];
  links: Array<{ rel: string; href: string }>;
}

const ITEMS = '/collections/1900857_prof/items';
const EPSG4326 = 'http://www.opengis.net/def/crs/EPSG/0/4326';
const EPSG3857 = 'http://www.opengis.net/def/crs/EPSG/0/3857';
const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';

let app: FastifyInstance;
let base = '';
/** Every profile of the file, from a plain request: the reference the filters are checked against. */
let all: Feature[] = [];
t.before(async () => {
  app = await buildTestApp();
  base = await listen(app);
  all = (await httpJson<FC>(base, `${ITEMS}?limit=1000`)).body.features;
});
t.teardown(async () => {
  await app.close();
});

const items = (query: string) => httpJson<FC>(base, `${ITEMS}?${query}`);
const ids = (fc: FC) => fc.features.map((f) => f.id);

t.test(
  '/api declares limit (integer, minimum, maximum, default) and bbox (4–6 numbers), style form, explode false',
  async (t) => {
    const api = (await httpJson<Json>(base, '/api')).body;
    const params = api['paths']['/collections/{collectionId}/items'].get.parameters as Json[];
    const limit = params.find((p) => p['name'] === 'limit')!;
    t.same(
      { in: limit['in'], required: limit['required'], style: limit['style'], explode: limit['explode'] },
      { in: 'query', required: false, style: 'form', explode: false },
    );
    t.same(limit['schema'], { type: 'integer', minimum: 1, maximum: 10000, default: 10, 'x-clamped-maximum': true });
    const bbox = params.find((p) => p['name'] === 'bbox')!;
    t.same({ style: bbox['style'], explode: bbox['explode'] }, { style: 'form', explode: false });
    t.same(bbox['schema'], { type: 'array', minItems: 4, maxItems: 6, items: { type: 'number' } });
    for (const name of ['crs', 'bbox-crs', 'filter', 'filter-lang', 'filter-crs', 'sortby'])
      t.ok(
        params.some((p) => p['name'] === name),
        name,
      );
    const item = api['paths']['/collections/{collectionId}/items/{featureId}'].get.parameters as Json[];
    t.ok(
      item.some((p) => p['name'] === 'crs'),
      'crs on one item',
    );
    // The schema is what the server checks: a bbox of 3 numbers and a limit of 0 are 400s, a limit above the maximum is served at it.
    t.equal((await items('bbox=1,2,3')).status, 400);
    t.equal((await items('bbox=1,2,3,x')).status, 400);
    t.equal((await items('limit=0')).status, 400);
    t.equal((await items('limit=abc')).status, 400);
    const big = await items('limit=20000');
    t.equal(big.status, 200);
    t.equal(big.body.numberReturned, 194);
    // Next links keep the bbox as one comma-separated value.
    const page = await items('bbox=20,-45,40,-40&limit=5');
    t.match(page.body.links.find((l) => l.rel === 'next')?.href, /bbox=20%2C-45%2C40%2C-40/);
  },
);

t.test('Part 2: bbox-crs EPSG:4326 is latitude first', async (t) => {
  const lonFirst = await items('bbox=20,-45,40,-40&limit=200');
  t.equal(lonFirst.body.numberMatched, 75);
  const latFirst = await items(`bbox=-45,20,-40,40&bbox-crs=${encodeURIComponent(EPSG4326)}&limit=200`);
  t.equal(latFirst.status, 200);
  t.same(ids(latFirst.body), ids(lonFirst.body), 'the same profiles as the CRS84 box');
  const curie = await items('bbox=-45,20,-40,40&bbox-crs=EPSG:4326&limit=200');
  t.equal(curie.body.numberMatched, 75);
  // Web Mercator metres: the same box.
  const m = (lon: number, lat: number) => [
    (6378137 * lon * Math.PI) / 180,
    6378137 * Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)),
  ];
  const [x0, y0] = m(20, -45);
  const [x1, y1] = m(40, -40);
  const merc = await items(`bbox=${x0},${y0},${x1},${y1}&bbox-crs=${encodeURIComponent(EPSG3857)}&limit=200`);
  t.same(ids(merc.body), ids(lonFirst.body));
  t.equal((await items('bbox=20,-45,40,-40&bbox-crs=EPSG:32633')).status, 400, 'unsupported bbox-crs');
});

t.test('Part 2: crs of the answer, with Content-Crs', async (t) => {
  const plain = await items('limit=1');
  t.equal(plain.headers.get('content-crs'), `<${CRS84}>`);
  t.same(plain.body.features[0]!.geometry.coordinates, [10.809, -39.926]);
  const ll = await items(`limit=1&crs=${encodeURIComponent(EPSG4326)}`);
  t.equal(ll.headers.get('content-crs'), `<${EPSG4326}>`);
  t.same(ll.body.features[0]!.geometry.coordinates, [-39.926, 10.809], 'latitude first');
  const wm = await items(`limit=1&crs=${encodeURIComponent(EPSG3857)}`);
  const [x, y] = wm.body.features[0]!.geometry.coordinates as [number, number];
  t.ok(Math.abs(x - (6378137 * 10.809 * Math.PI) / 180) < 0.01, `x ${x}`);
  t.ok(Math.abs(y - 6378137 * Math.log(Math.tan(Math.PI / 4 + (-39.926 * Math.PI) / 360))) < 0.01, `y ${y}`);
  const one = await httpJson<Feature>(base, `${ITEMS}/1900857_096?crs=${encodeURIComponent(EPSG4326)}`);
  t.equal(one.headers.get('content-crs'), `<${EPSG4326}>`);
  t.same(one.body.geometry.coordinates, [-42.218, 30.379]);
  t.equal((await http(base, `${ITEMS}/1900857_096`)).headers.get('content-crs'), `<${CRS84}>`);
  // Browsers may read it (CORS exposes it).
  const cors = await http(base, `${ITEMS}?limit=1`, { headers: { origin: 'https://example.org' } });
  t.match(cors.headers.get('access-control-expose-headers'), /content-crs/i);
  const csv = await http(base, `${ITEMS}?limit=1&f=csv&crs=EPSG:4326`);
  t.match(csv.text, /^id,latitude,longitude,/);
  t.match(csv.text, /\r\n1900857_000D,-39.926,10.809,/);
  for (const bad of ['EPSG:9999', 'http://www.opengis.net/def/crs/EPSG/0/32633', 'nonsense']) {
    const r = await httpJson<Json>(base, `${ITEMS}?crs=${encodeURIComponent(bad)}`);
    t.equal(r.status, 400, bad);
    t.match(r.body['description'], /'crs': unsupported CRS/);
  }
  t.equal((await http(base, `${ITEMS}/1900857_096?crs=EPSG:9999`)).status, 400);
  const doc = (await httpJson<Json>(base, '/collections/1900857_prof')).body;
  t.same(doc['crs'], [CRS84, EPSG4326, EPSG3857]);
  t.equal(doc['storageCrs'], CRS84);
  const conf = (await httpJson<{ conformsTo: string[] }>(base, '/conformance')).body.conformsTo;
  t.ok(conf.includes('http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs'));
});

t.test('Part 3: CQL2 text and JSON filters on items, evaluated by the catalog', async (t) => {
  const want = (keep: (f: Feature) => boolean) => all.filter(keep).map((f) => f.id);
  const text = await items(
    `limit=1000&filter=${encodeURIComponent("cycle_number BETWEEN 10 AND 20 AND direction = 'A'")}`,
  );
  t.equal(text.status, 200);
  t.same(
    ids(text.body),
    want(
      (f) =>
        f.properties['cycle_number'] >= 10 && f.properties['cycle_number'] <= 20 && f.properties['direction'] === 'A',
    ),
  );
  t.equal(text.body.numberMatched, 11);
  const json = {
    op: 'and',
    args: [
      { op: '>=', args: [{ property: 'cycle_number' }, 10] },
      { op: '<=', args: [{ property: 'cycle_number' }, 20] },
      { op: '=', args: [{ property: 'direction' }, 'A'] },
    ],
  };
  const j = await items(`limit=1000&filter-lang=cql2-json&filter=${encodeURIComponent(JSON.stringify(json))}`);
  t.same(ids(j.body), ids(text.body), 'the same answer in CQL2 JSON');
  // Spatial: S_INTERSECTS with a polygon; in EPSG:4326 (latitude first) through filter-crs.
  const inBox = (f: Feature) => {
    const [x, y] = f.geometry.coordinates as [number, number];
    return x >= 20 && x <= 40 && y >= -45 && y <= -40;
  };
  const s = await items(
    `limit=1000&filter=${encodeURIComponent('S_INTERSECTS(geometry, POLYGON((20 -45, 40 -45, 40 -40, 20 -40, 20 -45)))')}`,
  );
  t.same(ids(s.body), want(inBox));
  const s4326 = await items(
    `limit=1000&filter-crs=${encodeURIComponent(EPSG4326)}&filter=${encodeURIComponent('S_INTERSECTS(geometry, BBOX(-45, 20, -40, 40))')}`,
  );
  t.same(ids(s4326.body), want(inBox), 'filter-crs EPSG:4326: latitude first');
  // Temporal and text functions.
  const tm = await items(
    `limit=1000&filter=${encodeURIComponent("T_INTERSECTS(datetime, INTERVAL('2009-01-01T00:00:00Z', '2009-12-31T23:59:59Z')) AND data_mode IN ('D', 'A')")}`,
  );
  t.same(
    ids(tm.body),
    want(
      (f) =>
        f.properties['datetime'] >= '2009-01-01' &&
        f.properties['datetime'] < '2010-01-01' &&
        ['D', 'A'].includes(f.properties['data_mode']),
    ),
  );
  t.ok(tm.body.numberMatched > 0);
  const like = await items(`limit=1000&filter=${encodeURIComponent("id LIKE '1900857_00%'")}`);
  t.same(
    ids(like.body),
    want((f) => f.id.startsWith('1900857_00')),
  );
  // Together with the other parameters, and paging keeps the filter.
  const paged = await items(`limit=3&bbox=20,-45,40,-40&filter=${encodeURIComponent('cycle_number > 100')}`);
  t.equal(paged.body.numberMatched, all.filter((f) => inBox(f) && f.properties['cycle_number'] > 100).length);
  t.match(paged.body.links.find((l) => l.rel === 'next')?.href, /filter=cycle_number/);
  // Mistakes.
  const unknown = await httpJson<Json>(base, `${ITEMS}?filter=${encodeURIComponent('salinity > 3')}`);
  t.equal(unknown.status, 400);
  t.match(
    unknown.body['description'],
    /unknown queryable 'salinity' \(see .*\/collections\/1900857_prof\/queryables\)/,
  );
  t.equal((await items(`filter=${encodeURIComponent('cycle_number >')}`)).status, 400, 'syntax error');
  t.equal((await items(`filter=${encodeURIComponent("cycle_number = 'x'")}`)).status, 400, 'type mismatch');
  t.equal((await items('filter=true&filter-lang=ecql')).status, 400, 'unknown filter-lang');
  t.equal((await items('filter=%7Bnot%20json&filter-lang=cql2-json')).status, 400);
  t.equal((await items('filter=true&filter-crs=EPSG:1234')).status, 400);
  const conf = (await httpJson<{ conformsTo: string[] }>(base, '/conformance')).body.conformsTo;
  for (const c of [
    'ogcapi-features-3/1.0/conf/filter',
    'ogcapi-features-3/1.0/conf/features-filter',
    'cql2/1.0/conf/basic-cql2',
    'cql2/1.0/conf/cql2-text',
    'cql2/1.0/conf/cql2-json',
  ])
    t.ok(conf.includes(`http://www.opengis.net/spec/${c}`), c);
});

t.test('sorting: sortby with sortables, stable across pages', async (t) => {
  const desc = await items('limit=1000&sortby=-cycle_number,%2Bid');
  t.equal(desc.status, 200);
  const expect = [...all]
    .sort((a, b) => b.properties['cycle_number'] - a.properties['cycle_number'] || (a.id < b.id ? -1 : 1))
    .map((f) => f.id);
  t.same(ids(desc.body), expect);
  // Pages of a sorted answer are consecutive slices of it.
  const p1 = await items('limit=7&sortby=-cycle_number,id');
  const p2 = await httpJson<FC>(base, p1.body.links.find((l) => l.rel === 'next')!.href.replace(base, ''));
  t.same([...ids(p1.body), ...ids(p2.body)], expect.slice(0, 14));
  const byTime = await items('limit=5&sortby=-datetime');
  t.equal(byTime.body.features[0]!.properties['datetime'], '2013-06-01T05:34:00Z');
  const bad = await httpJson<Json>(base, `${ITEMS}?sortby=salinity`);
  t.equal(bad.status, 400);
  t.match(bad.body['description'], /'sortby': cannot sort by 'salinity'/);
  const sortables = await httpJson<Json>(base, '/collections/1900857_prof/sortables');
  t.equal(sortables.status, 200);
  t.ok(sortables.body['properties'].cycle_number && sortables.body['properties'].datetime);
  const doc = (await httpJson<Json>(base, '/collections/1900857_prof')).body;
  t.ok((doc['links'] as Json[]).some((l) => l['rel'] === 'http://www.opengis.net/def/rel/ogc/1.0/sortables'));
});
