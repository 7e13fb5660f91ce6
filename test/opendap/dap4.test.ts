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
let hostPort: string;
let dailyFiles: string[] = [];

t.before(async () => {
  server = await serveScratch('odas-dap4-test-', async (root) => {
    dailyFiles = await makeDaily(join(root, 'daily'));
  });
  ({ app, base, hostPort } = server);
});

t.teardown(() => server?.close());

const src = (rel: string) => join(SHARED_DATA, rel);

t.test(
  'netCDF4-python and xarray read every grid collection of the DAP2 cases through dap4://, equal to the files',
  { skip: haveClients ? false : 'python3-netcdf4/xarray not installed' },
  async (t) => {
    const d4 = (id: string) => `dap4://${hostPort}/opendap/${id}`;
    const cases = [
      {
        url: d4('coads_sst'),
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
        ],
        dap4_ce: true,
      },
      {
        url: d4('coads_sst_classic'),
        sources: [src('satellite/coads_sst_classic.nc')],
        variable: 'AIRT',
        slices: [
          [
            [9, 12],
            [55, 70],
            [60, 80],
          ],
        ],
        dap4_ce: true,
      },
      {
        url: d4('dt_med_allsat_phy_l4_2005T2'),
        sources: [src('satellite/dt_med_allsat_phy_l4_2005T2.nc')],
        variable: 'adt',
        slices: [
          [
            [3, 91, 30],
            [0, 128, 9],
            [0, 344, 17],
          ],
        ],
        dap4_ce: true,
      },
      {
        url: d4(GHRSST),
        sources: [src(GHRSST_FILE)],
        variable: 'analysed_sst',
        slices: [
          [
            [0, 1],
            [0, 240, 4],
            [0, 384, 3],
          ],
        ],
        dap4_ce: true,
      },
      {
        url: d4(GHRSST),
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
        url: d4('seaice_conc_monthly_nh_202112_f17_v04r00'),
        sources: [src('satellite/seaice_conc_monthly_nh_202112_f17_v04r00.nc')],
        variable: 'cdr_seaice_conc_monthly',
        slices: [
          [
            [0, 1],
            [100, 300, 3],
            [50, 250, 2],
          ],
        ],
        dap4_ce: true,
      },
      {
        url: d4('daily'),
        sources: dailyFiles,
        variable: 'chl',
        slices: [
          [
            [1, 3],
            [1, 5, 2],
            [0, 7, 3],
          ],
        ],
        dap4_ce: true,
      },
      {
        url: d4('daily'),
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
      results.some((r) => r.client === 'netCDF4-ce' && r.ok),
      'slices read through dap4.ce constraints',
    );
    t.ok(
      results.some((r) => r.client === 'xarray' && r.url.endsWith('/daily') && r.ok),
      'xarray reads the aggregated folder',
    );
  },
);

async function get(url: string) {
  return app.inject({ method: 'GET', url });
}

t.test('the DMR: shared dimensions, stored types, attributes and maps in the DAP4 namespace', async (t) => {
  for (const suffix of ['dmr', 'dmr.xml']) {
    const res = await get(`/opendap/daily.${suffix}`);
    t.equal(res.statusCode, 200);
    t.match(res.headers['content-type'], /^application\/vnd\.opendap\.dap4\.dataset-metadata\+xml/);
    t.match(
      res.body,
      /<Dataset name="daily" dapVersion="4\.0" dmrVersion="1\.0" xmlns="http:\/\/xml\.opendap\.org\/ns\/DAP\/4\.0#">/,
    );
    t.match(res.body, /<Dimension name="time" size="3"\/>/);
    // Signed bytes are Int8 in DAP4 (no _Unsigned trick), packed shorts Int16 with their fill in their own type.
    t.match(
      res.body,
      /<Int8 name="flag">\n {4}<Dim name="\/time"\/>\n {4}<Dim name="\/lat"\/>\n {4}<Dim name="\/lon"\/>/,
    );
    t.match(res.body, /<Int16 name="chl">[^]*?<Attribute name="_FillValue" type="Int16">\n {6}<Value>-1<\/Value>/);
    t.match(res.body, /<Map name="\/time"\/>\n {4}<Map name="\/lat"\/>\n {4}<Map name="\/lon"\/>\n {2}<\/Int16>/);
  }
  // A constraint declares the dimensions at their slab's size; a variable sliced otherwise gets an anonymous dimension.
  const c = await get('/opendap/daily.dmr?dap4.ce=/time[1:2];/chl[0:1][0:2:4][3];/lat');
  t.equal(c.statusCode, 200);
  t.match(
    c.body,
    /<Dimension name="time" size="2"\/>\n {2}<Dimension name="lat" size="5"\/>\n {2}<Dimension name="lon" size="1"\/>/,
  );
  t.match(c.body, /<Int16 name="chl">\n {4}<Dim size="2"\/>\n {4}<Dim size="3"\/>\n {4}<Dim name="\/lon"\/>/);
  t.notMatch(c.body, /<Int8 name="flag">/);
  t.notMatch(c.body, /<Map name="\/time"\/>/, 'no map to a coordinate sliced otherwise');
});

function chunks(body: Buffer): Array<{ flags: number; data: Buffer }> {
  const out: Array<{ flags: number; data: Buffer }> = [];
  for (let at = 0; at < body.length;) {
    const word = body.readUInt32BE(at);
    const length = word & 0xffffff;
    out.push({ flags: word >>> 24, data: body.subarray(at + 4, at + 4 + length) });
    at += 4 + length;
  }
  return out;
}

t.test('.dap: the DMR chunk, then little-endian data with a CRC-32 after each variable', async (t) => {
  const res = await get('/opendap/daily.dap?dap4.ce=/chl%5B1%5D%5B0%5D%5B0:1:2%5D;/flag[0][1][0:4]');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/vnd\.opendap\.dap4\.data/);
  const parts = chunks(res.rawPayload);
  t.ok(parts.length >= 2);
  t.equal(parts[0]!.flags, 4, 'DMR chunk: little-endian, not last');
  t.match(parts[0]!.data.toString(), /^<\?xml[^]*<\/Dataset>\n\r\n$/);
  t.equal(parts.at(-1)!.flags & 1, 1, 'the last chunk says so');
  const data = Buffer.concat(parts.slice(1).map((p) => p.data));
  // chl day 1, row 0, cols 0..2: 100, 101, 102 as Int16; then its CRC-32.
  t.same([data.readInt16LE(0), data.readInt16LE(2), data.readInt16LE(4)], [100, 101, 102]);
  const { crc32 } = await import('node:zlib');
  t.equal(data.readUInt32LE(6), crc32(data.subarray(0, 6)), 'CRC-32 of chl');
  // flag day 0, row 1, cols 0..4 as Int8 (cells 7..11: the fill, then (9k % 250) - 120).
  t.same([...new Int8Array(data.buffer, data.byteOffset + 10, 5)], [-1, -48, -39, -30, -21]);
  t.equal(data.readUInt32LE(15), crc32(data.subarray(10, 15)), 'CRC-32 of flag');
  t.equal(data.length, 19);
  // dap4.checksum=false: no checksums, and the chunk headers say so (netCDF-C 4.9.0 reads the flag).
  const plain = chunks((await get('/opendap/daily.dap?dap4.ce=/chl[1][0][0:2]&dap4.checksum=false')).rawPayload);
  t.equal(plain[0]!.flags, 4 | 8);
  t.equal(Buffer.concat(plain.slice(1).map((p) => p.data)).length, 6);
});

t.test("netCDF-C 4.9.0's triple %-escaping of the constraint is undone", async (t) => {
  const res = await get('/opendap/daily.dmr.xml?dap4.ce=/chl%25255b0:1%25255d%25255b0%25255d%25255b0:2%25255d');
  t.equal(res.statusCode, 200);
  t.match(res.body, /<Dimension name="time" size="2"\/>/);
});

t.test('.dsr lists the responses', async (t) => {
  const res = await get('/opendap/coads_sst.dsr');
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /dataset-services\+xml/);
  t.match(res.body, /href="http:\/\/[^"]*\/opendap\/coads_sst\.dmr"/);
  t.match(res.body, /<DapVersion>4\.0<\/DapVersion>/);
});

t.test('bad requests are DAP4 error documents with their HTTP status', async (t) => {
  const cases: Array<[string, number, RegExp]> = [
    ['/opendap/coads_sst.dap?dap4.ce=/NOPE', 400, /no variable 'NOPE'/],
    ['/opendap/coads_sst.dap?dap4.ce=/SST[0:12][0][0]', 400, /index 12 is past the last index \(11\) of TIME/],
    ['/opendap/coads_sst.dmr?dap4.ce=/SST[0][0]', 400, /gives 2 slabs for 3 dimensions/],
    ['/opendap/coads_sst.dap?dap4.ce=/SST[a][0][0]', 400, /is not an index slab/],
    ['/opendap/coads_sst.dap?dap4.ce=/SST[5:2][0][0]', 400, /start 5 is after stop 2/],
    ['/opendap/coads_sst.dap?dap4.ce=/SST|SST>3', 400, /filters/],
    ['/opendap/coads_sst.dap?dap4.ce=/TIME=[0:2]', 400, /dimension constraints/],
    ['/opendap/nothing.dmr', 404, /No collection 'nothing'/],
  ];
  for (const [url, status, message] of cases) {
    const res = await get(url);
    t.equal(res.statusCode, status, url);
    t.match(res.headers['content-type'], /^application\/vnd\.opendap\.dap4\.error\+xml/, url);
    t.match(res.body, new RegExp(`<Error httpcode="${status}">\\n {2}<Message>`), url);
    t.match(res.body, message, url);
  }
});

t.test('the size limit is a 413 with the estimate and a constraint to use, before any read', async (t) => {
  process.env['ODAS_MAX_COVERAGE_BYTES'] = '100000';
  try {
    const res = await get('/opendap/coads_sst.dap');
    t.equal(res.statusCode, 413);
    t.match(res.body, /<Error httpcode="413">/);
    t.match(res.body, /would be about 3\.1 MB as DAP4 data/);
    t.match(res.body, /dap4\.ce=\/SST\[0:1:9\]\[0:1:9\]\[0:1:9\]/);
    t.equal((await get('/opendap/coads_sst.dap?dap4.ce=/SST[0][0:89][0:179]')).statusCode, 200);
  } finally {
    delete process.env['ODAS_MAX_COVERAGE_BYTES'];
  }
});
