import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { SHARED_DATA } from '../helpers/app.js';
import { serveScratch, type ScratchServer } from '../helpers/scratch.js';
import { haveClients, makeDaily, runClients } from './helpers.js';

const GHRSST = '20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02-0-fv01-0';
const GHRSST_FILE = 'satellite/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc';

let server: ScratchServer;
let app: FastifyInstance;
let base: string;

let dailyFiles: string[] = [];

t.before(async () => {
  server = await serveScratch('odas-dap-test-', async (root) => {
    dailyFiles = await makeDaily(join(root, 'daily'));
  });
  ({ app, base } = server);
});

t.teardown(() => server?.close());

const src = (rel: string) => join(SHARED_DATA, rel);

t.test(
  'netCDF4-python and xarray read every grid collection of the coverages cases through DAP2, equal to the files',
  { skip: haveClients ? false : 'python3-netcdf4/xarray not installed' },
  async (t) => {
    const cases = [
      {
        url: `${base}/opendap/coads_sst`,
        sources: [src('satellite/coads_sst.nc')],
        variable: 'SST',
        slices: [
          [
            [2, 6],
            [40, 55],
            [5, 20],
          ],
          [
            [0, 12, 5],
            [0, 90, 7],
            [1, 180, 13],
          ],
          [
            [11, 12],
            [89, 90],
            [179, 180],
          ],
        ],
      },
      {
        url: `${base}/opendap/coads_sst_classic`,
        sources: [src('satellite/coads_sst_classic.nc')],
        variable: 'AIRT',
        slices: [
          [
            [9, 12],
            [55, 70],
            [60, 80],
          ],
        ],
      },
      {
        url: `${base}/opendap/dt_med_allsat_phy_l4_2005T2`,
        sources: [src('satellite/dt_med_allsat_phy_l4_2005T2.nc')],
        variable: 'adt',
        slices: [
          [
            [0, 10],
            [20, 40],
            [100, 140],
          ],
          [
            [3, 91, 30],
            [0, 128, 9],
            [0, 344, 17],
          ],
        ],
      },
      {
        url: `${base}/opendap/${GHRSST}`,
        sources: [src(GHRSST_FILE)],
        variable: 'analysed_sst',
        slices: [
          [
            [0, 1],
            [100, 172],
            [150, 270],
          ],
          [
            [0, 1],
            [0, 240, 4],
            [0, 384, 3],
          ],
        ],
      },
      {
        url: `${base}/opendap/${GHRSST}`,
        sources: [src(GHRSST_FILE)],
        variable: 'mask',
        slices: [
          [
            [0, 1],
            [0, 240, 5],
            [0, 384, 5],
          ],
        ],
      },
      {
        url: `${base}/opendap/seaice_conc_monthly_nh_202112_f17_v04r00`,
        sources: [src('satellite/seaice_conc_monthly_nh_202112_f17_v04r00.nc')],
        variable: 'cdr_seaice_conc_monthly',
        slices: [
          [
            [0, 1],
            [100, 300, 3],
            [50, 250, 2],
          ],
        ],
      },
      {
        url: `${base}/opendap/daily`,
        sources: dailyFiles,
        variable: 'chl',
        slices: [
          [
            [0, 3],
            [0, 5],
            [0, 7],
          ],
          [
            [1, 3],
            [1, 5, 2],
            [0, 7, 3],
          ],
        ],
      },
      {
        url: `${base}/opendap/daily`,
        sources: dailyFiles,
        variable: 'flag',
        slices: [
          [
            [0, 3],
            [0, 5],
            [0, 7],
          ],
        ],
      },
    ];
    const results = await runClients(cases);
    t.ok(results.length >= cases.length * 2, `${results.length} checks ran`);
    for (const r of results)
      t.ok(r.ok, `${r.client} ${r.url.replace(base, '')} ${r.variable}${JSON.stringify(r.slices ?? [])} ${r.why}`);
    t.ok(
      results.some((r) => r.client === 'xarray' && r.url.endsWith('/daily') && r.ok),
      'xarray reads the aggregated folder',
    );
  },
);

async function get(url: string) {
  return app.inject({ method: 'GET', url });
}

t.test('DDS, DAS and the constrained DDS', async (t) => {
  const dds = await get('/opendap/coads_sst.dds');
  t.equal(dds.statusCode, 200);
  t.equal(dds.headers['content-description'], 'dods-dds');
  t.match(dds.body, /^Dataset \{\n {4}Float64 TIME\[TIME = 12\];/);
  t.match(
    dds.body,
    /GRID \{\n {6}ARRAY:\n {8}Float32 SST\[TIME = 12\]\[COADSY = 90\]\[COADSX = 180\];\n {6}MAPS:\n {8}Float64 TIME\[TIME = 12\];/,
  );
  t.match(dds.body, /\} coads_sst;\n$/);
  const das = (await get('/opendap/coads_sst.das')).body;
  t.match(das, /SST \{\n {8}Float32 _FillValue -1e\+34;/);
  t.match(das, /NC_GLOBAL \{/);
  t.match(das, /String Unlimited_Dimension "TIME";/);
  const c = (await get('/opendap/coads_sst.dds?SST[0:1:2][10:12][0:3:9],COADSX')).body;
  t.match(
    c,
    /Float64 COADSX\[COADSX = 180\];\n {4}GRID \{\n {6}ARRAY:\n {8}Float32 SST\[TIME = 3\]\[COADSY = 3\]\[COADSX = 4\];/,
  );
  // The array alone travels as a Structure, as libdap sends it.
  const s = (await get('/opendap/coads_sst.dds?SST.SST%5B0%5D%5B0:1%5D%5B0:1%5D')).body;
  t.match(s, /Structure \{\n {8}Float32 SST\[TIME = 1\]\[COADSY = 2\]\[COADSX = 2\];\n {4}\} SST;/);
  const packed = (await get(`/opendap/${GHRSST}.das`)).body;
  t.match(
    packed,
    /analysed_sst \{[^}]*Int16 _FillValue -32768;[^}]*Float32 add_offset 273\.15;[^}]*Float32 scale_factor 0\.01;/,
  );
  t.match(packed, /mask \{[^}]*Byte _FillValue 128;[^}]*String _Unsigned "false";/);
});

t.test('.dods: XDR as oc2 parses it (count twice, bytes padded, 16-bit widened, big-endian)', async (t) => {
  const res = await get('/opendap/daily.dods?chl.chl[1][0][0:1:2],flag.flag[0][1][0:4],lat[1:2]');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-description'], 'dods-data');
  const body = res.rawPayload;
  t.equal(Number(res.headers['content-length']), body.length);
  const at = body.indexOf('Data:\n') + 6;
  const dv = new DataView(body.buffer, body.byteOffset + at);
  // lat[1:2]: Float32 ×2.
  t.same([dv.getUint32(0), dv.getUint32(4), dv.getFloat32(8), dv.getFloat32(12)], [2, 2, 11, 12]);
  // chl day 1, row 0, cols 0..2: 100, 101, 102 widened to 32 bits.
  t.same(
    [dv.getUint32(16), dv.getUint32(20), dv.getInt32(24), dv.getInt32(28), dv.getInt32(32)],
    [3, 3, 100, 101, 102],
  );
  // flag day 0, row 1, cols 0..4: five bytes then three bytes of padding.
  t.same([dv.getUint32(36), dv.getUint32(40)], [5, 5]);
  const bytes = [...new Int8Array(body.buffer, body.byteOffset + at + 44, 5)];
  // Cells k = 7..11 of day 0: the fill (-1), then (9k % 250) - 120.
  t.same(bytes, [-1, -48, -39, -30, -21]);
  t.equal(body.length, at + 44 + 8, 'padded to 4 bytes');
});

t.test('.ascii lists the rows with their indices', async (t) => {
  const res = await get('/opendap/daily.ascii?chl[0:1][0][0:3]');
  t.equal(res.statusCode, 200);
  t.match(
    res.body,
    /---------------------------------------------\nchl\.chl\[2\]\[1\]\[4\]\n\[0\]\[0\], 0, 1, 2, 3\n\[1\]\[0\], 100, 101, 102, 103\n/,
  );
  t.match(res.body, /chl\.time\[2\]\n0, 1\n/);
});

t.test('bad requests are DAP2 error objects with their HTTP status', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['/opendap/coads_sst.dods?NOPE', 400, /no variable 'NOPE'/],
    ['/opendap/coads_sst.dods?SST[0:12][0][0]', 400, /index 12 is past the last index \(11\) of TIME/],
    ['/opendap/coads_sst.dods?SST[0][0]', 400, /gives 2 hyperslabs for 3 dimensions/],
    ['/opendap/coads_sst.dods?SST[a:b][0][0]', 400, /is not a hyperslab/],
    ['/opendap/coads_sst.dods?SST[5:2][0][0]', 400, /start 5 is after stop 2/],
    ['/opendap/coads_sst.dods?SST&SST>3', 400, /selection clauses/],
    ['/opendap/coads_sst.dods?SST.nope', 400, /has no member 'nope'/],
    ['/opendap/nothing.dds', 404, /No collection 'nothing'/],
    ['/opendap/coads_sst.xyz', 404, /not an OPeNDAP response/],
  ];
  for (const [url, status, message] of cases) {
    const res = await get(url);
    t.equal(res.statusCode, status, url);
    t.equal(res.headers['content-description'], 'dods-error', url);
    t.match(res.body, new RegExp(`^Error \\{\\n {4}code = ${status};\\n {4}message = "`), url);
    t.match(res.body, message, url);
  }
});

t.test('the size limit is a 413 with the estimate, before any read', async (t) => {
  process.env['ODAS_MAX_COVERAGE_BYTES'] = '100000';
  try {
    const res = await get('/opendap/coads_sst.dods');
    t.equal(res.statusCode, 413);
    t.match(res.body, /^Error \{\n {4}code = 413;/);
    t.match(res.body, /would be about 3\.1 MB as DAP2 data/);
    t.equal((await get('/opendap/coads_sst.dods?SST[0][0:1:89][0:1:179]')).statusCode, 200);
  } finally {
    delete process.env['ODAS_MAX_COVERAGE_BYTES'];
  }
});

t.test('HTML pages: the dataset list and a dataset', async (t) => {
  const list = await get('/opendap');
  t.equal(list.statusCode, 200);
  t.match(list.body, /href="[^"]*\/opendap\/coads_sst"/);
  // In-situ collections are datasets too (test/opendap/insitu.test.ts).
  t.match(list.body, /href="[^"]*\/opendap\/1900857_prof"/);
  const one = await get('/opendap/coads_sst.html');
  t.match(one.body, /xarray\.open_dataset/);
  t.match(one.body, /SST/);
});
