// EDR 1.1 requirements the OGC test suite (ets-ogcapi-edr10) checks, over real HTTP on the shared files.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/app.js';
import { http, httpJson, listen } from '../helpers/http.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let app: FastifyInstance;
let base = '';
t.before(async () => {
  app = await buildTestApp();
  base = await listen(app);
});
t.teardown(async () => {
  await app.close();
});

const csvRows = (text: string) =>
  text
    .trim()
    .split('\r\n')
    .slice(1)
    .map((l) => l.split(','));

t.test('area: a cell whose centre lies on an edge is inside, on every edge (intersects)', async (t) => {
  // COADS cell centres are odd degrees: this triangle's three edges (south, west, diagonal) pass through centres.
  const triangle = 'POLYGON((31 -9,39 -9,31 -1,31 -9))';
  const r = await http(
    base,
    `/collections/coads_sst/area?coords=${encodeURIComponent(triangle)}&datetime=2000-02-15T16:29:06Z&parameter-name=SST&f=csv`,
  );
  t.equal(r.status, 200);
  const cells = csvRows(r.text).map(([, x, y]) => `${x} ${y}`);
  const want: string[] = [];
  for (let j = 0; j <= 4; j++) for (let i = 0; i + j <= 4; i++) want.push(`${31 + 2 * i} ${-9 + 2 * j}`);
  t.same(cells.sort(), want.sort(), '15 cells: the 5+4+3+2+1 centres on or inside the triangle');
  // A square whose four edges run through centres: 4 × 4 cells, the east and north edges included too.
  const square = 'POLYGON((31 -9,37 -9,37 -3,31 -3,31 -9))';
  const s = await http(
    base,
    `/collections/coads_sst/area?coords=${encodeURIComponent(square)}&datetime=2000-02-15T16:29:06Z&parameter-name=SST&f=csv`,
  );
  const got = csvRows(s.text);
  t.equal(got.length, 16);
  t.ok(
    got.some(([, x, y]) => x === '37' && y === '-3'),
    'north-east corner cell',
  );
  // The values are the file's (MANIFEST: SST at COADSX=31, COADSY=-9 in the Feb step).
  t.equal(csvRows(r.text).find(([, x, y]) => x === '31' && y === '-9')?.[3], '26.97305');
});

t.test('a query that selects no data answers 204 (grids and in-situ)', async (t) => {
  const cases = [
    '/collections/coads_sst/position?coords=POINT(33 15)&datetime=1990-01-01T00:00:00Z/1990-02-01T00:00:00Z',
    '/collections/coads_sst/cube?bbox=10,-10,40,20&datetime=1990-01-01T00:00:00Z/1990-02-01T00:00:00Z',
    '/collections/coads_sst/position?coords=POINT(33 15)&datetime=1990-01-01T00:00:00Z',
    '/collections/dt_med_allsat_phy_l4_2005T2/position?coords=POINT(-100 0)',
    '/collections/1900857_prof/area?coords=POLYGON((0 0,1 0,1 1,0 0))',
    '/collections/1900857_prof/cube?bbox=20,-45,40,-40&datetime=1990-01-01T00:00:00Z/1990-12-31T00:00:00Z',
  ];
  for (const url of cases) {
    const r = await http(base, url.replace(/ /g, '%20'));
    t.equal(r.status, 204, url);
    t.equal(r.text, '', 'no body');
  }
  // A mistake is still a 400.
  t.equal((await http(base, '/collections/coads_sst/position?coords=POINT(33)')).status, 400);
});

t.test('datetime on a collection without time is not an error (the suite sends it to every collection)', async (t) => {
  for (const dt of ['2020-01-01T00:00:00Z', '2000-01-01T00:00:00Z/2030-01-01T00:00:00Z', 'null/null', '../..']) {
    const r = await httpJson<Json>(
      base,
      `/collections/ghrsst_blk_analysed_sst_20160707_cog/position?coords=POINT(35%2043)&datetime=${encodeURIComponent(dt)}`,
    );
    t.equal(r.status, 200, dt);
    t.equal(r.body['type'], 'Coverage');
    t.type(
      r.body['ranges'].band1?.values?.[0] ?? r.body['ranges'][Object.keys(r.body['ranges'])[0]!].values[0],
      'number',
      `${dt}: a value`,
    );
  }
  t.equal(
    (
      await http(
        base,
        '/collections/ghrsst_blk_analysed_sst_20160707_cog/area?coords=POLYGON((35%2043,36%2043,36%2044,35%2043))&datetime=2016-07-07T00:00:00Z',
      )
    ).status,
    200,
  );
});

t.test('extent.vertical.interval is an array of intervals', async (t) => {
  const doc = (await httpJson<Json>(base, '/collections/1900857_prof')).body;
  t.ok(Array.isArray(doc['extent'].vertical.interval[0]), 'first interval is an array');
  t.equal(doc['extent'].vertical.interval[0].length, 2);
});

t.test('/locations serves what it advertises: GeoJSON and CSV; data formats are per location', async (t) => {
  const gj = await httpJson<Json>(base, '/collections/1900857_prof/locations');
  t.equal(gj.status, 200);
  t.equal(gj.body['features'][0].id, '1900857');
  t.equal(
    (await http(base, '/collections/1900857_prof/locations?datetime=null/null')).status,
    200,
    'an open extent echoed back',
  );
  const csv = await http(base, '/collections/1900857_prof/locations?f=csv');
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type'), /text\/csv/);
  t.same(csvRows(csv.text)[0], ['1900857', '194', '92.646', '-44.163', '2008-02-25T04:03:00Z', '2013-06-01T05:34:00Z']);
  const nc = await httpJson<Json>(base, '/collections/1900857_prof/locations?f=netcdf');
  t.equal(nc.status, 400);
  t.match(nc.body['description'], /locations\/\{locationId\}\?f=netcdf/);
  for (const f of ['covjson', 'csv', 'netcdf', 'arrow', 'geojson'])
    t.equal(
      (
        await http(
          base,
          `/collections/1900857_prof/locations/1900857?f=${f}&parameter-name=TEMP&datetime=2009-01-01T00:00:00Z/2009-03-01T00:00:00Z`,
        )
      ).status,
      200,
      `location data as ${f}`,
    );
  const api = (await httpJson<Json>(base, '/api')).body;
  const content = api['paths']['/collections/{collectionId}/locations'].get.responses['200'].content;
  t.same(Object.keys(content).sort(), ['application/geo+json', 'text/csv']);
});

t.test('coords is required in the API description', async (t) => {
  const api = (await httpJson<Json>(base, '/api')).body;
  for (const q of ['position', 'radius', 'area', 'trajectory', 'corridor']) {
    const p = (api['paths'][`/collections/{collectionId}/${q}`].get.parameters as Json[]).find(
      (x) => x['name'] === 'coords',
    );
    t.equal(p?.['required'], true, q);
  }
  const cube = (api['paths']['/collections/{collectionId}/cube'].get.parameters as Json[]).find(
    (x) => x['name'] === 'bbox',
  );
  t.equal(cube?.['required'], true, 'cube bbox');
  const r = await httpJson<Json>(base, '/collections/coads_sst/area');
  t.equal(r.status, 400);
  t.match(r.body['description'], /'coords': required/);
});

t.test('GeoJSON answers are EDR GeoJSON: parameters are Parameter objects', async (t) => {
  const r = await httpJson<Json>(
    base,
    '/collections/coads_sst/position?coords=POINT(33%2015)&parameter-name=SST&f=GeoJSON&crs=CRS84',
  );
  t.equal(r.status, 200);
  t.equal(r.body['type'], 'FeatureCollection');
  t.ok(Array.isArray(r.body['parameters']));
  t.equal(r.body['parameters'][0].type, 'Parameter');
  t.equal(r.body['parameters'][0].id, 'SST');
  t.equal(typeof r.body['parameters'][0].observedProperty, 'object');
  t.equal(typeof r.body['parameters'][0].observedProperty.label, 'string');
  t.equal(r.body['features'].length, 12);
  t.match(r.body['timeStamp'], /^\d{4}-\d\d-\d\dT/);
});
