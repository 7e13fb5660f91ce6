// ERDDAP's tabledap filters orderByClosest and units(), the .ncHeader/.ncCFHeader answers (tabledap and griddap)
// checked against python3-netCDF4 reading the .nc the same URL returns, and the held-memory limit of the answers
// that need every row first. URLs as ERDDAP's tabledap documentation and erddapy write them, over a listening server.
import { spawn, spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { discoverRoots, SHARED_DATA } from '../helpers/app.js';
import { http, listen } from '../helpers/http.js';

const PY = '/usr/bin/python3';
const haveNetcdf4 = spawnSync(PY, ['-c', 'import netCDF4'], { encoding: 'utf8' }).status === 0;

let app: FastifyInstance;
let base: string;

t.before(async () => {
  app = await buildApp({ collections: await discoverRoots([SHARED_DATA]) });
  base = await listen(app);
});

t.teardown(async () => {
  await app?.close();
});

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await http(base, path);
  return { status: r.status, body: r.text };
}

function csv(body: string): string[][] {
  return body
    .trim()
    .split('\n')
    .map((l) => l.split(','));
}

const DAY = 86_400_000;

t.test('orderByClosest: per group, the row closest to each multiple of the interval', async (t) => {
  const all = csv((await get('/erddap/tabledap/d1900857_prof.csv0?platform_number,cycle_number,time&distinct()')).body);
  t.ok(all.length > 20, `${all.length} profiles`);
  for (const query of [
    'orderByClosest(%22platform_number,time/30days%22)',
    'orderByClosest(%22platform_number,time,30%20days%22)',
  ]) {
    const res = await get(`/erddap/tabledap/d1900857_prof.csv0?platform_number,cycle_number,time&distinct()&${query}`);
    t.equal(res.status, 200, res.body);
    const rows = csv(res.body);
    t.ok(rows.length > 1 && rows.length < all.length, `${rows.length} of ${all.length} rows kept (${query})`);
    // Each kept row is, among all rows of its 30-day bucket, the one closest to the bucket's multiple of 30 days.
    const buckets = new Set<number>();
    for (const [, , time] of rows) {
      const ms = Date.parse(time!);
      const b = Math.round(ms / (30 * DAY));
      t.notOk(buckets.has(b), `one row per bucket (${time})`);
      buckets.add(b);
      const target = b * 30 * DAY;
      const best = Math.min(
        ...all
          .map((r) => Date.parse(r[2]!))
          .filter((x) => Math.round(x / (30 * DAY)) === b)
          .map((x) => Math.abs(x - target)),
      );
      t.equal(Math.abs(ms - target), best, `${time} is the closest of its bucket`);
    }
    const sorted = [...rows].sort((a, b) => a[2]!.localeCompare(b[2]!));
    t.same(rows, sorted, 'sorted by the orderBy variables');
  }
  // A numeric variable with a bare interval: the levels nearest every 100 decibars of one profile.
  const levels = csv((await get('/erddap/tabledap/d1900857_prof.csv0?pres&cycle_number=5')).body).map((r) =>
    Number(r[0]),
  );
  const closest = csv(
    (await get('/erddap/tabledap/d1900857_prof.csv0?pres&cycle_number=5&orderByClosest(%22pres/100%22)')).body,
  ).map((r) => Number(r[0]));
  t.ok(closest.length > 3);
  for (const p of closest) {
    const b = Math.round(p / 100);
    const others = levels.filter((x) => Math.round(x / 100) === b);
    t.equal(Math.abs(p - b * 100), Math.min(...others.map((x) => Math.abs(x - b * 100))), `pres ${p}`);
  }
});

t.test('units("UCUM") writes the units in UCUM, units("UDUNITS") as the files hold them', async (t) => {
  const q = '/erddap/tabledap/d1900857_prof.csv?time,latitude,pres,temp,psal&cycle_number=3&pres<20';
  const udunits = csv((await get(q)).body);
  t.same(udunits[1], ['UTC', 'degrees_north', 'decibar', 'degree_Celsius', 'psu']);
  t.same(csv((await get(`${q}&units(%22UDUNITS%22)`)).body), udunits, 'UDUNITS is the default');
  const ucum = csv((await get(`${q}&units(%22UCUM%22)`)).body);
  t.same(ucum[1], ['UTC', 'deg{north}', 'dbar', 'Cel', '{PSU}']);
  t.same(ucum.slice(2), udunits.slice(2), 'values unchanged');
  const json = JSON.parse(
    (await get('/erddap/tabledap/d1900857_prof.json?pres,temp&cycle_number=3&units(%22UCUM%22)')).body,
  ) as {
    table: { columnUnits: string[] };
  };
  t.same(json.table.columnUnits, ['dbar', 'Cel']);
  const header = await get('/erddap/tabledap/d1900857_prof.ncHeader?time,temp&cycle_number=3&units(%22UCUM%22)');
  t.match(header.body, /time:units = "s\{since 1970-01-01T00:00:00Z\}" ;/);
  t.match(header.body, /temp:units = "Cel" ;/);
});

/** Dimensions, variables (CDL type, dimensions, attributes as text) of a CDL header. */
function parseCdl(text: string) {
  const dims: Record<string, number> = {};
  const vars: Record<string, { type: string; dims: string[]; attrs: Record<string, string> }> = {};
  const globals: Record<string, string> = {};
  // A text attribute with newlines is printed over several lines: one line again, its breaks as \n.
  for (const line of text.replace(/\\n",\n\t\t\t"/g, '\\n').split('\n')) {
    let m = /^\t(\w+) = (\d+) ;$/.exec(line);
    if (m) dims[m[1]!] = Number(m[2]);
    m = /^\t(byte|char|short|int|float|double) (\w+)(?:\(([^)]*)\))? ;$/.exec(line);
    if (m) vars[m[2]!] = { type: m[1]!, dims: m[3] ? m[3].split(', ') : [], attrs: {} };
    m = /^\t\t(\w*):(\w+) = (.*) ;$/.exec(line);
    if (m) (m[1] ? vars[m[1]]!.attrs : globals)[m[2]!] = m[3]!;
  }
  return { dims, vars, globals };
}

const PY_DUMP = `
import json, sys, urllib.request, netCDF4, numpy as np
data = urllib.request.urlopen(sys.argv[1]).read()
ds = netCDF4.Dataset('x.nc', memory=data)
def attr(v):
    if isinstance(v, str): return ['s', v]
    a = np.atleast_1d(v)
    return [a.dtype.str[1:], [None if x != x else float(x) for x in a]]
out = {'dims': {k: len(d) for k, d in ds.dimensions.items()},
       'vars': {k: {'dtype': v.dtype.str[1:] if v.dtype != str else 'S', 'dims': list(v.dimensions),
                    'attrs': {a: attr(v.getncattr(a)) for a in v.ncattrs()}} for k, v in ds.variables.items()},
       'globals': {a: attr(ds.getncattr(a)) for a in ds.ncattrs()}}
print(json.dumps(out))
`;

const CDL_OF: Record<string, string> = { i1: 'byte', S1: 'char', i2: 'short', i4: 'int', f4: 'float', f8: 'double' };

/** A netCDF4 attribute: ['s', text] or [numpy dtype, values (null: NaN)]. */
type Attr = [string, string | Array<number | null>];

interface Dump {
  dims: Record<string, number>;
  vars: Record<string, { dtype: string; dims: string[]; attrs: Record<string, Attr> }>;
  globals: Record<string, Attr>;
}

/** The CDL attribute text against the value netCDF4 read: strings equal, numbers equal as their type stores them. */
function sameAttr(cdl: string, value: Attr): boolean {
  const [type, v] = value;
  if (type === 's')
    return cdl === `"${(v as string).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const nums = cdl.split(', ').map((x) => Number(x.replace(/[bsf]$/, '').replace(/\.$/, '')));
  const want = (v as Array<number | null>).map((x) => x ?? NaN);
  return (
    nums.length === want.length &&
    nums.every((x, i) => Object.is(type === 'f4' ? Math.fround(x) : x, type === 'f4' ? Math.fround(want[i]!) : want[i]))
  );
}

function checkHeader(t: Test, cdl: string, dump: Dump, what: string): void {
  const h = parseCdl(cdl);
  t.same(h.dims, dump.dims, `${what}: dimensions`);
  t.same(Object.keys(h.vars), Object.keys(dump.vars), `${what}: variables in file order`);
  for (const [name, v] of Object.entries(dump.vars)) {
    const c = h.vars[name]!;
    t.equal(c.type, CDL_OF[v.dtype], `${what}: ${name} type`);
    t.same(c.dims, v.dims, `${what}: ${name} dimensions`);
    t.same(Object.keys(c.attrs), Object.keys(v.attrs), `${what}: ${name} attribute names`);
    for (const [a, value] of Object.entries(v.attrs))
      t.ok(sameAttr(c.attrs[a]!, value), `${what}: ${name}:${a} = ${c.attrs[a]}`);
  }
  t.same(Object.keys(h.globals).sort(), Object.keys(dump.globals).sort(), `${what}: global attribute names`);
}

/** python3-netCDF4 reads the .nc at `url` (spawned, not spawnSync: the server answering it runs in this process). */
async function dumpNc(url: string): Promise<Dump> {
  const child = spawn(PY, ['-c', PY_DUMP, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (status !== 0) throw new Error(err);
  return JSON.parse(out) as Dump;
}

t.test(
  '.ncHeader and .ncCFHeader: the header of the .nc the same query returns (python3-netCDF4 reads it)',
  { skip: haveNetcdf4 ? false : 'python3-netCDF4 not installed' },
  async (t) => {
    // erddapy's e.get_download_url(response="ncHeader") form: the file type swapped, the query unchanged.
    const q = 'platform_number,cycle_number,time,latitude,longitude,pres,temp&cycle_number%3C=3&pres%3C=50';
    for (const [header, nc] of [
      ['ncHeader', 'nc'],
      ['ncCFHeader', 'ncCF'],
    ] as const) {
      const res = await get(`/erddap/tabledap/d1900857_prof.${header}?${q}`);
      t.equal(res.status, 200, res.body);
      t.match(res.body, /^netcdf d1900857_prof \{\ndimensions:\n/);
      t.match(res.body, /\n\/\/ global attributes:\n/);
      checkHeader(t, res.body, await dumpNc(`${base}/erddap/tabledap/d1900857_prof.${nc}?${q}`), `tabledap .${header}`);
    }
    // griddap .ncHeader: ERDDAP's documented form var[(start):stride:(stop)]… on the packed AVISO grid.
    const g = 'adt%5B(2005-04-01):1:(2005-04-03)%5D%5B(35):(36)%5D%5B(10):(11)%5D';
    const res = await get(`/erddap/griddap/dt_med_allsat_phy_l4_2005T2.ncHeader?${g}`);
    t.equal(res.status, 200, res.body);
    t.match(res.body, /adt:scale_factor = /);
    checkHeader(
      t,
      res.body,
      await dumpNc(`${base}/erddap/griddap/dt_med_allsat_phy_l4_2005T2.nc?${g}`),
      'griddap .ncHeader',
    );
  },
);

t.test('answers that hold every row are refused with a 413 and the estimate before anything is read', async (t) => {
  process.env['ODAS_MAX_HELD_BYTES'] = '20000';
  try {
    for (const held of [
      '.nc?pres,temp,psal',
      '.ncCF?pres,temp,psal',
      '.ncHeader?pres,temp,psal',
      '.csv?pres,temp,psal&orderBy(%22temp%22)',
      '.csv?pres,temp&distinct()',
      '.csv?cycle_number,pres&orderByMax(%22cycle_number,pres%22)',
    ]) {
      const res = await get(`/erddap/tabledap/d1900857_prof${held}`);
      t.equal(res.status, 413, held);
      t.match(res.body, /^Error \{\n {4}code=413;\n {4}message="/, held);
      t.match(res.body, /would hold about [\d.]+ [kMG]B in memory \([\d,]+ cells/, held);
    }
    // The same rows streamed need no holding; a small query under the limit is answered.
    t.equal((await get('/erddap/tabledap/d1900857_prof.csv?pres,temp,psal')).status, 200);
    t.equal((await get('/erddap/tabledap/d1900857_prof.nc?pres,temp&cycle_number=3&pres%3C=30')).status, 200);
    t.equal(
      (await get('/erddap/tabledap/d1900857_prof.csv?cycle_number&distinct()')).status,
      200,
      'one row per profile',
    );
  } finally {
    delete process.env['ODAS_MAX_HELD_BYTES'];
  }
});
