import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_FILES, generateDemoData } from '../../src/demo/generate.js';
import type { Reader } from '../../src/readers/types.js';

const PYTHON = '/usr/bin/python3';
const hasNetCDF4 = spawnSync(PYTHON, ['-c', 'import netCDF4'], { stdio: 'ignore' }).status === 0;
const READER_TS = fileURLToPath(new URL('../../src/readers/netcdf3/reader.ts', import.meta.url));
const FILE_INDEX_TS = fileURLToPath(new URL('../../src/catalog/file-index.ts', import.meta.url));

const JULD_EPOCH = Date.UTC(1950, 0, 1);
const DAY_MS = 86_400_000;

async function openOurs(path: string): Promise<Reader> {
  const { openFileSource } = await import('../../src/readers/source/file.js');
  const { openNetcdf3 } = (await import(READER_TS)) as { openNetcdf3: (s: unknown, p: string) => Promise<Reader> };
  return openNetcdf3(await openFileSource(path), path);
}

/** Shapes, units and a few decoded values, as netCDF-C (python3-netcdf4) sees them. */
const PY_SUMMARY = String.raw`
import sys, json, netCDF4, numpy as np
out = {}
for path in sys.argv[1:]:
    d = netCDF4.Dataset(path)
    s = {'model': d.data_model, 'attrs': {k: str(d.getncattr(k)) for k in d.ncattrs()},
         'dims': {k: len(v) for k, v in d.dimensions.items()},
         'vars': {k: {'shape': list(v.shape), 'dtype': v.dtype.str, 'units': getattr(v, 'units', None),
                      'standard_name': getattr(v, 'standard_name', None)} for k, v in d.variables.items()}}
    for name in ('JULD', 'time'):
        if name in d.variables:
            t = netCDF4.num2date(d[name][:].compressed(), d[name].units, only_use_cftime_datetimes=False, only_use_python_datetimes=True)
            s['times'] = [t.min().isoformat(), t.max().isoformat()]
    for name in ('TEMP', 'PSAL', 'PRES', 'sst'):
        if name in d.variables:
            a = d[name][:]
            s.setdefault('ranges', {})[name] = [float(a.min()), float(a.max()), int(np.ma.count_masked(a))]
    if 'PLATFORM_NUMBER' in d.variables:
        s['platforms'] = sorted(set(str(x).strip() for x in netCDF4.chartostring(d['PLATFORM_NUMBER'][:])))
    if 'station_name' in d.variables:
        s['stations'] = [str(x) for x in netCDF4.chartostring(d['station_name'][:])]
    out[path] = s
print(json.dumps(out))
`;

interface PySummary {
  model: string;
  attrs: Record<string, string>;
  dims: Record<string, number>;
  vars: Record<string, { shape: number[]; dtype: string; units: string | null; standard_name: string | null }>;
  times?: [string, string];
  ranges?: Record<string, [number, number, number]>;
  platforms?: string[];
  stations?: string[];
}

t.test('demo data generation', async (t) => {
  const a = await mkdtemp(join(tmpdir(), 'odas-demo-a-'));
  const b = await mkdtemp(join(tmpdir(), 'odas-demo-b-'));
  t.teardown(() => Promise.all([rm(a, { recursive: true, force: true }), rm(b, { recursive: true, force: true })]));
  const pathsA = await generateDemoData(a);
  const pathsB = await generateDemoData(b);
  const [argo, grid, mooring] = pathsA as [string, string, string];

  t.test('writes the listed files, each under 1 MB', async (t) => {
    t.same(
      pathsA.map((p) => relative(a, p).split('\\').join('/')),
      [...DEMO_FILES],
    );
    for (const p of pathsA) {
      const { size } = await stat(p);
      t.ok(size > 10_000 && size < 1_000_000, `${relative(a, p)}: ${size} bytes`);
    }
  });

  t.test('is deterministic: two runs are byte-identical', async (t) => {
    for (let i = 0; i < pathsA.length; i++) {
      t.ok((await readFile(pathsA[i]!)).equals(await readFile(pathsB[i]!)), DEMO_FILES[i]!);
    }
  });

  t.test('is idempotent and repairs a damaged file', async (t) => {
    const before = await Promise.all(pathsA.map(async (p) => (await stat(p)).mtimeMs));
    const reference = await readFile(argo);
    t.same(await generateDemoData(a), pathsA);
    const after = await Promise.all(pathsA.map(async (p) => (await stat(p)).mtimeMs));
    t.same(after, before, 'present files are left alone');
    await truncate(argo, 1000);
    await generateDemoData(a);
    t.ok((await readFile(argo)).equals(reference), 'a truncated file is written again');
  });

  t.test(
    'python3-netcdf4 reads them with the declared structure',
    { skip: hasNetCDF4 ? false : 'python3-netcdf4 not installed' },
    async (t) => {
      const all = JSON.parse(execFileSync(PYTHON, ['-c', PY_SUMMARY, ...pathsA], { encoding: 'utf8' })) as Record<
        string,
        PySummary
      >;
      const p = all[argo]!;
      t.equal(p.model, 'NETCDF3_CLASSIC');
      t.match(p.dims, { N_PROF: 60, N_PARAM: 3, N_CALIB: 1, DATE_TIME: 14, STRING8: 8, STRING2: 2, N_HISTORY: 0 });
      t.ok(p.dims.N_LEVELS! >= 60 && p.dims.N_LEVELS! <= 80, `N_LEVELS ${p.dims.N_LEVELS}`);
      t.match(p.attrs, {
        Conventions: 'Argo-3.1 CF-1.6',
        featureType: 'trajectoryProfile',
        user_manual_version: '3.1',
      });
      t.match(p.vars.PLATFORM_NUMBER, { shape: [60, 8], dtype: '|S1' });
      t.match(p.vars.STATION_PARAMETERS, { shape: [60, 3, 16], dtype: '|S1' });
      t.match(p.vars.CYCLE_NUMBER, { shape: [60], dtype: '<i4' });
      t.match(p.vars.JULD, { shape: [60], dtype: '<f8', units: 'days since 1950-01-01 00:00:00 UTC' });
      t.match(p.vars.LATITUDE, { dtype: '<f8', units: 'degree_north' });
      for (const [name, units, std] of [
        ['PRES', 'decibar', 'sea_water_pressure'],
        ['TEMP', 'degree_Celsius', 'sea_water_temperature'],
        ['PSAL', 'psu', 'sea_water_salinity'],
      ]) {
        t.match(p.vars[name!], { shape: [60, p.dims.N_LEVELS], dtype: '<f4', units, standard_name: std });
        t.match(p.vars[`${name}_ADJUSTED`], { shape: [60, p.dims.N_LEVELS], units });
        t.match(p.vars[`${name}_QC`], { shape: [60, p.dims.N_LEVELS], dtype: '|S1' });
      }
      t.ok(p.times![0] >= '2021-01-01' && p.times![1] < '2023-01-01', `JULD ${p.times}`);
      t.same(p.platforms, ['6900001']);
      const [tMin, tMax, tFill] = p.ranges!.TEMP!;
      t.ok(tMin > 1.5 && tMin < 4 && tMax > 15 && tMax < 25, `TEMP ${tMin}..${tMax}`);
      t.ok(tFill > 0, 'some bottom levels are fill values');
      const [sMin, sMax] = p.ranges!.PSAL!;
      t.ok(sMin >= 34.2 && sMax <= 35.7, `PSAL ${sMin}..${sMax}`);
      t.ok(p.ranges!.PRES![1] > 1900 && p.ranges!.PRES![1] < 2100, 'profiles reach ~2000 dbar');

      const g = all[grid]!;
      t.same(g.dims, { time: 12, lat: 90, lon: 180 });
      t.match(g.vars.sst, {
        shape: [12, 90, 180],
        dtype: '<f4',
        units: 'degree_Celsius',
        standard_name: 'sea_surface_temperature',
      });
      t.match(g.vars.time, { units: 'days since 1970-01-01 00:00:00' });
      t.ok(g.times![0].startsWith('2021-01') && g.times![1].startsWith('2021-12'), `monthly 2021: ${g.times}`);
      const [gMin, gMax, land] = g.ranges!.sst!;
      t.ok(gMin >= -2 && gMax <= 32, `SST ${gMin}..${gMax}`);
      t.ok(land > 0.2 * 12 * 90 * 180 && land < 0.5 * 12 * 90 * 180, `land cells are fill values (${land})`);

      const m = all[mooring]!;
      t.equal(m.attrs.featureType, 'timeSeries');
      t.match(m.dims, { station: 1 });
      t.ok(m.dims.time! >= 1500 && m.dims.time! <= 2500);
      t.same(m.stations, ['DEMO-M1']);
      for (const [name, units] of [
        ['TEMP', 'degree_Celsius'],
        ['PSAL', '1'],
        ['PRES', 'decibar'],
      ]) {
        t.match(m.vars[name!], { shape: [1, m.dims.time], dtype: '<f4', units });
      }
      t.match(m.vars.lat, { shape: [1], units: 'degrees_north' });
      t.match(m.vars.lon, { shape: [1], units: 'degrees_east' });
      t.ok(m.times![1] > m.times![0] && m.times![0].startsWith('2021'));
    },
  );

  t.test(
    'our NetCDF-3 reader reads them',
    { skip: existsSync(READER_TS) ? false : 'src/readers/netcdf3/reader.ts not written yet' },
    async (t) => {
      const r = await openOurs(argo);
      t.teardown(() => r.close());
      const info = await r.info();
      t.equal(info.unlimited, 'N_HISTORY');
      t.equal(info.dims.N_PROF, 60);
      const byName = Object.fromEntries(info.variables.map((v) => [v.name, v]));
      t.same(byName.TEMP!.shape, [60, info.dims.N_LEVELS]);
      t.equal(byName.TEMP!.attrs.units, 'degree_Celsius');
      t.equal(byName.TEMP!.attrs._FillValue, 99999);
      t.equal(byName.JULD!.attrs.units, 'days since 1950-01-01 00:00:00 UTC');
      const juld = Array.from((await r.readRaw('JULD')).data as Float64Array);
      const dates = juld.map((d) => new Date(JULD_EPOCH + d * DAY_MS).toISOString());
      t.ok(
        dates.every((d) => d >= '2021-01-01' && d < '2023-01-01'),
        `${dates[0]} .. ${dates[dates.length - 1]}`,
      );
      t.ok(
        juld.every((d, i) => i === 0 || (d - juld[i - 1]! > 9 && d - juld[i - 1]! < 11)),
        '10-day cycles',
      );
      const platform = (await r.readRaw('PLATFORM_NUMBER', { N_PROF: [0, 1] })).data as Uint8Array;
      t.equal(Buffer.from(platform).toString('latin1'), '6900001 ');

      const m = await openOurs(mooring);
      t.teardown(() => m.close());
      const mi = await m.info();
      t.equal(mi.attrs.featureType, 'timeSeries');
      t.same(Object.fromEntries(mi.variables.map((v) => [v.name, v.shape])).TEMP, [1, mi.dims.time]);
      t.equal(mi.variables.find((v) => v.name === 'station_name')!.attrs.cf_role, 'timeseries_id');

      const g = await openOurs(grid);
      t.teardown(() => g.close());
      const sst = await g.readRaw('sst', { time: [0, 1] });
      t.same(sst.shape, [1, 90, 180]);
    },
  );

  t.test(
    'discovery classifies them',
    { skip: existsSync(FILE_INDEX_TS) ? false : 'src/catalog/file-index.ts not written yet' },
    async (t) => {
      const { indexFile } = (await import(FILE_INDEX_TS)) as typeof import('../../src/catalog/file-index.js');
      const kinds: Record<string, string | undefined> = {};
      for (const abs of pathsA) {
        const st = await stat(abs);
        const entry = await indexFile({ rel: relative(a, abs), abs, size: st.size, mtimeMs: st.mtimeMs });
        t.notOk(entry.skip, `${entry.rel}: ${entry.skip ?? 'indexed'}`);
        kinds[entry.rel] = entry.kind;
        if (entry.kind === 'profile') t.equal(entry.features?.length, 60, 'one feature per profile');
      }
      t.same(kinds, { [DEMO_FILES[0]]: 'profile', [DEMO_FILES[1]]: 'grid', [DEMO_FILES[2]]: 'timeSeries' });
    },
  );
});
