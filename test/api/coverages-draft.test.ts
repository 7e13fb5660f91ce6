/**
 * OGC API - Coverages as the current draft (2025–26) words it, over real HTTP against the real
 * files: the registered CoverageJSON type, subsets across the antimeridian, resolution (native,
 * spatial, ISO 8601 periods on time), exclusive parameters, 204 for a subset outside the data,
 * https CRS URIs, the response headers and what CORS lets a page read.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { buildTestApp } from '../helpers/app.js';

interface CovJson {
  domain: { axes: Record<string, { values?: Array<number | string>; start?: number; stop?: number; num?: number }> };
  ranges: Record<string, { shape: number[]; values: Array<number | null> }>;
}

const COADS = 'coads_sst';
const ADT = 'dt_med_allsat_phy_l4_2005T2';
let app: FastifyInstance;
let base: string;

t.before(async () => {
  app = await buildTestApp();
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(() => app.close());

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { headers });
}

async function covjson(path: string): Promise<CovJson> {
  const res = await get(path);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as CovJson;
}

function axisValues(cj: CovJson, name: string): Array<number | string> {
  const a = cj.domain.axes[name]!;
  if (a.values) return a.values;
  return Array.from({ length: a.num! }, (_, i) =>
    a.num === 1 ? a.start! : a.start! + ((a.stop! - a.start!) * i) / (a.num! - 1),
  );
}

t.test('CoverageJSON is served as application/vnd.cov+json, the registered type', async (t) => {
  const res = await get(`/collections/${COADS}/coverage?f=covjson&bbox=10,10,14,14&datetime=2000-03-17T02:58:12Z`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/vnd\.cov\+json/);
  const old = await get(`/collections/${COADS}/coverage?bbox=10,10,14,14&datetime=2000-03-17T02:58:12Z`, {
    accept: 'application/prs.coverage+json',
  });
  t.match(
    old.headers.get('content-type'),
    /^application\/vnd\.cov\+json/,
    'the former type is still understood in Accept',
  );
  const doc = (await (await get(`/collections/${COADS}`)).json()) as { links: Array<{ rel: string; type: string }> };
  t.ok(doc.links.some((l) => l.rel.endsWith('/coverage') && l.type === 'application/vnd.cov+json'));
});

t.test('subset=Lon(170:-170) crosses the antimeridian: the two sides joined, west to east', async (t) => {
  const time = 'time("2000-03-17T02:58:12Z")';
  const across = await covjson(
    `/collections/${COADS}/coverage?properties=SST&subset=${encodeURIComponent(`Lon(170:-170),Lat(-10:10),${time}`)}`,
  );
  t.same(axisValues(across, 'x'), [171, 173, 175, 177, 179, -179, -177, -175, -173, -171]);
  const east = await covjson(
    `/collections/${COADS}/coverage?properties=SST&subset=${encodeURIComponent(`Lon(170:180),Lat(-10:10),${time}`)}`,
  );
  const west = await covjson(
    `/collections/${COADS}/coverage?properties=SST&subset=${encodeURIComponent(`Lon(-180:-170),Lat(-10:10),${time}`)}`,
  );
  const ny = axisValues(across, 'y').length;
  const joined: Array<number | null> = [];
  for (let j = 0; j < ny; j++)
    joined.push(
      ...east.ranges['SST']!.values.slice(j * 5, j * 5 + 5),
      ...west.ranges['SST']!.values.slice(j * 5, j * 5 + 5),
    );
  t.same(across.ranges['SST']!.values, joined, 'each row: the cells east of 170°E, then those west of 170°W');
  t.ok(
    joined.some((v) => v !== null),
    'ocean cells have values',
  );
});

t.test('resolution: empty is native; Lon/Lat in degrees; time as an ISO 8601 period', async (t) => {
  const q = `/collections/${COADS}/coverage?properties=SST&bbox=0,0,20,20`;
  const native = await covjson(q);
  t.same(native.ranges['SST']!.shape, [12, 10, 10]);
  for (const r of ['', 'Lon(),Lat()', 'time()'])
    t.same(
      (await covjson(`${q}&resolution=${encodeURIComponent(r)}`)).ranges['SST']!.shape,
      [12, 10, 10],
      `resolution=${r} is the native resolution`,
    );
  t.same((await covjson(`${q}&resolution=${encodeURIComponent('Lon(4),Lat(4)')}`)).ranges['SST']!.shape, [12, 5, 5]);
  const quarterly = await covjson(`${q}&resolution=${encodeURIComponent('time(P3M)')}`);
  t.same(quarterly.ranges['SST']!.shape, [4, 10, 10], 'P3M on monthly steps: every third month');
  const times = axisValues(quarterly, 't') as string[];
  const all = axisValues(native, 't') as string[];
  t.same(times, [all[1], all[4], all[7], all[10]], 'the steps sampled evenly through the year');
  t.same(
    (await covjson(`/collections/${ADT}/coverage?bbox=10,35,12,37&resolution=${encodeURIComponent('time(P10D)')}`))
      .ranges['adt']!.shape[0],
    9,
    '91 daily maps at P10D: 9 steps',
  );
  const latest = await covjson(`${q}&subset=${encodeURIComponent('time(*)')}`);
  t.same(axisValues(latest, 't'), [all[11]], 'time(*) slices at the latest step');
});

t.test('exclusive parameters are a 400; a subset outside the data is 204 No Content', async (t) => {
  const bad = async (query: string, pattern: RegExp) => {
    const res = await get(`/collections/${COADS}/coverage?${query}`);
    t.equal(res.status, 400, query);
    t.match(((await res.json()) as { description: string }).description, pattern);
  };
  await bad(`bbox=0,0,10,10&subset=${encodeURIComponent('Lat(0:10)')}`, /bbox both select along a spatial axis/);
  await bad(
    `datetime=2000-03-17T02:58:12Z&subset=${encodeURIComponent('time("2000-03-17T02:58:12Z")')}`,
    /datetime both select along time/,
  );
  await bad(
    `subset=${encodeURIComponent('time("2000-03-17T02:58:12Z")')}&resolution=${encodeURIComponent('time(P1M)')}`,
    /slicing and scaling/,
  );
  await bad(`resolution=${encodeURIComponent('depth(2)')}`, /unknown axis 'depth'/);
  await bad(`resolution=${encodeURIComponent('time(1M)')}`, /not an ISO 8601 period/);
  const ok = await get(
    `/collections/${COADS}/coverage?bbox=0,0,10,10&subset=${encodeURIComponent('time("2000-03-17T02:58:12Z")')}&f=covjson`,
  );
  t.equal(ok.status, 200, 'bbox with a time subset is fine');
  for (const q of [
    `subset=${encodeURIComponent('Lat(95:99)')}`,
    'datetime=1990-01-01T00:00:00Z/1990-12-31T00:00:00Z',
  ]) {
    const res = await get(`/collections/${COADS}/coverage?${q}`);
    t.equal(res.status, 204, `${q}: outside the coverage`);
    t.equal(await res.text(), '');
  }
  const far = await get(`/collections/${ADT}/coverage?bbox=100,0,110,10`);
  t.equal(far.status, 204, 'a bbox outside the Mediterranean grid');
});

t.test('https:// CRS URIs are the same CRSs as http://', async (t) => {
  for (const crs of ['https://www.opengis.net/def/crs/OGC/1.3/CRS84', 'https://www.opengis.net/def/crs/EPSG/0/4326']) {
    const box = crs.endsWith('4326') ? '35,10,37,12' : '10,35,12,37';
    const res = await get(
      `/collections/${ADT}/coverage?bbox=${box}&bbox-crs=${encodeURIComponent(crs)}&datetime=2005-05-01T00:00:00Z&f=covjson`,
    );
    t.equal(res.status, 200, crs);
    t.same(((await res.json()) as CovJson).ranges['adt']!.shape, [1, 16, 16], `${crs}: the same box`);
  }
});

t.test('Content-Crs, Content-Bbox, Content-Datetime, readable across origins', async (t) => {
  const res = await get(
    `/collections/${COADS}/coverage?bbox=10,10,20,20&datetime=2000-03-01T00:00:00Z/2000-06-30T00:00:00Z&f=netcdf`,
    { origin: 'https://example.org' },
  );
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-crs'), '<http://www.opengis.net/def/crs/OGC/1.3/CRS84>');
  t.equal(res.headers.get('content-bbox'), '10,10,20,20', 'outer edges of the returned cells');
  t.equal(res.headers.get('content-datetime'), '2000-03-17T02:58:12Z/2000-06-16T10:25:30Z');
  const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
  for (const h of ['content-crs', 'content-bbox', 'content-datetime', 'content-disposition'])
    t.ok(exposed.includes(h), `${h} is exposed to scripts`);
  await res.arrayBuffer();
});

t.test('a GeoTIFF without time holds the latest step; the domain set lists x, y, then time', async (t) => {
  const res = await get(`/collections/${COADS}/coverage?f=tif&properties=SST`);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-datetime'), '2000-12-16T01:20:06Z', 'the latest of the 12 months');
  await res.arrayBuffer();
  const doc = (await (await get(`/collections/${COADS}`)).json()) as { extent: { temporal: Record<string, unknown> } };
  t.equal(
    doc.extent.temporal['default'],
    '2000-12-16T01:20:06Z',
    'the collection names the step time-less clients get',
  );
});
