import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { tableFromIPC } from 'apache-arrow';
import { decodeNumeric } from '../../src/cf/decode.js';
import { openReader } from '../../src/readers/registry.js';
import { buildTestApp, getJson } from '../helpers/app.js';
import { referenceEntries } from '../helpers/data.js';
import { covjsonValidator } from './helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let app: FastifyInstance;
t.before(async () => {
  app = await buildTestApp();
});
t.teardown(async () => {
  await app.close();
});

const enc = encodeURIComponent;

async function covjson(url: string): Promise<Json> {
  const res = await app.inject({ url });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  const doc = JSON.parse(res.body) as Json;
  const validate = covjsonValidator();
  if (!validate(doc)) throw new Error(`${url}: invalid CoverageJSON ${JSON.stringify(validate.errors?.slice(0, 2))}`);
  return doc;
}

/** Value of a Coverage's range at axis indices (row-major over axisNames). */
function valueAt(cov: Json, param: string, picks: Record<string, number>): number | null {
  const r = cov['ranges'][param];
  let flat = 0;
  (r.axisNames as string[]).forEach((n, i) => {
    flat = flat * r.shape[i] + (picks[n] ?? 0);
  });
  return r.values[flat];
}

/** Equal to the reference's 6 decimals (the MANIFEST rounds; answers give every float32 digit). */
function near(t: Test, got: unknown, want: unknown, msg: string): void {
  if (typeof want !== 'number' || typeof got !== 'number') {
    t.equal(got, want, msg);
    return;
  }
  t.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${msg}: ${got} ≈ ${want}`);
}

async function csvRows(url: string): Promise<string[][]> {
  const res = await app.inject({ url });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return res.body
    .trim()
    .split('\r\n')
    .slice(1)
    .map((l) => l.split(','));
}

t.test('conformance and collection metadata', async (t) => {
  const conf = await getJson<{ conformsTo: string[] }>(app, '/conformance');
  for (const v of ['1.0', '1.1']) {
    for (const c of ['core', 'collections', 'json', 'geojson', 'covjson', 'queries'])
      t.ok(conf.body.conformsTo.includes(`http://www.opengis.net/spec/ogcapi-edr-1/${v}/conf/${c}`), `${v} ${c}`);
  }
  const grid = (await getJson<Json>(app, '/collections/coads_sst')).body;
  t.same(Object.keys(grid['data_queries']), ['position', 'radius', 'area', 'cube', 'trajectory', 'corridor']);
  t.equal(grid['data_queries'].position.link.variables.query_type, 'position');
  t.ok(grid['data_queries'].radius.link.variables.within_units.includes('nmi'));
  t.same(grid['output_formats'], ['CoverageJSON', 'GeoJSON', 'CSV', 'NetCDF', 'ArrowIPC']);
  t.same(grid['parameter_names'].SST.unit, {
    label: 'Deg C',
    symbol: { value: 'Deg C', type: 'http://www.opengis.net/def/uom/UCUM/' },
  });
  t.ok(grid['parameter_names'].SST.observedProperty.label);
  const argo = (await getJson<Json>(app, '/collections/1900857_prof')).body;
  t.ok(argo['data_queries'].locations && argo['data_queries'].items);
  t.equal(
    argo['parameter_names'].TEMP.observedProperty.id,
    'http://vocab.nerc.ac.uk/standard_name/sea_water_temperature/',
  );
  t.equal(argo['extent'].vertical.interval.length, 1, 'an array of intervals (EDR 1.1)');
  t.equal(argo['extent'].vertical.interval[0][0], '0');
  t.ok(Number(argo['extent'].vertical.interval[0][1]) > 1900, 'deepest Argo pressure');
  t.ok((argo['links'] as Json[]).some((l) => l['rel'] === 'data' && String(l['href']).endsWith('/locations')));
});

t.test('grid position: every MANIFEST reference value of COADS SST and AVISO ADT', async (t) => {
  const files: Array<[string, string]> = [
    ['satellite/coads_sst.nc', 'coads_sst'],
    ['satellite/dt_med_allsat_phy_l4_2005T2.nc', 'dt_med_allsat_phy_l4_2005T2'],
  ];
  for (const [file, id] of files) {
    const refs = referenceEntries(file).filter((e) => e.variable && typeof e.value === 'number');
    t.ok(refs.length >= 3, `${id}: references`);
    for (const ref of refs) {
      const c = ref.coordinates!;
      const doc = await covjson(
        `/collections/${id}/position?coords=${enc(`POINT(${c['lon']} ${c['lat']})`)}&datetime=${c['time']}&parameter-name=${ref.variable}`,
      );
      t.equal(doc['type'], 'Coverage');
      t.equal(doc['domain'].domainType, 'PointSeries');
      t.same(doc['domain'].axes.t.values, [c['time']]);
      t.same([doc['domain'].axes.x.values[0], doc['domain'].axes.y.values[0]], [c['lon'], c['lat']]);
      near(t, valueAt(doc, ref.variable!, {}), ref.value, `${id} ${JSON.stringify(ref.indices)}`);
      if (ref.other_variables_same_cell) {
        for (const [name, want] of Object.entries(ref.other_variables_same_cell)) {
          const other = await covjson(
            `/collections/${id}/position?coords=${enc(`POINT(${c['lon']} ${c['lat']})`)}&datetime=${c['time']}&parameter-name=${name}`,
          );
          near(t, valueAt(other, name, {}), want, `${name} same cell`);
        }
      }
    }
  }
  const series = await covjson(
    `/collections/dt_med_allsat_phy_l4_2005T2/position?coords=${enc('POINT(15.5625 38.0625)')}`,
  );
  t.equal(series['domain'].axes.t.values.length, 91, 'no datetime: the whole time series');
  t.equal(series['ranges'].adt.values[0], -0.1502);
});

t.test('Argo profiles: MANIFEST levels through position, locations and every format', async (t) => {
  for (const ref of referenceEntries('argo/1900857_prof.nc')) {
    const c = ref.coordinates!;
    const doc = await covjson(
      `/collections/1900857_prof/position?coords=${enc(`POINT(${c['lon']} ${c['lat']})`)}&datetime=${c['time']}&parameter-name=TEMP,PSAL`,
    );
    t.equal(doc['type'], 'CoverageCollection');
    t.equal(doc['coverages'].length, 1, 'the nearest profile');
    const cov = doc['coverages'][0];
    t.equal(cov['domain'].domainType, 'VerticalProfile');
    const k = (cov['domain'].axes.z.values as number[]).indexOf(ref.values!['PRES'] as number);
    t.ok(k >= 0, `level at PRES ${ref.values!['PRES']}`);
    near(t, cov['ranges'].TEMP.values[k], ref.values!['TEMP'], 'TEMP');
    near(t, cov['ranges'].PSAL.values[k], ref.values!['PSAL'], 'PSAL');
  }
  const loc = await getJson<Json>(app, '/collections/1900857_prof/locations');
  t.equal(loc.body['features'].length, 1);
  t.equal(loc.body['features'][0].id, '1900857');
  const all = await covjson('/collections/1900857_prof/locations/1900857?parameter-name=TEMP&z=600/700');
  t.equal(all['coverages'].length, 194, 'every profile of the float');
  t.ok(
    (all['coverages'] as Json[]).every((cv) =>
      (cv['domain'].axes.z.values as number[]).every((z) => z >= 600 && z <= 700),
    ),
    'z range applied',
  );
  const rows = await csvRows(
    '/collections/1900857_prof/locations/1900857?parameter-name=TEMP&z=663&datetime=2010-10-15T02:04:00Z&f=csv',
  );
  t.same(rows, [['1900857_096', '2010-10-15T02:04:00Z', '30.379', '-42.218', '663', '5.49']]);
  const arrow = await app.inject({
    url: '/collections/1900857_prof/locations/1900857?parameter-name=TEMP,PSAL&f=arrow',
  });
  t.equal(arrow.headers['content-type'], 'application/vnd.apache.arrow.stream');
  const table = tableFromIPC(arrow.rawPayload);
  t.same(
    table.schema.fields.map((f) => f.name),
    ['id', 'time', 'lon', 'lat', 'PRES', 'TEMP', 'PSAL'],
  );
  const first = table.get(0)!.toJSON() as Json;
  t.equal(first['TEMP'], 16.141000747680664);
  t.equal(Number(first['time']), Date.parse('2008-02-25T04:03:00Z'));
  const nc = await app.inject({ url: '/collections/1900857_prof/locations/1900857?parameter-name=TEMP&f=netcdf' });
  t.equal(nc.statusCode, 200);
  const dir = await mkdtemp(join(tmpdir(), 'odas-edr-'));
  await writeFile(join(dir, 'a.nc'), nc.rawPayload);
  const reader = await openReader(join(dir, 'a.nc'));
  try {
    const info = await reader.info();
    t.equal(info.attrs['featureType'], 'profile');
    t.equal(info.dims['profile'], 194);
    const temp = decodeNumeric(await reader.readRaw('TEMP'), info.variables.find((v) => v.name === 'TEMP')!.attrs);
    t.equal(temp[0], Math.fround(16.141001));
    t.equal(temp.length, table.numRows, 'same rows as the Arrow stream');
  } finally {
    await reader.close();
  }
});

/** Crossing test written apart from the server's, for brute-force comparisons. */
function inTriangle(x: number, y: number, [a, b, c]: Array<[number, number]>): boolean {
  const s = (p: [number, number], q: [number, number]) => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const d1 = s(a!, b!),
    d2 = s(b!, c!),
    d3 = s(c!, a!);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

function cosineDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = Math.PI / 180;
  const c =
    Math.sin(lat1 * r) * Math.sin(lat2 * r) + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.cos((lon2 - lon1) * r);
  return 6_371_008.8 * Math.acos(Math.min(1, Math.max(-1, c)));
}

t.test('polygon and circle selections equal a brute-force scan', async (t) => {
  // Vertices off the cell centres' lattice: no centre lies on an edge, where boundary rules differ.
  const tri: Array<[number, number]> = [
    [-20.5, -30.3],
    [40.2, -10.1],
    [0.3, 35.7],
  ];
  const wkt = `POLYGON((${[...tri, tri[0]!].map(([x, y]) => `${x} ${y}`).join(',')}))`;
  const rows = await csvRows(
    `/collections/coads_sst/area?coords=${enc(wkt)}&datetime=2000-01-16T06:00:00Z&parameter-name=SST&f=csv`,
  );
  const got = new Set(rows.map((r) => `${r[1]},${r[2]}`));
  const want = new Set<string>();
  for (let x = -179; x <= 179; x += 2)
    for (let y = -89; y <= 89; y += 2) if (inTriangle(x, y, tri)) want.add(`${x},${y}`);
  t.same([...got].sort(), [...want].sort(), `${want.size} cells inside the triangle`);
  const doc = await covjson(
    `/collections/coads_sst/area?coords=${enc(wkt)}&datetime=2000-01-16T06:00:00Z&parameter-name=SST`,
  );
  const xs = doc['domain'].axes.x.values as number[];
  const ys = doc['domain'].axes.y.values as number[];
  let nonMasked = 0;
  ys.forEach((y, iy) =>
    xs.forEach((x, ix) => {
      const v = valueAt(doc, 'SST', { t: 0, y: iy, x: ix });
      if (!want.has(`${x},${y}`)) t.equal(v, null, `outside ${x},${y} is null`);
      else if (v !== null) nonMasked++;
    }),
  );
  t.ok(nonMasked > 0);

  const circle = await csvRows(
    `/collections/coads_sst/radius?coords=${enc('POINT(10 20)')}&within=500&within-units=km&datetime=2000-01-16T06:00:00Z&parameter-name=SST&f=csv`,
  );
  const inCircle = new Set<string>();
  for (let x = -179; x <= 179; x += 2)
    for (let y = -89; y <= 89; y += 2) if (cosineDistance(10, 20, x, y) <= 500_000) inCircle.add(`${x},${y}`);
  t.same(circle.map((r) => `${r[1]},${r[2]}`).sort(), [...inCircle].sort(), `${inCircle.size} cells within 500 km`);

  const items = (await getJson<Json>(app, '/collections/1900857_prof/items?limit=1000')).body['features'] as Json[];
  const centre = [20, -42];
  const within = items
    .filter(
      (f) =>
        f['geometry'] &&
        cosineDistance(centre[0]!, centre[1]!, f['geometry'].coordinates[0], f['geometry'].coordinates[1]) <=
          300 * 1852,
    )
    .map((f) => f['id'])
    .sort();
  const radius = await covjson(
    `/collections/1900857_prof/radius?coords=${enc(`POINT(${centre[0]} ${centre[1]})`)}&within=300&within-units=nmi&parameter-name=TEMP`,
  );
  t.same(
    (radius['coverages'] as Json[]).map((c) => c['id']).sort(),
    within,
    `${within.length} profiles within 300 nmi`,
  );
  const ptri: Array<[number, number]> = [
    [15, -45],
    [40, -45],
    [25, -35],
  ];
  const pw = `POLYGON((${[...ptri, ptri[0]!].map(([x, y]) => `${x} ${y}`).join(',')}))`;
  const inside = items
    .filter((f) => f['geometry'] && inTriangle(f['geometry'].coordinates[0], f['geometry'].coordinates[1], ptri))
    .map((f) => f['id'])
    .sort();
  const area = await covjson(`/collections/1900857_prof/area?coords=${enc(pw)}&parameter-name=TEMP`);
  t.same(
    (area['coverages'] as Json[]).map((c) => c['id']).sort(),
    inside,
    `${inside.length} profiles inside the triangle`,
  );
});

t.test('trajectory, corridor and cube answers; glider and mooring data', async (t) => {
  const traj = await covjson(
    `/collections/dt_med_allsat_phy_l4_2005T2/trajectory?coords=${enc('LINESTRINGM(15.5625 38.0625 1112313600, 24.0625 34.8125 1116201600)')}`,
  );
  t.equal(traj['domain'].domainType, 'Trajectory');
  t.same(traj['domain'].axes.composite.values, [
    ['2005-04-01T00:00:00Z', 15.5625, 38.0625],
    ['2005-05-16T00:00:00Z', 24.0625, 34.8125],
  ]);
  t.same(traj['ranges'].adt.values, [-0.1502, -0.1709], 'each vertex at its own time');
  const corridor = await csvRows(
    `/collections/coads_sst/corridor?coords=${enc('LINESTRING(0 0, 20 0)')}&corridor-width=300&width-units=km&datetime=2000-01-16T06:00:00Z&parameter-name=SST&f=csv`,
  );
  t.same(
    [...new Set(corridor.map((r) => Number(r[2])))].sort((a, b) => a - b),
    [-1, 1],
    'cells within 150 km of the equator segment',
  );
  t.same(
    corridor
      .map((r) => Number(r[1]))
      .filter((x, i, a) => a.indexOf(x) === i)
      .sort((a, b) => a - b),
    [1, 3, 5, 7, 9, 11, 13, 15, 17, 19],
    '(±1, ±1) beyond the ends are 157 km away',
  );
  const cube = await covjson(
    '/collections/coads_sst/cube?bbox=0,0,10,10&datetime=2000-07-01/2000-12-31&parameter-name=SST,AIRT&resolution-x=3',
  );
  t.same(cube['domain'].axes.x.values.length, 3);
  t.same(Object.keys(cube['ranges']).sort(), ['AIRT', 'SST'], 'only the asked parameters');
  const glider = await covjson(
    `/collections/dfo-rosie713-20190615/cube?bbox=-128.32,51.59,-128.28,51.61&z=90/100&parameter-name=temperature`,
  );
  const tuples = glider['coverages'][0]['domain'].axes.composite.values as Array<[string, number, number, number]>;
  t.ok(
    tuples.length > 0 &&
      tuples.every(([, x, y, z]) => x >= -128.32 && x <= -128.28 && y >= 51.59 && y <= 51.61 && z >= 90 && z <= 100),
  );
  const ref = referenceEntries('insitu/dfo-rosie713-20190615.nc')[0]!;
  const nearest = await covjson(
    `/collections/dfo-rosie713-20190615/position?coords=${enc(`POINT(${ref.coordinates!['lon']} ${ref.coordinates!['lat']})`)}&datetime=${ref.coordinates!['time']}&parameter-name=temperature`,
  );
  near(t, nearest['coverages'][0]['ranges'].temperature.values[0], ref.values!['temperature'], 'glider temperature');
  for (const m of referenceEntries('insitu/MCTD_HUD2013004_1845_10515_1800.nc')) {
    const doc = await covjson(
      `/collections/MCTD_HUD2013004_1845_10515_1800/radius?coords=${enc('POINT(-59.14 46.25)')}&within=1&within-units=km&datetime=${m.coordinates!['time']}&parameter-name=TEMP_01,PSAL_01`,
    );
    t.equal(doc['coverages'][0]['domain'].domainType, 'PointSeries');
    near(t, doc['coverages'][0]['ranges'].TEMP_01.values[0], m.values!['TEMP_01'], 'TEMP_01');
    near(t, doc['coverages'][0]['ranges'].PSAL_01.values[0], m.values!['PSAL_01'], 'PSAL_01');
  }
});

t.test('GeoJSON and NetCDF of a grid answer', async (t) => {
  const gj = await getJson<Json>(
    app,
    '/collections/coads_sst/cube?bbox=0,0,4,4&datetime=2000-01-16T06:00:00Z&parameter-name=SST&f=geojson',
  );
  t.equal(gj.status, 200);
  t.equal(gj.body['features'].length, 4);
  t.equal(gj.body['features'][0].properties.datetime, '2000-01-16T06:00:00Z');
  near(t, gj.body['features'][0].properties.SST, 26.615416, 'SST');
  const nc = await app.inject({ url: '/collections/coads_sst/cube?bbox=0,0,4,4&parameter-name=SST&f=netcdf' });
  t.match(String(nc.headers['content-disposition']), /attachment; filename="coads_sst-cube.nc"/);
  const dir = await mkdtemp(join(tmpdir(), 'odas-edr-'));
  await writeFile(join(dir, 'g.nc'), nc.rawPayload);
  const reader = await openReader(join(dir, 'g.nc'));
  try {
    const info = await reader.info();
    // The grid pipeline's NetCDF (as Coverages): the source's dimension names, SST stored as in the file.
    t.same(info.dims, { TIME: 12, COADSY: 2, COADSX: 2 });
    const sst = decodeNumeric(await reader.readRaw('SST'), info.variables.find((v) => v.name === 'SST')!.attrs);
    t.equal(sst[0], Math.fround(26.615416));
    const ref = referenceEntries('satellite/coads_sst.nc').find((e) => e.indices?.['TIME'] === 11)!;
    t.ok(ref);
  } finally {
    await reader.close();
  }
});

t.test(
  'a projected grid (EPSG:3411 sea ice): native axes labelled with their CRS, tables in longitude/latitude',
  async (t) => {
    const ice = 'seaice_conc_monthly_nh_202112_f17_v04r00';
    const param = 'cdr_seaice_conc_monthly';
    // MANIFEST cell [0, 224, 152]: 1.0 at 143.97263 E, 87.78068 N (WGS84; EPSG:3411's ellipsoid is ~40 m off).
    const area = `/collections/${ice}/radius?coords=${enc('POINT(143.97263 87.78068)')}&within=30&within-units=km&parameter-name=${param}`;
    const cov = await covjson(`${area}&f=CoverageJSON`);
    const horizontal = (cov['domain']['referencing'] as Json[]).find((r) => r['coordinates'].includes('x'))!;
    t.equal(horizontal['system'].type, 'ProjectedCRS');
    t.match(String(horizontal['system'].id), /EPSG\/0\/3411$/);
    t.ok((cov['domain']['axes'].x.values as number[]).includes(-37500), "x in metres, the reference cell's xgrid");
    const rows = await csvRows(`${area}&f=CSV`);
    t.ok(rows.length > 0);
    for (const r of rows) {
      const lon = Number(r[1]);
      const lat = Number(r[2]);
      t.ok(
        lat > 87 && lat <= 90 && lon >= -180 && lon <= 180,
        `row at ${lon}, ${lat} is a longitude/latitude near the pole`,
      );
    }
    const nearest = rows
      .map((r) => ({ d: Math.hypot(Number(r[1]) - 143.97263, Number(r[2]) - 87.78068), v: Number(r[r.length - 1]) }))
      .sort((a, b) => a.d - b.d)[0]!;
    near(t, nearest.v, 1, 'value of the cell nearest the reference point');
  },
);

t.test('bad inputs are 4xx OGC exceptions naming the parameter', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['/collections/coads_sst/position', 400, /'coords': required/],
    ['/collections/coads_sst/position?coords=POINT(33)', 400, /'coords': invalid WKT: expected a number/],
    [
      '/collections/coads_sst/position?coords=POLYGON((0 0,1 0,1 1,0 0))',
      400,
      /'coords': a position query takes a WKT POINT or MULTIPOINT/,
    ],
    ['/collections/coads_sst/area?coords=POLYGON((0 0,1 0,1 1,0 2))', 400, /must be closed/],
    [
      '/collections/coads_sst/position?coords=POINT(33 15)&parameter-name=SALT',
      400,
      /'parameter-name': unknown parameter\(s\) 'SALT'; this collection has: .*SST/,
    ],
    ['/collections/coads_sst/position?coords=POINT(33 15)&z=abc', 400, /'z': level 'abc'/],
    ['/collections/coads_sst/position?coords=POINT(33 15)&datetime=yesterday', 400, /'datetime'/],
    ['/collections/coads_sst/position?coords=POINT(33 15)&crs=EPSG:3857', 400, /'crs': only/],
    ['/collections/coads_sst/position?coords=POINT(33 15)&f=xlsx', 400, /'f': format 'xlsx'/],
    ['/collections/coads_sst/position?coords=POINT(33 15)&foo=1', 400, /Unknown query parameter 'foo'/],
    ['/collections/coads_sst/radius?coords=POINT(33 15)&within=10', 400, /'within-units': required/],
    [
      '/collections/coads_sst/radius?coords=POINT(33 15)&within=-1&within-units=km',
      400,
      /'within': expected a number greater than 0/,
    ],
    [
      '/collections/coads_sst/radius?coords=POINT(33 15)&within=1&within-units=parsec',
      400,
      /'within-units': unknown unit 'parsec'/,
    ],
    ['/collections/coads_sst/cube?bbox=10,20', 400, /'bbox'/],
    ['/collections/coads_sst/cube', 400, /'bbox': required/],
    ['/collections/coads_sst/corridor?coords=LINESTRING(0 0,1 1)', 400, /'corridor-width': required/],
    [
      '/collections/coads_sst/corridor?coords=LINESTRING(0 0,1 1)&corridor-width=5&width-units=km&corridor-height=3',
      400,
      /'height-units': required/,
    ],
    ['/collections/coads_sst/cube?bbox=0,0,10,10&resolution-x=0', 400, /'resolution-x'/],
    ['/collections/coads_sst/cube?bbox=0,0,10,10&limit=0', 400, /'limit'/],
    ['/collections/coads_sst/locations', 404, /grid/],
    ['/collections/1900857_prof/locations/999', 404, /No location '999'/],
    ['/collections/nope/position?coords=POINT(0 0)', 404, /No collection 'nope'/],
  ];
  for (const [url, status, re] of cases) {
    const res = await app.inject({ url: url.replace(/ /g, '%20') });
    const body = JSON.parse(res.body) as Json;
    t.equal(res.statusCode, status, url);
    t.equal(body['code'], status === 404 ? 'NotFound' : 'InvalidParameterValue', url);
    t.match(body['description'], re, url);
  }
});
