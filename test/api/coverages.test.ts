import { mkdir, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fromArrayBuffer } from 'geotiff';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { decodeNumeric } from '../../src/cf/decode.js';
import { decodeTimes } from '../../src/cf/time.js';
import { writeNetcdf3, type NcFileDef } from '../../src/encoders/netcdf3/writer.js';
import { openNetcdf3, type Netcdf3Reader } from '../../src/readers/netcdf3/reader.js';
import { openFileSource } from '../../src/readers/source/file.js';
import { buildTestApp, discoverRoots, SHARED_DATA } from '../helpers/app.js';
import { referenceEntries, type ReferenceEntry } from '../helpers/data.js';
import { serveScratch, type ScratchServer } from '../helpers/scratch.js';

type Json = Record<string, unknown>;
interface CovJson {
  domain: {
    axes: Record<string, { values: Array<number | string> }>;
    referencing: Array<{ coordinates: string[]; system: { type: string; id?: string } }>;
  };
  parameters: Record<string, { unit?: { symbol: string }; observedProperty: { label: { en: string } } }>;
  ranges: Record<string, { axisNames: string[]; shape: number[]; values: Array<number | null>; dataType: string }>;
}

let app: FastifyInstance;
let synthetic: FastifyInstance;
let scratch: string;
let closeSynthetic: (() => Promise<void>) | undefined;

const COADS = 'coads_sst';
const GHRSST = '20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02-0-fv01-0';
const ADT = 'dt_med_allsat_phy_l4_2005T2';
const SEAICE = 'seaice_conc_monthly_nh_202112_f17_v04r00';
const COG = 'ghrsst_blk_analysed_sst_20160707_cog';

async function write(path: string, def: NcFileDef, data: Record<string, ArrayLike<number>>): Promise<void> {
  const parts: Uint8Array[] = [];
  for await (const chunk of writeNetcdf3(def, (name) => (data[name] ? [data[name]!] : undefined))) parts.push(chunk);
  await writeFile(path, Buffer.concat(parts));
}

/** A 0..360 global grid (value = 100000·t + 1000·lat index + lon index) and a folder of three daily files. */
async function makeSyntheticData(root: string): Promise<void> {
  const nx = 360;
  const ny = 4;
  const nt = 2;
  const values = new Float32Array(nt * ny * nx);
  for (let ti = 0; ti < nt; ti++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) values[(ti * ny + j) * nx + i] = 100000 * ti + 1000 * j + i;
  await write(
    join(root, 'world360.nc'),
    {
      dims: [
        { name: 'time', size: nt },
        { name: 'lat', size: ny },
        { name: 'lon', size: nx },
      ],
      attrs: { title: 'synthetic 0..360 grid' },
      variables: [
        { name: 'time', type: 'f8', dims: ['time'], attrs: { units: 'days since 2020-01-01', standard_name: 'time' } },
        { name: 'lat', type: 'f4', dims: ['lat'], attrs: { units: 'degrees_north' } },
        { name: 'lon', type: 'f4', dims: ['lon'], attrs: { units: 'degrees_east' } },
        { name: 'sst', type: 'f4', dims: ['time', 'lat', 'lon'], attrs: { units: 'degC', _FillValue: -999 } },
      ],
    },
    {
      time: [0, 1],
      lat: [-1.5, -0.5, 0.5, 1.5],
      lon: Float32Array.from({ length: nx }, (_, i) => i + 0.5),
      sst: values,
    },
  );
  await mkdir(join(root, 'daily'));
  // Names out of time order: the grid orders files by their time steps.
  for (const [name, day] of [
    ['b.nc', 0],
    ['a.nc', 1],
    ['c.nc', 2],
  ] as const) {
    await write(
      join(root, 'daily', name),
      {
        dims: [
          { name: 'time', size: 1 },
          { name: 'lat', size: 3 },
          { name: 'lon', size: 4 },
        ],
        variables: [
          {
            name: 'time',
            type: 'f8',
            dims: ['time'],
            attrs: { units: 'days since 2020-01-01', standard_name: 'time' },
          },
          { name: 'lat', type: 'f4', dims: ['lat'], attrs: { units: 'degrees_north' } },
          { name: 'lon', type: 'f4', dims: ['lon'], attrs: { units: 'degrees_east' } },
          {
            name: 'chl',
            type: 'i2',
            dims: ['time', 'lat', 'lon'],
            attrs: { units: 'mg m-3', scale_factor: 0.01, _FillValue: { type: 'i2', value: -1 } },
          },
        ],
      },
      {
        time: [day],
        lat: [10, 11, 12],
        lon: [20, 21, 22, 23],
        chl: Int16Array.from({ length: 12 }, (_, k) => (k === 5 ? -1 : 100 * day + k)),
      },
    );
  }
}

t.before(async () => {
  let server: ScratchServer;
  [app, server] = await Promise.all([
    buildTestApp(),
    serveScratch('odas-cov-test-', makeSyntheticData, { shared: false }),
  ]);
  ({ app: synthetic, scratch } = server);
  closeSynthetic = () => server.close();
});

t.teardown(async () => {
  await Promise.all([app?.close(), closeSynthetic?.()]);
});

async function get(server: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  return server.inject({ method: 'GET', url, headers });
}

async function covjson(server: FastifyInstance, url: string): Promise<CovJson> {
  const res = await get(server, url);
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as CovJson;
}

let ncCount = 0;
/** A NetCDF answer opened with our own NetCDF-3 reader. */
async function netcdf(server: FastifyInstance, url: string): Promise<Netcdf3Reader> {
  const res = await get(server, url);
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  const path = join(scratch, `out-${ncCount++}.nc`);
  await writeFile(path, res.rawPayload);
  return openNetcdf3(await openFileSource(path), path);
}

async function decoded(reader: Netcdf3Reader, name: string): Promise<Float64Array> {
  const v = (await reader.info()).variables.find((x) => x.name === name)!;
  return decodeNumeric(await reader.readRaw(name), v.attrs);
}

function near(a: number | null | undefined, b: number, rel = 1e-5): boolean {
  return typeof a === 'number' && Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));
}

function slice(e: ReferenceEntry): string {
  const c = e.coordinates!;
  if (c['xgrid'] !== undefined) return `subset=x(${c['xgrid']}),y(${c['ygrid']})`;
  const parts = [`Lon(${c['lon']})`, `Lat(${c['lat']})`];
  if (c['time']) parts.push(`time("${c['time']}")`);
  return `subset=${encodeURIComponent(parts.join(','))}`;
}

t.test('conformance, collection description and links', async (t) => {
  const conf = JSON.parse((await get(app, '/conformance')).body) as { conformsTo: string[] };
  for (const c of [
    'core',
    'subsetting-spatial',
    'subsetting-temporal',
    'scaling-spatial',
    'field-selection',
    'coveragejson',
    'netcdf',
    'geotiff',
    'coverage-subset',
    'coverage-bbox',
    'coverage-datetime',
    'coverage-rangesubset',
    'geodata-coverage',
  ]) {
    t.ok(conf.conformsTo.includes(`http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/${c}`), c);
  }
  const doc = JSON.parse((await get(app, `/collections/${COADS}`)).body) as Json & {
    links: Array<{ rel: string; type: string; href: string }>;
    extent: { spatial: Json; temporal: Json };
  };
  const cov = doc.links.filter((l) => l.rel === 'http://www.opengis.net/def/rel/ogc/1.0/coverage');
  t.same(cov.map((l) => l.type).sort(), [
    'application/vnd.cov+json',
    'application/x-netcdf',
    'image/tiff; application=geotiff',
  ]);
  t.ok(doc.links.some((l) => l.rel === 'http://www.opengis.net/def/rel/ogc/1.0/schema'));
  t.same(doc.extent.spatial['grid'], [
    { cellsCount: 180, resolution: 2 },
    { cellsCount: 90, resolution: 2 },
  ]);
  t.equal((doc.extent.temporal['grid'] as Json)['cellsCount'], 12);
  const ice = JSON.parse((await get(app, `/collections/${SEAICE}`)).body) as Json & {
    extent: { spatial: { bbox: number[][]; storageCrsBbox: number[][] } };
  };
  t.equal(
    (ice['crs'] as string[])[0],
    'http://www.opengis.net/def/crs/EPSG/0/3411',
    'a projected grid advertises its native CRS',
  );
  t.equal(ice['storageCrs'], 'http://www.opengis.net/def/crs/EPSG/0/3411');
  t.same(ice.extent.spatial.storageCrsBbox, [[-3850000, -5350000, 3750000, 5850000]]);
  t.equal(ice.extent.spatial.bbox[0]![3], 90, 'CRS84 extent through the projection includes the pole');
  const prof = await get(app, '/collections/1900857_prof/coverage');
  t.equal(prof.statusCode, 404, 'a feature collection has no coverage');
  t.match(prof.body, /not a coverage/);
  const schema = JSON.parse((await get(app, `/collections/${ADT}/schema`)).body) as {
    properties: Record<string, Json>;
  };
  t.same(Object.keys(schema.properties), ['adt']);
  t.equal(schema.properties['adt']!['x-ogc-unit'], 'm');
  const range = JSON.parse((await get(app, `/collections/${ADT}/coverage/rangetype`)).body) as { field: Json[] };
  t.equal(range.field[0]!['name'], 'adt');
  const domain = JSON.parse((await get(app, `/collections/${COADS}/coverage/domainset`)).body) as {
    generalGrid: { axisLabels: string[]; axis: Json[] };
  };
  t.same(
    domain.generalGrid.axisLabels,
    ['Lon', 'Lat', 'time'],
    "CRS order (x first) whatever the files' (TIME, COADSY, COADSX)",
  );
  t.match(
    domain.generalGrid.axis[0],
    { axisLabel: 'Lon', lowerBound: -180, upperBound: 180, resolution: 2 },
    'regular axes span cell edges: 180 cells of 2°',
  );
  t.match(domain.generalGrid.axis[1], { axisLabel: 'Lat', lowerBound: -90, upperBound: 90 });
});

t.test('MANIFEST reference values through CoverageJSON, NetCDF and GeoTIFF', async (t) => {
  const cases: Array<[string, string]> = [
    ['satellite/coads_sst.nc', COADS],
    ['satellite/coads_sst_classic.nc', 'coads_sst_classic'],
    ['satellite/dt_med_allsat_phy_l4_2005T2.nc', ADT],
    ['satellite/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc', GHRSST],
    ['satellite/seaice_conc_monthly_nh_202112_f17_v04r00.nc', SEAICE],
  ];
  for (const [file, id] of cases) {
    for (const e of referenceEntries(file)) {
      const v = e.variable!;
      const base = `/collections/${id}/coverage?${slice(e)}&properties=${v}`;
      const cj = await covjson(app, `${base}&f=covjson`);
      t.equal(cj.ranges[v]!.values.length, 1, `${id} ${slice(e)}: one cell`);
      t.ok(
        near(cj.ranges[v]!.values[0], Number(e.value)),
        `${id} CoverageJSON ${cj.ranges[v]!.values[0]} ≈ ${e.value}`,
      );
      const nc = await netcdf(app, `${base}&f=netcdf`);
      const got = (await decoded(nc, v))[0]!;
      t.ok(near(got, Number(e.value)), `${id} NetCDF ${got} ≈ ${e.value}`);
      if (e['raw_packed_value'] !== undefined) {
        const raw = await nc.readRaw(v);
        const stored = Number((raw.data as ArrayLike<number>)[0]);
        // Unsigned bytes travel as i1 with _Unsigned: the bits are the source's.
        const unsigned = (await nc.info()).variables.find((x) => x.name === v)!.attrs['_Unsigned'] === 'true';
        t.equal(
          unsigned && stored < 0 ? stored + 256 : stored,
          e['raw_packed_value'],
          `${id} NetCDF keeps the packed value`,
        );
      }
      await nc.close();
      const tif = await get(app, `${base}&f=tif`);
      t.equal(tif.statusCode, 200, `${id} GeoTIFF`);
      const image = await (await fromArrayBuffer(Uint8Array.from(tif.rawPayload).buffer)).getImage();
      const [band] = (await image.readRasters()) as unknown as Array<ArrayLike<number>>;
      // GeoTIFF carries physical values (packed fields unpacked), as GDAL's OGC API driver reads them.
      const physical = band![0]!;
      t.ok(near(physical, Number(e.value)), `${id} GeoTIFF ${physical} ≈ ${e.value}`);
    }
  }
});

t.test('a GeoTIFF collection (COG, north-up rows) serves its cells by longitude/latitude', async (t) => {
  for (const e of referenceEntries('geotiff/ghrsst_blk_analysed_sst_20160707_cog.tif')) {
    const c = e.coordinates!;
    const cj = await covjson(app, `/collections/${COG}/coverage?subset=Lon(${c['lon']}),Lat(${c['lat']})`);
    t.ok(
      near(cj.ranges['band1']!.values[0], Number(e['physical_value']), 1e-6),
      `COG ${cj.ranges['band1']!.values[0]} ≈ ${e['physical_value']}`,
    );
    const nc = await netcdf(app, `/collections/${COG}/coverage?subset=Lon(${c['lon']}),Lat(${c['lat']})&f=netcdf`);
    t.equal(Number((await nc.readRaw('band1')).data[0]), e.value, 'NetCDF carries the stored integer');
    await nc.close();
  }
  const box = await covjson(app, `/collections/${COG}/coverage?bbox=30,42,35,45`);
  const ys = box.domain.axes['y']!.values as number[];
  t.ok(ys[0]! > ys[ys.length - 1]!, 'latitude stays descending, as stored');
  t.ok(
    ys.every((y) => y >= 42 && y <= 45) && (box.domain.axes['x']!.values as number[]).every((x) => x >= 30 && x <= 35),
    'inside the bbox',
  );
  t.same(box.ranges['band1']!.shape, [ys.length, box.domain.axes['x']!.values.length]);
  t.same(box.ranges['band1']!.axisNames, ['y', 'x']);
  for (const e of referenceEntries('geotiff/RGB.byte.tif')) {
    const c = e.coordinates!;
    const cj = await covjson(
      app,
      `/collections/RGB-byte/coverage?subset=x(${c['x']}),y(${c['y']})&properties=band${e['band']}`,
    );
    t.equal(cj.ranges[`band${e['band']}`]!.values[0], e.value, `UTM GeoTIFF band ${e['band']} by native x/y`);
  }
});

t.test('descending latitude, packed integers, bbox alone', async (t) => {
  const cj = await covjson(app, `/collections/${ADT}/coverage?bbox=10,35,20,40&properties=adt`);
  t.same(cj.ranges['adt']!.shape, [91, 40, 80], 'bbox alone trims x and y, keeps all 91 days');
  t.equal(cj.ranges['adt']!.dataType, 'float');
  const nc = await netcdf(
    app,
    `/collections/${ADT}/coverage?bbox=10,35,20,40&datetime=2005-05-01T00:00:00Z/2005-05-10T00:00:00Z&f=netcdf`,
  );
  const info = await nc.info();
  const adt = info.variables.find((v) => v.name === 'adt')!;
  t.equal(adt.dtype, 'i2', 'packed values stay packed');
  t.equal(adt.attrs['scale_factor'], 0.0001);
  t.same(adt.shape, [10, 40, 80]);
  const times = decodeTimes(
    await decoded(nc, 'time'),
    String(info.variables.find((v) => v.name === 'time')!.attrs['units']),
  );
  t.equal(new Date(times[0]!).toISOString(), '2005-05-01T00:00:00.000Z');
  t.match(String(info.attrs['history']), /GET .*bbox=10,35,20,40/, 'history names the request');
  t.equal(info.attrs['geospatial_lon_min'], 10.0625);
  t.equal(info.attrs['time_coverage_end'], '2005-05-10T00:00:00Z');
  await nc.close();
  const ice = await covjson(
    app,
    `/collections/${SEAICE}/coverage?bbox=140,85,150,90&properties=cdr_seaice_conc_monthly`,
  );
  const ys = ice.domain.axes['y']!.values as number[];
  const xs = ice.domain.axes['x']!.values as number[];
  t.ok(
    ys.includes(237500) && xs.includes(-37500),
    'a CRS84 bbox on the polar grid covers the reference cell at 143.97E 87.78N',
  );
  t.equal(ice.domain.referencing[0]!.system.id, 'http://www.opengis.net/def/crs/EPSG/0/3411');
  t.ok(ys[0]! > ys[ys.length - 1]!, 'north-up rows, as stored');
  const native = await covjson(
    app,
    `/collections/${SEAICE}/coverage?bbox=-40000,230000,-30000,240000&bbox-crs=${encodeURIComponent('http://www.opengis.net/def/crs/EPSG/0/3411')}&properties=cdr_seaice_conc_monthly`,
  );
  t.same(native.ranges['cdr_seaice_conc_monthly']!.values, [1], 'a native-CRS bbox');
});

t.test('longitudes wrap on a 0..360 grid, across the antimeridian too', async (t) => {
  const west = await covjson(
    synthetic,
    '/collections/world360/coverage?bbox=-10,-1,10,1&datetime=2020-01-02T00:00:00Z',
  );
  const xs = west.domain.axes['x']!.values as number[];
  t.same(
    xs,
    Array.from({ length: 20 }, (_, k) => -9.5 + k),
    "x from -9.5 to 9.5 in the request's frame",
  );
  t.same(west.domain.axes['y']!.values, [-0.5, 0.5]);
  const expected: number[] = [];
  for (const j of [1, 2]) for (let k = 0; k < 20; k++) expected.push(100000 + 1000 * j + ((350 + k) % 360));
  t.same(west.ranges['sst']!.values, expected, 'each value from its source cell');
  const dateline = await covjson(synthetic, '/collections/world360/coverage?bbox=170,-1,-170,1');
  t.same(dateline.domain.axes['x']!.values, [
    ...Array.from({ length: 10 }, (_, k) => 170.5 + k),
    ...Array.from({ length: 10 }, (_, k) => -179.5 + k),
  ]);
  t.equal(dateline.ranges['sst']!.values[10], 1180, 'the cell at 180.5E (-179.5) follows 179.5E');
  const nc = await netcdf(synthetic, '/collections/world360/coverage?bbox=-10,-1,10,1&f=netcdf');
  t.same(Array.from(await decoded(nc, 'lon')).slice(0, 2), [-9.5, -8.5]);
  t.equal((await decoded(nc, 'sst'))[0], 1350);
  await nc.close();
  const tif = await get(synthetic, '/collections/world360/coverage?bbox=-10,-1,10,1&f=tif');
  const image = await (await fromArrayBuffer(Uint8Array.from(tif.rawPayload).buffer)).getImage();
  t.same(image.getOrigin().slice(0, 2), [-10, 1], 'GeoTIFF origin: west edge, north edge (rows flipped north-up)');
  const bands = (await image.readRasters()) as unknown as Float32Array[];
  t.equal(bands.length, 1, 'a GeoTIFF request without time gets one step: one band per field');
  t.equal(bands[0]![0], 102350, 'first row is the northernmost, of the latest step');
});

t.test('a folder of daily files is one coverage along time', async (t) => {
  const cols = JSON.parse((await get(synthetic, '/collections')).body) as { collections: Array<{ id: string }> };
  t.ok(cols.collections.some((c) => c.id === 'daily'));
  const all = await covjson(synthetic, '/collections/daily/coverage');
  t.same(
    all.domain.axes['t']!.values,
    ['2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z', '2020-01-03T00:00:00Z'],
    'files in time order, not name order',
  );
  t.equal(all.ranges['chl']!.values[5], null, 'fill value → null');
  t.equal(all.ranges['chl']!.values[12], 1, 'day 2 (a.nc): 100·0.01');
  const two = await netcdf(
    synthetic,
    '/collections/daily/coverage?datetime=2020-01-02T00:00:00Z/2020-01-03T00:00:00Z&f=netcdf',
  );
  t.same(Array.from(await decoded(two, 'time')), [1, 2], "raw time values in the files' units");
  t.same(Array.from(await decoded(two, 'chl')).slice(0, 2), [1, 1.01]);
  await two.close();
});

t.test('bad input is a 400 naming the parameter; sizes are checked before reading', async (t) => {
  const bad = async (query: string, re: RegExp) => {
    const res = await get(app, `/collections/${COADS}/coverage?${query}`);
    t.equal(res.statusCode, 400, query);
    const body = JSON.parse(res.body) as { code: string; description: string };
    t.equal(body.code, 'InvalidParameterValue');
    t.match(body.description, re, query);
  };
  await bad('subset=Depth(0:10)', /'subset': unknown axis 'Depth'.*Lat/);
  await bad('subset=Lat(20:10)', /'subset'.*low 20 is above high 10/);
  await bad(
    `subset=${encodeURIComponent('time("2000-05-01T00:00:00Z":"2000-02-01T00:00:00Z")')}`,
    /'subset'.*above high/,
  );
  await bad('bbox=10,95,20,99', /'bbox'/);
  await bad('bbox=100,-89.5,100.5,-89.2&subset=Lat(60:70)', /'subset'.*bbox both select along a spatial axis/);
  const outside = await get(app, `/collections/${COADS}/coverage?datetime=1990-01-01T00:00:00Z/1991-01-01T00:00:00Z`);
  t.equal(outside.statusCode, 204, 'an interval outside the 12 time steps: no content');
  await bad('properties=SST,NOPE', /'properties': unknown field 'NOPE'; available: SST, AIRT, /);
  await bad('scale-size=Lat(500)', /'scale-size'.*only downsampling/);
  await bad('crs=EPSG:3857', /'crs'/);
  await bad('f=xml', /'f'/);
  await bad('limit=10', /Unknown query parameter 'limit'/);
  const dry = JSON.parse(
    (await get(app, `/collections/${COADS}/coverage?f=netcdf&dry-run=true&properties=SST`)).body,
  ) as Json;
  t.equal(dry['cells'], 12 * 90 * 180);
  t.equal(dry['exact'], true);
  const url = `/collections/${COADS}/coverage?f=netcdf&properties=SST`;
  const head = await app.inject({ method: 'HEAD', url });
  t.equal(head.statusCode, 200);
  const full = await get(app, url);
  t.equal(Number(head.headers['content-length']), full.rawPayload.length, 'HEAD gives the exact NetCDF size');
  t.equal(Number(full.headers['content-length']), full.rawPayload.length, "so does the answer's Content-Length");
  t.ok(
    Math.abs(Number(dry['bytes']) - full.rawPayload.length) < 64,
    'dry-run: the same, but for the request URL in the history line',
  );
  process.env['ODAS_MAX_COVERAGE_BYTES'] = '1000000';
  try {
    const big = await get(app, `/collections/${COADS}/coverage?f=netcdf`);
    t.equal(big.statusCode, 413);
    const body = JSON.parse(big.body) as { code: string; description: string };
    t.equal(body.code, 'ResponseTooLarge');
    t.match(
      body.description,
      /about 3\.1 MB as NetCDF.*limit of 1\.0 MB.*along time into 4 requests of at most 3 time steps.*datetime=2000-01-16T06:00:00Z\//,
      'the estimate and a split along time',
    );
    process.env['ODAS_MAX_COVERAGE_BYTES'] = '100000';
    const bands = JSON.parse((await get(app, `/collections/${COADS}/coverage?f=netcdf`)).body) as {
      description: string;
    };
    t.match(
      bands.description,
      /bands of at most 2 rows along Lat \(the first: subset=Lat\(-89:-87\)\)/,
      'more pieces than time steps: latitude bands',
    );
  } finally {
    delete process.env['ODAS_MAX_COVERAGE_BYTES'];
  }
});

t.test('scaling: factors, sizes, GeoTIFF needs a regular grid', async (t) => {
  const f2 = await covjson(
    app,
    `/collections/${COADS}/coverage?scale-factor=2&properties=SST&subset=${encodeURIComponent('time("2000-01-16T06:00:00Z")')}`,
  );
  t.same(f2.ranges['SST']!.shape, [1, 45, 90]);
  const xs = f2.domain.axes['x']!.values as number[];
  t.ok(
    xs.every((x, i) => i === 0 || x - xs[i - 1]! === 4),
    'every other cell: spacing 4°',
  );
  const wh = await covjson(
    app,
    `/collections/${COADS}/coverage?width=30&height=20&properties=SST&datetime=2000-01-16T06:00:00Z`,
  );
  t.same(wh.ranges['SST']!.shape, [1, 20, 30]);
  const axes = await covjson(
    app,
    `/collections/${COADS}/coverage?scale-axes=Lon(3)&properties=SST&datetime=2000-01-16T06:00:00Z`,
  );
  t.same(axes.ranges['SST']!.shape, [1, 90, 60]);
  const irregular = await get(app, `/collections/${COADS}/coverage?width=37&properties=SST&f=tif`);
  t.equal(irregular.statusCode, 400);
  t.match(irregular.body, /irregular/);
});

t.test('a client that goes away stops the reads', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const server = await buildApp({
    collections: await discoverRoots([SHARED_DATA]),
    logger: pino({ level: 'info' }, sink),
  });
  t.teardown(() => server.close());
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  // 91 days × 128 × 344 values, about 24 MB of CoverageJSON: far more than one socket buffer.
  await new Promise<void>((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path: `/collections/${ADT}/coverage?f=covjson` }, (res) => {
      t.equal(res.statusCode, 200);
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err) => (err.message.includes('socket hang up') ? resolve() : reject(err)));
  });
  for (let i = 0; i < 50 && !lines.some((l) => l.includes('client went away')); i++)
    await new Promise((r) => setTimeout(r, 20));
  const line = lines.find((l) => l.includes('client went away'));
  t.ok(line, 'the stream ended early, its readers closed');
  t.ok(Number((JSON.parse(line ?? '{}') as { sent?: number }).sent) < 24_000_000, 'well before the end');
  const again = await server.inject({
    url: `/collections/${ADT}/coverage?subset=Lat(38.0625),Lon(15.5625),time("2005-04-01T00:00:00Z")`,
  });
  t.equal(again.statusCode, 200, 'the server keeps serving');
});

t.test('the committed OpenAPI document lists the coverage routes', async (t) => {
  const doc = JSON.parse((await get(app, '/api')).body) as { paths: Record<string, Json> };
  for (const p of [
    '/collections/{collectionId}/coverage',
    '/collections/{collectionId}/coverage/domainset',
    '/collections/{collectionId}/coverage/rangetype',
    '/collections/{collectionId}/schema',
  ]) {
    t.ok(doc.paths[p], p);
  }
});

t.test('one pipeline: the same cells through Coverages and EDR cube give the same NetCDF', async (t) => {
  /** Every variable (type, dims, attributes, stored bytes) and the global attributes but the request-specific ones. */
  interface NcVariable {
    dtype: string;
    dims: string[];
    shape: number[];
    attrs: Record<string, unknown>;
    values: number[];
  }
  interface NcContents {
    dims: unknown;
    globals: Json;
    variables: Record<string, NcVariable>;
  }
  async function contents(reader: Netcdf3Reader): Promise<NcContents> {
    const info = await reader.info();
    const globals = Object.fromEntries(
      Object.entries(info.attrs).filter(([k]) => k !== 'history' && k !== 'date_created'),
    );
    const variables: Record<string, NcVariable> = {};
    for (const v of info.variables) {
      const raw = await reader.readRaw(v.name);
      variables[v.name] = {
        dtype: v.dtype,
        dims: v.dims,
        shape: v.shape,
        attrs: v.attrs,
        values: Array.from(raw.data as ArrayLike<number>),
      };
    }
    await reader.close();
    return { dims: info.dims, globals, variables };
  }
  const cases: Array<[string, string, string, string, (c: NcContents) => void]> = [
    [COADS, 'bbox=0,0,10,10&datetime=2000-01-01T00:00:00Z/2000-06-30T00:00:00Z', '', '', () => undefined],
    [
      ADT,
      'bbox=15,38,17,40&datetime=2005-04-01T00:00:00Z/2005-04-10T00:00:00Z',
      '&properties=adt',
      '&parameter-name=adt',
      (c) => {
        t.equal(c.variables['adt']?.dtype, 'i2', 'adt stays int16');
        t.equal(c.variables['adt']?.attrs['scale_factor'], 0.0001, 'with its scale_factor');
      },
    ],
    [
      GHRSST,
      'bbox=30,42,32,44',
      '&properties=analysed_sst',
      '&parameter-name=analysed_sst',
      (c) => {
        t.equal(c.variables['analysed_sst']?.dtype, 'i2', 'analysed_sst stays int16');
        t.equal(
          c.variables['analysed_sst']?.attrs['add_offset'],
          Math.fround(273.149994),
          'with its add_offset (a float32)',
        );
      },
    ],
    [
      SEAICE,
      'bbox=130,80,160,88',
      '&properties=cdr_seaice_conc_monthly',
      '&parameter-name=cdr_seaice_conc_monthly',
      (c) => {
        const mapping = c.variables['cdr_seaice_conc_monthly']?.attrs['grid_mapping'];
        t.ok(typeof mapping === 'string' && c.variables[mapping], 'the projected grid keeps its grid_mapping variable');
      },
    ],
  ];
  for (const [id, where, properties, parameters, check] of cases) {
    const fromCoverages = await contents(
      await netcdf(app, `/collections/${id}/coverage?${where}${properties}&f=netcdf`),
    );
    const cube = await get(app, `/collections/${id}/cube?${where}${parameters}&f=NetCDF`);
    t.equal(cube.statusCode, 200, `${id}: cube ${cube.statusCode === 200 ? '' : cube.body}`);
    t.equal(cube.headers['content-type'], 'application/x-netcdf');
    const fromEdr = await contents(await netcdf(app, `/collections/${id}/cube?${where}${parameters}&f=NetCDF`));
    t.ok(Object.keys(fromEdr.variables).length > 1, `${id}: ${Object.keys(fromEdr.variables).join(', ')}`);
    t.same(fromEdr, fromCoverages, `${id}: identical variables (dtype, values, attributes) and global attributes`);
    check(fromEdr);
  }
  const area = await netcdf(
    app,
    `/collections/${ADT}/area?coords=${encodeURIComponent('POLYGON((15 38,17 38,15 40,15 38))')}&datetime=2005-04-01T00:00:00Z&parameter-name=adt&f=netcdf`,
  );
  const adt = (await area.info()).variables.find((v) => v.name === 'adt')!;
  t.equal(adt.dtype, 'i2', 'an EDR area answer stays packed too');
  const raw = Array.from((await area.readRaw('adt')).data as Int16Array);
  t.ok(raw.includes(-32767) && raw.some((v) => v !== -32767), 'cells outside the triangle hold the _FillValue');
  await area.close();
});
