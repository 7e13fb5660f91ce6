/**
 * OPeNDAP over in-situ collections: CF DSG arrays read by Debian's netCDF-C (python3-netCDF4 and
 * xarray) through DAP2 and dap4://, compared with the source files read directly by netCDF4; a
 * folder of Argo files of different lengths (a copy of three real files, one collection by config)
 * for the padding; the DDS, DAS, XDR and errors as text.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { parseCollectionConfig } from '../../src/config/load.js';
import { SHARED_DATA } from '../helpers/app.js';
import { serveScratch, type ScratchServer } from '../helpers/scratch.js';
import { haveClients, runClients } from './helpers.js';

let server: ScratchServer;
let app: FastifyInstance;
let hostPort: string;

const src = (rel: string) => join(SHARED_DATA, rel);
/** The folder collection's files, in catalog (path) order. */
const FLOATS = ['1900857_prof.nc', '3902131_Sprof.nc', 'D1900857_001.nc'];

t.before(async () => {
  const config = parseCollectionConfig('id: floats\ntitle: Three floats\nsource: "floats/*.nc"\n', 'floats.yaml');
  server = await serveScratch(
    'odas-dap-insitu-',
    async (root) => {
      await mkdir(join(root, 'floats'));
      for (const f of FLOATS) await copyFile(src(`argo/${f}`), join(root, 'floats', f));
    },
    { configs: [config] },
  );
  ({ app, hostPort } = server);
});

t.teardown(() => server?.close());

async function get(url: string) {
  return app.inject({ method: 'GET', url });
}

/** Cases for insitu_check.py at one URL scheme (http: DAP2, dap4:), one per dataset. */
function cases(scheme: 'http' | 'dap4') {
  const url = (id: string) => `${scheme}://${hostPort}/opendap/${id}`;
  return [
    {
      url: url('1900857_prof'),
      sources: [src('argo/1900857_prof.nc')],
      instance: 'N_PROF',
      checks: [
        {
          variable: 'TEMP',
          slices: [
            [
              [0, 194],
              [0, 110],
            ],
            [
              [5, 60, 3],
              [10, 100, 7],
            ],
            [
              [193, 194],
              [105, 110],
            ],
          ],
        },
        {
          variable: 'PSAL',
          slices: [
            [
              [20, 40, 2],
              [0, 110, 5],
            ],
          ],
        },
        {
          variable: 'PRES_ADJUSTED',
          slices: [
            [
              [0, 194, 9],
              [0, 50],
            ],
          ],
        },
        { variable: 'JULD', slices: [[[0, 194]], [[3, 190, 11]]] },
        { variable: 'CYCLE_NUMBER', slices: [[[0, 194, 4]]] },
        { variable: 'PLATFORM_NUMBER', slices: [[[0, 194]], [[1, 9, 2]]] },
      ],
    },
    // Across the files of a folder: padding to 800 levels, DOXY missing from the core files.
    {
      url: url('floats'),
      sources: FLOATS.map((f) => join(server.root, 'floats', f)),
      instance: 'N_PROF',
      checks: [
        {
          variable: 'TEMP',
          slices: [
            [
              [0, 358],
              [0, 800],
            ],
            [
              [190, 200],
              [100, 120],
            ],
            [
              [150, 358, 13],
              [0, 800, 37],
            ],
          ],
        },
        {
          variable: 'DOXY',
          slices: [
            [
              [180, 220, 3],
              [0, 800, 50],
            ],
          ],
        },
        { variable: 'PLATFORM_NUMBER', slices: [[[0, 358]], [[190, 200]]] },
        { variable: 'JULD', slices: [[[0, 358]]] },
      ],
    },
    // One trajectory per file: a single instance; a mooring: its station dimension.
    {
      url: url('dfo-rosie713-20190615'),
      sources: [src('insitu/dfo-rosie713-20190615.nc')],
      instance: null,
      checks: [
        {
          variable: 'temperature',
          slices: [
            [
              [0, 1],
              [0, 1167],
            ],
            [
              [0, 1],
              [100, 900, 9],
            ],
          ],
        },
      ],
    },
    {
      url: url('1900857_Rtraj'),
      sources: [src('argo/1900857_Rtraj.nc')],
      instance: null,
      checks: [
        {
          variable: 'PRES',
          slices: [
            [
              [0, 1],
              [0, 10682],
            ],
            [
              [0, 1],
              [5000, 6000, 3],
            ],
          ],
        },
        { variable: 'PLATFORM_NUMBER', slices: [[[0, 1]]] },
      ],
    },
    {
      url: url('MCTD_HUD2013004_1845_10515_1800'),
      sources: [src('insitu/MCTD_HUD2013004_1845_10515_1800.nc')],
      instance: 'station',
      checks: [
        {
          variable: 'TEMP_01',
          slices: [
            [
              [0, 1],
              [0, 7821],
            ],
            [
              [0, 1],
              [7000, 7821, 5],
            ],
          ],
        },
      ],
    },
  ];
}

for (const [scheme, protocol] of [
  ['http', 'DAP2'],
  ['dap4', 'DAP4 (dap4://)'],
] as const)
  t.test(
    `netCDF4-python and xarray read the in-situ collections as DSG arrays through ${protocol}, equal to the files`,
    { skip: haveClients ? false : 'python3-netcdf4/xarray not installed' },
    async (t) => {
      const all = cases(scheme);
      const results = await runClients(all, 'insitu_check.py');
      const expected = all.reduce((n, c) => n + c.checks.reduce((m, k) => m + k.slices.length * 2, 0), 0);
      t.equal(results.length, expected, 'one result per slice and client');
      for (const r of results)
        t.ok(r.ok, `${r.client} ${r.url} ${r.variable} ${JSON.stringify(r.slices ?? [])}: ${r.why}`);
    },
  );

t.test('the DDS and DAS of an Argo multi-profile file: its own variables, names and attributes', async (t) => {
  const dds = await get('/opendap/1900857_prof.dds');
  t.equal(dds.statusCode, 200);
  t.equal(dds.headers['content-description'], 'dods-dds');
  t.match(dds.body, /^Dataset \{\n/);
  t.match(dds.body, /\n {4}Float32 TEMP\[N_PROF = 194\]\[N_LEVELS = 110\];\n/);
  t.match(dds.body, /\n {4}String PLATFORM_NUMBER\[N_PROF = 194\];\n/);
  t.match(dds.body, /\n {4}Float64 JULD\[N_PROF = 194\];\n/);
  t.match(dds.body, /\n {4}String TEMP_QC\[N_PROF = 194\]\[N_LEVELS = 110\];\n/);
  t.notMatch(dds.body, /N_CALIB|N_HISTORY/, 'variables on other dimensions are left out');
  t.match(dds.body, /\} 1900857_prof;\n$/);
  const das = (await get('/opendap/1900857_prof.das')).body;
  t.match(das, /\n {4}TEMP \{\n[^}]*Float32 _FillValue 99999;/);
  t.match(das, /\n {4}JULD \{\n[^}]*String units "days since 1950-01-01 00:00:00 UTC";/);
  t.match(das, /NC_GLOBAL \{[^}]*String featureType "profile";/);
  const constrained = (await get('/opendap/1900857_prof.dds?TEMP[0:2:9][0:1:4],PLATFORM_NUMBER[3]')).body;
  t.match(constrained, /String PLATFORM_NUMBER\[N_PROF = 1\];\n {4}Float32 TEMP\[N_PROF = 5\]\[N_LEVELS = 5\];/);
  const folder = (await get('/opendap/floats.dds?DOXY')).body;
  t.match(folder, /Float32 DOXY\[N_PROF = 358\]\[N_LEVELS = 800\];/);
  const glider = (await get('/opendap/dfo-rosie713-20190615.dds?temperature')).body;
  t.match(glider, /Float64 temperature\[trajectory = 1\]\[obs = 1167\];/);
});

t.test('.dods: strings are their count once then length-prefixed, padded bytes; numbers count twice', async (t) => {
  const res = await get('/opendap/1900857_prof.dods?PLATFORM_NUMBER[0:1:1],CYCLE_NUMBER[0:1:2]');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-description'], 'dods-data');
  const body = res.rawPayload;
  const at = body.indexOf('Data:\n') + 6;
  const dv = new DataView(body.buffer, body.byteOffset + at);
  // Two strings of 8 characters ('1900857 '): count 2, then (8, 8 bytes) twice.
  t.equal(dv.getUint32(0), 2);
  t.equal(dv.getUint32(4), 8);
  t.equal(body.subarray(at + 8, at + 16).toString('latin1'), '1900857 ');
  t.equal(dv.getUint32(16), 8);
  // CYCLE_NUMBER[0:2]: 0, 0, 1 in the file (a descending profile, then cycles 0 and 1), count twice.
  t.same([dv.getUint32(28), dv.getUint32(32)], [3, 3]);
  t.same([dv.getInt32(36), dv.getInt32(40), dv.getInt32(44)], [0, 0, 1]);
  t.equal(body.length, at + 48);
});

t.test('.ascii lists the arrays row by row', async (t) => {
  const res = await get('/opendap/1900857_prof.ascii?TEMP[0:1:1][0:1:2],TEMP_QC[0][0:1:2],DATA_MODE[0:1:1]');
  t.equal(res.statusCode, 200);
  t.match(res.body, /\nDATA_MODE\[2\]\n"D", "D"\n/);
  t.match(res.body, /\nTEMP\[2\]\[3\]\n\[0\], 16\.141, 16\.144, 16\.034\n\[1\], 16\.688, 16\.586, 15\.916\n/);
  t.match(res.body, /\nTEMP_QC\[1\]\[3\]\n\[0\], "1", "1", "1"\n/);
});

t.test('bad constraints are DAP2 and DAP4 error objects with their HTTP status', async (t) => {
  const dap2: Array<[string, number, RegExp]> = [
    ['/opendap/1900857_prof.dods?TEMP&TEMP>3', 400, /selection clauses .* CF DSG arrays/],
    ['/opendap/1900857_prof.dods?TEMP[0:194][0]', 400, /index 194 is past the last index \(193\) of N_PROF/],
    ['/opendap/1900857_prof.dods?TEMP[0]', 400, /gives 1 hyperslab for 2 dimensions \(N_PROF, N_LEVELS\)/],
    ['/opendap/1900857_prof.dods?PLATFORM_NUMBER[0][0]', 400, /gives 2 hyperslabs for 1 dimension/],
    ['/opendap/1900857_prof.ascii?NOPE', 400, /no variable 'NOPE'/],
    ['/opendap/1900857_prof.dds?TEMP[a:b][0]', 400, /is not a hyperslab/],
  ];
  for (const [url, status, message] of dap2) {
    const res = await get(url);
    t.equal(res.statusCode, status, url);
    t.equal(res.headers['content-description'], 'dods-error', url);
    t.match(res.body, new RegExp(`^Error \\{\\n {4}code = ${status};\\n {4}message = "`), url);
    t.match(res.body, message, url);
  }
  const dap4 = await get('/opendap/1900857_prof.dap?dap4.ce=/TEMP[0:1:194][0]');
  t.equal(dap4.statusCode, 400);
  t.match(dap4.headers['content-type'], /application\/vnd\.opendap\.dap4\.error\+xml/);
  t.match(dap4.body, /index 194 is past the last index \(193\) of N_PROF/);
});

t.test('the size limit is a 413 with the estimate, before any read (DAP2 and DAP4)', async (t) => {
  process.env['ODAS_MAX_COVERAGE_BYTES'] = '50000';
  try {
    const dods = await get('/opendap/1900857_prof.dods?TEMP');
    t.equal(dods.statusCode, 413);
    t.match(dods.body, /^Error \{\n {4}code = 413;/);
    // 194 × 110 Float32 values and the two counts.
    t.match(dods.body, /would be about 85\.4 kB as DAP2 data/);
    t.match(dods.body, /Split it along N_PROF into 2 or more hyperslabs of at most 97 features/);
    const dap = await get('/opendap/1900857_prof.dap?dap4.ce=/TEMP');
    t.equal(dap.statusCode, 413);
    t.match(dap.body, /would be about 85\.4 kB as DAP4 data/);
    t.equal((await get('/opendap/1900857_prof.dods?TEMP[0:1:19][0:1:109]')).statusCode, 200);
  } finally {
    delete process.env['ODAS_MAX_COVERAGE_BYTES'];
  }
});

t.test('a variable with cf_role names each feature by its catalog id (its item), in N_PROF order', async (t) => {
  const dds = (await get('/opendap/1900857_prof.dds')).body;
  t.match(dds, /^Dataset \{\n {4}String profile_id\[N_PROF = 194\];\n/);
  t.match((await get('/opendap/1900857_prof.das')).body, /profile_id \{\n {8}String cf_role "profile_id";/);
  const items = JSON.parse((await get('/collections/1900857_prof/items?limit=3')).body) as {
    features: Array<{ id: string; properties: { cycle_number: number } }>;
  };
  const ascii = (await get('/opendap/1900857_prof.ascii?profile_id[0:1:2],CYCLE_NUMBER[0:1:2]')).body;
  t.match(ascii, `\nprofile_id[3]\n${items.features.map((f) => `"${f.id}"`).join(', ')}\n`);
  t.match(ascii, `\nCYCLE_NUMBER[3]\n${items.features.map((f) => f.properties.cycle_number).join(', ')}\n`);
  const glider = (await get('/opendap/dfo-rosie713-20190615.dmr')).body;
  t.match(glider, /<String name="trajectory_id">\s*<Dim name="\/trajectory"\/>/);
});

t.test('the OPeNDAP list, the dataset page and the collection link name the in-situ collections', async (t) => {
  const list = await get('/opendap');
  t.match(list.body, /href="[^"]*\/opendap\/1900857_prof"/);
  t.match(list.body, /href="[^"]*\/opendap\/dfo-rosie713-20190615"/);
  const one = await get('/opendap/1900857_prof.html');
  t.equal(one.statusCode, 200);
  t.match(one.body, /xarray\.open_dataset/);
  t.match(one.body, /N_PROF = 194/);
  const doc = JSON.parse((await get('/collections/1900857_prof')).body) as { links: Array<{ href: string }> };
  t.ok(doc.links.some((l) => l.href.endsWith('/opendap/1900857_prof.html')));
});
