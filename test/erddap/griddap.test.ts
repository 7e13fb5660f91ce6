import { spawn, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { erddapId } from '../../src/api/erddap/datasets.js';
import { writeNetcdf3, type NcFileDef } from '../../src/encoders/netcdf3/writer.js';
import { openNetcdf3 } from '../../src/readers/netcdf3/reader.js';
import { openFileSource } from '../../src/readers/source/file.js';
import { SHARED_DATA } from '../helpers/app.js';
import { referenceEntries } from '../helpers/data.js';
import { serveScratch, type ScratchServer } from '../helpers/scratch.js';

const PY = '/usr/bin/python3';
const haveClients = spawnSync(PY, ['-c', 'import netCDF4, xarray, pandas'], { encoding: 'utf8' }).status === 0;
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'erddapy_like.py');
const GHRSST_FILE = 'satellite/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc';
const GHRSST = erddapId('20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02-0-fv01-0');

let server: ScratchServer;
let app: FastifyInstance;
let base: string;

/** Latitude stored north to south, as many satellite products do. */
async function makeDescending(path: string): Promise<void> {
  const def: NcFileDef = {
    dims: [
      { name: 'time', size: 2 },
      { name: 'latitude', size: 5 },
      { name: 'longitude', size: 4 },
    ],
    variables: [
      {
        name: 'time',
        type: 'f8',
        dims: ['time'],
        attrs: { units: 'seconds since 1970-01-01T00:00:00Z', standard_name: 'time' },
      },
      { name: 'latitude', type: 'f4', dims: ['latitude'], attrs: { units: 'degrees_north' } },
      { name: 'longitude', type: 'f4', dims: ['longitude'], attrs: { units: 'degrees_east' } },
      {
        name: 'sst',
        type: 'f4',
        dims: ['time', 'latitude', 'longitude'],
        attrs: { units: 'degree_C', _FillValue: -999 },
      },
    ],
  };
  const data: Record<string, ArrayLike<number>> = {
    time: [1577836800, 1577923200],
    latitude: [14, 13, 12, 11, 10],
    longitude: [20, 21, 22, 23],
    sst: Float32Array.from({ length: 40 }, (_, k) => (k === 6 ? -999 : k + 0.5)),
  };
  const parts: Uint8Array[] = [];
  for await (const chunk of writeNetcdf3(def, (name) => (data[name] ? [data[name]!] : undefined))) parts.push(chunk);
  await writeFile(path, Buffer.concat(parts));
}

t.before(async () => {
  server = await serveScratch('odas-erddap-test-', (root) => makeDescending(join(root, 'north-down.nc')));
  ({ app, base } = server);
});

t.teardown(() => server?.close());

async function get(url: string) {
  return app.inject({ method: 'GET', url });
}

function csvRows(body: string): string[][] {
  return body
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

t.test('the dataset id rule', async (t) => {
  t.equal(erddapId('coads_sst'), 'coads_sst');
  t.equal(erddapId('sst-daily'), 'sst_daily');
  t.equal(erddapId('20160707000000-GOS-L4'), 'd20160707000000_GOS_L4');
  t.equal((await get(`/erddap/griddap/${GHRSST}.csvp?time`)).statusCode, 200, 'the ERDDAP id');
  t.equal(
    (await get('/erddap/griddap/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02-0-fv01-0.csvp?time'))
      .statusCode,
    200,
    'the collection id',
  );
});

t.test("ERDDAP's documented griddap URL forms against the Black Sea GHRSST file", async (t) => {
  // As in ERDDAP's griddap documentation: analysed_sst[(time)][(lat0):stride:(lat1)][(lon0):stride:(lon1)].
  const res = await get(
    `/erddap/griddap/${GHRSST}.csv?analysed_sst%5B(2016-07-07T00:00:00Z)%5D%5B(42.0):1:(42.1)%5D%5B(30.0):1:(30.1)%5D`,
  );
  t.equal(res.statusCode, 200);
  const rows = csvRows(res.body);
  t.same(rows[0], ['time', 'lat', 'lon', 'analysed_sst']);
  t.same(rows[1], ['UTC', 'degrees_north', 'degrees_east', 'kelvin']);
  t.equal(rows.length, 2 + 3 * 3, '3 latitudes × 3 longitudes');
  t.ok(rows.slice(2).every((r) => r[0] === '2016-07-07T00:00:00Z'));
  // A reference cell of the shared data set, by its coordinates.
  const ref = referenceEntries(GHRSST_FILE).find((e) => e.variable === 'analysed_sst' && typeof e.value === 'number');
  if (ref) {
    const lat = Number(ref.coordinates!['lat']);
    const lon = Number(ref.coordinates!['lon']);
    const one = csvRows((await get(`/erddap/griddap/${GHRSST}.csv?analysed_sst[(last)][(${lat})][(${lon})]`)).body);
    t.equal(one.length, 3);
    t.ok(Math.abs(Number(one[2]![3]) - (ref.value as number)) < 1e-4, `value ${one[2]![3]} ≈ ${ref.value}`);
  }
  // (last), last-n, index strides; .csvp and .json.
  const p = (await get(`/erddap/griddap/${GHRSST}.csvp?analysed_sst[last][0:100:239][last-2:last]`)).body
    .trim()
    .split('\n');
  t.equal(p[0], 'time (UTC),lat (degrees_north),lon (degrees_east),analysed_sst (kelvin)');
  t.equal(p.length, 1 + 3 * 3);
  const j = JSON.parse(
    (
      await get(
        `/erddap/griddap/${GHRSST}.json?analysed_sst[0][(41):(41.1)][(28):(28.05)],analysis_error[0][(41):(41.1)][(28):(28.05)]`,
      )
    ).body,
  ) as { table: { columnNames: string[]; columnTypes: string[]; rows: unknown[][] } };
  t.same(j.table.columnNames, ['time', 'lat', 'lon', 'analysed_sst', 'analysis_error']);
  t.same(j.table.columnTypes, ['String', 'float', 'float', 'float', 'float']);
  t.ok(j.table.rows.length > 0);
  const kvp = (await get(`/erddap/griddap/${GHRSST}.jsonlKVP?analysed_sst[0][0][0:1]`)).body.trim().split('\n');
  t.equal(kvp.length, 2);
  t.match(JSON.parse(kvp[0]!), { time: '2016-07-07T00:00:00Z' });
  const html = await get(`/erddap/griddap/${GHRSST}.htmlTable?analysed_sst[0][0][0:1]`);
  t.match(html.body, /<th>analysed_sst<\/th>/);
  const nc = await get(`/erddap/griddap/${GHRSST}.nc?analysed_sst[0][(42):(43)][(30):(31)]`);
  t.equal(nc.statusCode, 200);
  const path = join(server.scratch, 'g.nc');
  await writeFile(path, nc.rawPayload);
  const reader = await openNetcdf3(await openFileSource(path), path);
  const info = await reader.info();
  t.same(info.variables.find((v) => v.name === 'analysed_sst')?.shape, [1, 25, 25]);
  await reader.close();
});

t.test('descending latitude: values in either order select the same cells', async (t) => {
  const a = csvRows((await get('/erddap/griddap/north_down.csv?sst[(2020-01-02)][(13):(11)][(21):(22)]')).body).slice(
    2,
  );
  const b = csvRows((await get('/erddap/griddap/north_down.csv?sst[(2020-01-02)][(11):(13)][(21):(22)]')).body).slice(
    2,
  );
  t.same(a, b);
  t.same(
    a.map((r) => [r[1], r[2], r[3]]),
    [
      ['13', '21', '25.5'],
      ['13', '22', '26.5'],
      ['12', '21', '29.5'],
      ['12', '22', '30.5'],
      ['11', '21', '33.5'],
      ['11', '22', '34.5'],
    ],
  );
  const missing = csvRows((await get('/erddap/griddap/north_down.csv?sst[0][(13)][(22)]')).body);
  t.equal(missing[2]![3], 'NaN', 'the fill value is NaN');
  const json = JSON.parse((await get('/erddap/griddap/north_down.json?sst[0][(13)][(22)]')).body) as {
    table: { rows: unknown[][] };
  };
  t.equal(json.table.rows[0]![3], null, 'and null in JSON');
  t.same(
    csvRows((await get('/erddap/griddap/north_down.csv?sst[(1577923200)][0][0]')).body)[2]!.slice(0, 2),
    ['2020-01-02T00:00:00Z', '14'],
    'epoch seconds on time',
  );
});

t.test("errors are ERDDAP's Error {…} text with the HTTP status", async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['/erddap/griddap/coads_sst.csv?NOPE', 400, /Query error: Unrecognized variable=\\"NOPE\\"/],
    ['/erddap/griddap/coads_sst.csv?SST[(last)][(100)][0]', 400, /100 is greater than the COADSY axis maximum 89/],
    ['/erddap/griddap/coads_sst.csv?SST[0][0]', 400, /has 2 \[range\]s; SST has 3 axes/],
    ['/erddap/griddap/coads_sst.csv?SST[3:1][0][0]', 400, /start index 3 is greater than stop index 1/],
    ['/erddap/griddap/coads_sst.csv?SST[0][0][0],AIRT[1][0][0]', 400, /same constraints/],
    ['/erddap/griddap/coads_sst.csv?SST[(yesterday)][0][0]', 400, /not an ISO 8601 time/],
    ['/erddap/griddap/nothing.csv', 404, /Currently unknown datasetID=nothing/],
    ['/erddap/griddap/1900857_prof.csv', 404, /holds profile features/],
    ['/erddap/griddap/coads_sst.xyz', 404, /fileType=\.xyz is not supported/],
  ];
  for (const [url, status, message] of cases) {
    const res = await get(url);
    t.equal(res.statusCode, status, url);
    t.match(res.body, new RegExp(`^Error \\{\\n {4}code=${status};\\n {4}message="`), url);
    t.match(res.body, message, url);
  }
  process.env['ODAS_MAX_COVERAGE_BYTES'] = '10000';
  try {
    const res = await get('/erddap/griddap/coads_sst.csv?SST');
    t.equal(res.statusCode, 413);
    t.match(res.body, /^Error \{\n {4}code=413;/);
    t.match(res.body, /would be about/);
  } finally {
    delete process.env['ODAS_MAX_COVERAGE_BYTES'];
  }
});

t.test('info, search and allDatasets', async (t) => {
  const info = JSON.parse((await get('/erddap/info/coads_sst/index.json')).body) as {
    table: { columnNames: string[]; rows: string[][] };
  };
  t.same(info.table.columnNames, ['Row Type', 'Variable Name', 'Attribute Name', 'Data Type', 'Value']);
  t.ok(info.table.rows.some((r) => r[0] === 'dimension' && r[1] === 'TIME' && /^nValues=12,/.test(r[4]!)));
  t.ok(
    info.table.rows.some(
      (r) => r[0] === 'variable' && r[1] === 'SST' && r[3] === 'float' && r[4] === 'TIME, COADSY, COADSX',
    ),
  );
  t.ok(
    info.table.rows.some((r) => r[1] === 'TIME' && r[2] === 'units' && r[4] === 'seconds since 1970-01-01T00:00:00Z'),
  );
  const search = JSON.parse(
    (await get('/erddap/search/index.json?searchFor=Black%20Sea&page=1&itemsPerPage=10')).body,
  ) as { table: { columnNames: string[]; rows: string[][] } };
  const idCol = search.table.columnNames.indexOf('Dataset ID');
  t.ok(search.table.rows.some((r) => r[idCol] === GHRSST));
  t.equal((await get('/erddap/search/index.json?searchFor=nosuchwordanywhere')).statusCode, 404);
  const all = csvRows((await get('/erddap/tabledap/allDatasets.csv?datasetID,dataStructure')).body);
  t.same(all[0], ['datasetID', 'dataStructure']);
  t.ok(all.some((r) => r[0] === 'coads_sst' && r[1] === 'grid'));
  t.ok(
    all.some((r) => r[0] === 'd1900857_prof' && r[1] === 'table'),
    'in-situ collections are tabledap datasets',
  );
});

t.test('griddap answers DAP2 too (the DDS erddapy parses)', async (t) => {
  const dds = await get('/erddap/griddap/coads_sst.dds');
  t.equal(dds.statusCode, 200);
  t.match(dds.body, /GRID \{\n {6}ARRAY:\n {8}Float32 SST\[TIME = 12\]/);
});

t.test(
  'erddapy-style griddap session and xarray over the griddap URL, values equal to the files',
  { skip: haveClients ? false : 'python3 netCDF4/xarray/pandas not installed' },
  async (t) => {
    const cases = [
      {
        url: `${base}/erddap/griddap/coads_sst`,
        source: join(SHARED_DATA, 'satellite/coads_sst.nc'),
        variable: 'SST',
        step: 7,
      },
      {
        url: `${base}/erddap/griddap/${GHRSST}`,
        source: join(SHARED_DATA, GHRSST_FILE),
        variable: 'analysed_sst',
        step: 9,
      },
      {
        url: `${base}/erddap/griddap/dt_med_allsat_phy_l4_2005T2`,
        source: join(SHARED_DATA, 'satellite/dt_med_allsat_phy_l4_2005T2.nc'),
        variable: 'adt',
        step: 11,
      },
    ];
    const child = spawn(PY, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 300_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(JSON.stringify(cases));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    t.equal(status, 0, err);
    const results = out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { check: string; url: string; ok: boolean; why: string });
    t.equal(results.length, cases.length * 3);
    for (const r of results) t.ok(r.ok, `${r.check} ${r.url.replace(base, '')}: ${r.why}`);
  },
);
