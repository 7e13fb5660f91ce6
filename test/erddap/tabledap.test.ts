import { spawn, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { parseTimeValue } from '../../src/api/erddap/tabledap-query.js';
import { buildApp } from '../../src/app.js';
import { openNetcdf3 } from '../../src/readers/netcdf3/reader.js';
import { openFileSource } from '../../src/readers/source/file.js';
import { discoverRoots, SHARED_DATA } from '../helpers/app.js';

const PY = '/usr/bin/python3';
const haveClients = spawnSync(PY, ['-c', 'import netCDF4, xarray, pandas'], { encoding: 'utf8' }).status === 0;
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'argopy_like.py');

let app: FastifyInstance;
let base: string;

t.before(async () => {
  app = await buildApp({ collections: await discoverRoots([SHARED_DATA]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

t.teardown(async () => {
  await app?.close();
});

async function get(url: string) {
  return app.inject({ method: 'GET', url });
}

function csv(body: string): string[][] {
  return body
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

t.test('time values: ISO 8601, epoch seconds, now-n units', async (t) => {
  t.equal(parseTimeValue('2008-03-09T01:23:00Z'), Date.UTC(2008, 2, 9, 1, 23));
  t.equal(parseTimeValue('2008-03-09'), Date.UTC(2008, 2, 9));
  t.equal(parseTimeValue('2008-03-09T01:23:00+01:00'), Date.UTC(2008, 2, 9, 0, 23));
  t.equal(parseTimeValue('1205025780'), 1205025780_000);
  t.equal(parseTimeValue('1.20502578E9'), 1205025780_000);
  const now = Date.UTC(2020, 5, 15);
  t.equal(parseTimeValue('now', now), now);
  t.equal(parseTimeValue('now-7days', now), now - 7 * 86_400_000);
  t.equal(parseTimeValue('now-1day', now), now - 86_400_000);
  t.equal(parseTimeValue('now+2hours', now), now + 7_200_000);
  t.equal(parseTimeValue('now-1month', now), Date.UTC(2020, 4, 15));
  t.throws(() => parseTimeValue('yesterday'));
});

t.test("ERDDAP's documented tabledap URL forms against the Argo profiles", async (t) => {
  // As in ERDDAP's tabledap documentation: variables, then &-constraints, strings quoted, times ISO 8601.
  const res = await get(
    '/erddap/tabledap/d1900857_prof.csv?platform_number,cycle_number,time,latitude,longitude,pres,temp,psal&time%3E=2008-04-01T00:00:00Z&time%3C=2008-04-30T00:00:00Z&pres%3C=100',
  );
  t.equal(res.statusCode, 200, res.body);
  const rows = csv(res.body);
  t.same(rows[0], ['platform_number', 'cycle_number', 'time', 'latitude', 'longitude', 'pres', 'temp', 'psal']);
  t.same(rows[1], ['', '', 'UTC', 'degrees_north', 'degrees_east', 'decibar', 'degree_Celsius', 'psu']);
  const data = rows.slice(2);
  t.ok(data.length > 0);
  for (const r of data) {
    t.ok(r[2]! >= '2008-04-01T00:00:00Z' && r[2]! <= '2008-04-30T00:00:00Z' && /Z$/.test(r[2]!), r[2]!);
    t.ok(Number(r[5]) <= 100, r[5]!);
  }
  // Values equal to the file (netCDF-3 reader, decoded here): cycle 5's first level.
  const path = join(SHARED_DATA, 'argo/1900857_prof.nc');
  const reader = await openNetcdf3(await openFileSource(path), path);
  try {
    const cycles = (await reader.readRaw('CYCLE_NUMBER')).data as Int32Array;
    const p = cycles.indexOf(5);
    const info = await reader.info();
    const nLev = info.dims['N_LEVELS']!;
    const temp = (await reader.readRaw('TEMP', { N_PROF: [p, p + 1] })).data as Float32Array;
    const pres = (await reader.readRaw('PRES', { N_PROF: [p, p + 1] })).data as Float32Array;
    t.equal(temp.length, nLev);
    const one = await get(
      `/erddap/tabledap/d1900857_prof.csv0?pres,temp&cycle_number=5&pres=${pres[0]}&platform_number=%221900857%22`,
    );
    t.equal(one.statusCode, 200, one.body);
    const [[p0, t0]] = csv(one.body) as [[string, string]];
    t.equal(Math.fround(Number(p0)), pres[0], 'pres as the file stores it (float32)');
    t.equal(Math.fround(Number(t0)), temp[0], 'temp as the file stores it (float32)');
  } finally {
    await reader.close();
  }
  // Regular expressions match the whole value; != and NaN; string comparison.
  const re = csv(
    (await get('/erddap/tabledap/d1900857_prof.csv0?cycle_number&cycle_number=~%22(1|12)%22&distinct()')).body,
  );
  t.same(re, [['1'], ['12']]);
  const notNaN = csv((await get('/erddap/tabledap/d1900857_prof.csv0?temp&cycle_number=3&temp!=NaN')).body);
  t.ok(notNaN.length > 0 && notNaN.every((r) => r[0] !== 'NaN'));
  const dirs = csv((await get('/erddap/tabledap/d1900857_prof.csv0?direction,data_mode&distinct()')).body);
  t.same(dirs, [
    ['A', 'D'],
    ['D', 'D'],
  ]);
  // orderByMax: the deepest level of each cycle; orderByMin; orderBy.
  const deepest = csv(
    (
      await get(
        '/erddap/tabledap/d1900857_prof.csv0?cycle_number,pres&cycle_number<=2&orderByMax(%22cycle_number,pres%22)',
      )
    ).body,
  );
  t.equal(deepest.length, 3);
  t.same(
    deepest.map((r) => r[0]),
    ['0', '1', '2'],
  );
  const all = csv((await get('/erddap/tabledap/d1900857_prof.csv0?cycle_number,pres&cycle_number<=2')).body);
  for (const [cyc, max] of deepest)
    t.equal(Math.max(...all.filter((r) => r[0] === cyc).map((r) => Number(r[1]))), Number(max));
  const shallowest = csv(
    (await get('/erddap/tabledap/d1900857_prof.csv0?cycle_number,pres&cycle_number<=2&orderByMin("cycle_number,pres")'))
      .body,
  );
  for (const [cyc, min] of shallowest)
    t.equal(Math.min(...all.filter((r) => r[0] === cyc).map((r) => Number(r[1]))), Number(min));
  const byTemp = csv(
    (await get('/erddap/tabledap/d1900857_prof.csv0?temp,pres&cycle_number=7&orderBy(%22temp%22)')).body,
  );
  const temps = byTemp.map((r) => Number(r[0])).filter((x) => !Number.isNaN(x));
  t.same(
    temps,
    [...temps].sort((a, b) => a - b),
  );
  // Epoch seconds and now-n for time.
  const epoch = csv(
    (await get('/erddap/tabledap/d1900857_prof.csv0?time&time%3E=1208476800&time%3C1208563200&distinct()')).body,
  );
  t.same(epoch, [['2008-04-18T01:24:00Z']]);
  t.equal((await get('/erddap/tabledap/d1900857_prof.csv?time&time%3E=now-1day')).statusCode, 404, 'no rows: 404');
});

t.test('every in-situ collection is a tabledap dataset: trajectories and time series', async (t) => {
  const glider = await get(
    '/erddap/tabledap/dfo_rosie713_20190615.csvp?time,latitude,longitude,temperature&latitude!=NaN&time%3C=2019-06-20T06:25:00Z',
  );
  t.equal(glider.statusCode, 200, glider.body);
  const g = csv(glider.body);
  t.same(g[0], ['time (UTC)', 'latitude (degrees_north)', 'longitude (degrees_east)', 'temperature (Celsius)']);
  t.equal(g.length - 1, 3);
  const mooring = JSON.parse(
    (
      await get(
        '/erddap/tabledap/MCTD_HUD2013004_1845_10515_1800.json?station_id,time,TEMP_01&orderByMax(%22station_id,time%22)',
      )
    ).body,
  ) as { table: { rows: Array<Array<string | number>> } };
  t.same(mooring.table.rows.length, 1);
  const times = csv((await get('/erddap/tabledap/MCTD_HUD2013004_1845_10515_1800.csv0?time')).body).map((r) => r[0]!);
  t.equal(times.length, 7821, 'one row per observation');
  t.equal(mooring.table.rows[0]![1], [...times].sort().pop(), 'orderByMax: the last time of the station');
  const argoTraj = await get(
    '/erddap/tabledap/d1900857_Rtraj.csv0?time,latitude,longitude&latitude!=NaN&time%3C2008-02-26',
  );
  t.same(csv(argoTraj.body), [['2008-02-25T02:51:00Z', '-39.926', '10.809']]);
});

t.test('info, allDatasets and search list the in-situ collections as tabledap datasets', async (t) => {
  const info = JSON.parse((await get('/erddap/info/d1900857_prof/index.json')).body) as {
    table: { rows: string[][] };
  };
  const rows = info.table.rows;
  t.ok(rows.some((r) => r[1] === 'NC_GLOBAL' && r[2] === 'cdm_data_type' && r[4] === 'Profile'));
  t.ok(rows.some((r) => r[1] === 'NC_GLOBAL' && r[2] === 'subsetVariables' && /platform_number/.test(r[4]!)));
  for (const v of ['platform_number', 'cycle_number', 'time', 'latitude', 'pres', 'temp_qc', 'psal_adjusted_error'])
    t.ok(
      rows.some((r) => r[0] === 'variable' && r[1] === v),
      v,
    );
  t.ok(rows.some((r) => r[1] === 'time' && r[2] === 'units' && r[4] === 'seconds since 1970-01-01T00:00:00Z'));
  const traj = JSON.parse((await get('/erddap/info/dfo-rosie713-20190615/index.json')).body) as {
    table: { rows: string[][] };
  };
  t.ok(traj.table.rows.some((r) => r[2] === 'cdm_data_type' && r[4] === 'Trajectory'));
  const all = csv((await get('/erddap/tabledap/allDatasets.csv0?datasetID,dataStructure,cdm_data_type')).body);
  t.ok(all.some((r) => r[0] === 'd1900857_prof' && r[1] === 'table' && r[2] === 'Profile'));
  t.ok(all.some((r) => r[0] === 'MCTD_HUD2013004_1845_10515_1800' && r[2] === 'TimeSeries'));
  const search = JSON.parse((await get('/erddap/search/index.json?searchFor=argo')).body) as {
    table: { columnNames: string[]; rows: string[][] };
  };
  const tab = search.table.columnNames.indexOf('tabledap');
  t.ok(search.table.rows.some((r) => /\/erddap\/tabledap\/d1900857_prof$/.test(r[tab]!)));
});

t.test('errors are ERDDAP Error {…} texts with the right status, never a 500', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['/erddap/tabledap/d1900857_prof.csv?nosuchvar', 400, /Unrecognized variable=\\"nosuchvar\\"/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&nosuch>3', 400, /Unrecognized variable=\\"nosuch\\"/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&pres>abc', 400, /pres is numeric/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&time>yesterday', 400, /is not a time/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&platform_number=~%22(%22', 400, /Query error/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&orderBy(%22psal%22)', 400, /not one of the result variables/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&orderByMean(%22temp%22)', 400, /not a filter this server supports/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&orderByClosest(%22temp%22)', 400, /needs variables and an interval/],
    ['/erddap/tabledap/d1900857_prof.csv?time&orderByClosest(%22time/2fortnights%22)', 400, /not an interval of time/],
    ['/erddap/tabledap/d1900857_prof.csv?time&orderByClosest(%22time/0days%22)', 400, /not an interval of time/],
    [
      '/erddap/tabledap/d1900857_prof.csv?platform_number&orderByClosest(%22platform_number/1%22)',
      400,
      /must be numeric/,
    ],
    ['/erddap/tabledap/d1900857_prof.csv?temp&units(%22SI%22)', 400, /units\(\\"UDUNITS\\"\) or units\(\\"UCUM\\"\)/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&pres', 400, /is not a constraint/],
    ['/erddap/tabledap/d1900857_prof.xyz?temp', 404, /fileType=\.xyz/],
    ['/erddap/tabledap/nosuchdataset.csv?temp', 404, /Currently unknown datasetID=nosuchdataset/],
    ['/erddap/tabledap/coads_sst.csv?SST', 404, /is a grid/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&cycle_number>100000', 404, /nRows = 0/],
    ['/erddap/tabledap/d1900857_prof.geoJson?temp', 400, /need longitude and latitude/],
    ['/erddap/tabledap/d1900857_prof.csv?temp&latitude>10&latitude<5', 404, /nRows = 0/],
  ];
  for (const [url, status, message] of cases) {
    const res = await get(url);
    t.equal(res.statusCode, status, url);
    t.match(res.body, new RegExp(`^Error \\{\\n {4}code=${status};\\n {4}message="`), url);
    t.match(res.body, message, url);
  }
  process.env['ODAS_MAX_COVERAGE_BYTES'] = '10000';
  try {
    const res = await get('/erddap/tabledap/d1900857_prof.csv?pres,temp,psal');
    t.equal(res.statusCode, 413);
    t.match(res.body, /^Error \{\n {4}code=413;/);
    t.match(res.body, /would be about/);
    t.equal((await get('/erddap/tabledap/d1900857_prof.csv?pres,temp&cycle_number=3')).statusCode, 200, 'small: fine');
  } finally {
    delete process.env['ODAS_MAX_COVERAGE_BYTES'];
  }
});

t.test(
  "argopy's ERDDAP URLs, every file type and .ncCF read by pandas/xarray, values equal to the Argo file (netCDF4)",
  { skip: haveClients ? false : 'python3 netCDF4/xarray/pandas not installed' },
  async (t) => {
    const child = spawn(PY, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 300_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(
      JSON.stringify({
        base: `${base}/erddap/tabledap`,
        dataset: 'd1900857_prof',
        source: join(SHARED_DATA, 'argo/1900857_prof.nc'),
      }),
    );
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.equal(status, 0, err);
    const results = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { check: string; ok: boolean; why: string });
    t.equal(results.length, 14);
    for (const r of results) t.ok(r.ok, `${r.check}: ${r.why}`);
  },
);
