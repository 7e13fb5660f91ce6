/**
 * CF §8.1: a valid_range / valid_min / valid_max of the packed (stored) type is in packed units, one
 * of the unpacked (floating) type in physical units. RSS SSMIS files declare wind_speed int16,
 * scale_factor 0.2 and a float valid_range [0, 50] m/s: every wind from 10 to 50 m/s is good data.
 *
 * python3-netCDF4 writes a small NetCDF-3 and a NetCDF-4 file of that shape (winds 0..60 m/s) plus a
 * variable whose int16 valid_range [0, 50] is in packed units (0..10 m/s); a listening server answers
 * Coverages (CoverageJSON and NetCDF, read back by python3-netCDF4) and EDR position queries.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { discoverRoots } from '../helpers/app.js';
import { httpJson, listen } from '../helpers/http.js';

const PYTHON = '/usr/bin/python3';
const hasNetCDF4 = spawnSync(PYTHON, ['-c', 'import netCDF4'], { stdio: 'ignore' }).status === 0;

const NX = 16;
const NY = 2;
/** Wind (m/s) of cell k (row-major lat, lon): 0, 2, 4 … 60, then 60 again. */
const wind = (k: number): number => Math.min(2 * k, 60);
const lonOf = (i: number): number => -179 + 2 * i;
const latOf = (j: number): number => -1 + 2 * j;

const WRITE = String.raw`
import sys, numpy as np, netCDF4
path, fmt = sys.argv[1], sys.argv[2]
d = netCDF4.Dataset(path, 'w', format=fmt)
d.Conventions = 'CF-1.6'
d.createDimension('lat', ${NY}); d.createDimension('lon', ${NX})
lat = d.createVariable('lat', 'f4', ('lat',)); lat.units = 'degrees_north'; lat.standard_name = 'latitude'
lon = d.createVariable('lon', 'f4', ('lon',)); lon.units = 'degrees_east'; lon.standard_name = 'longitude'
lat[:] = [-1 + 2 * j for j in range(${NY})]
lon[:] = [-179 + 2 * i for i in range(${NX})]
stored = np.array([min(2 * k, 60) for k in range(${NX * NY})], dtype='f8').reshape(${NY}, ${NX}) / 0.2
for name, vr in (('wind_speed', np.array([0, 50], 'f4')), ('wind_packed_range', np.array([0, 50], 'i2'))):
    v = d.createVariable(name, 'i2', ('lat', 'lon'), fill_value=np.int16(-32767))
    v.set_auto_maskandscale(False)
    v.units = 'm s-1'
    v.scale_factor = np.float32(0.2)
    v.add_offset = np.float32(0)
    v.setncattr('valid_range', vr)  # attribute assignment would cast it to the variable's type
    v[:] = np.round(stored).astype('i2')
d.close()
`;

/** The NetCDF answer as python3-netCDF4 sees it: valid_range's type and the stored integers. */
const INSPECT = String.raw`
import sys, json, netCDF4
d = netCDF4.Dataset(sys.argv[1]); d.set_auto_maskandscale(False)
out = {}
for name in ('wind_speed', 'wind_packed_range'):
    v = d[name]
    out[name] = {'valid_range_dtype': v.valid_range.dtype.str, 'valid_range': [float(x) for x in v.valid_range],
                 'dtype': v.dtype.str, 'stored': [int(x) for x in v[:].ravel()]}
# xarray ignores valid_range and unpacks with scale_factor: the winds come back 0..60 m/s.
import xarray
with xarray.open_dataset(sys.argv[1]) as x:
    out['xarray_wind_speed'] = [round(float(w), 3) for w in x['wind_speed'].values.ravel()]
print(json.dumps(out))
`;

interface Inspected {
  valid_range_dtype: string;
  valid_range: number[];
  dtype: string;
  stored: number[];
}

/** Expected decoded winds: inside [lo, hi] m/s kept, others null. */
function expected(lo: number, hi: number): (number | null)[] {
  return Array.from({ length: NX * NY }, (_, k) => (wind(k) >= lo && wind(k) <= hi ? wind(k) : null));
}

function rounded(values: (number | null)[]): (number | null)[] {
  return values.map((v) => (v === null ? null : Math.round(v * 1000) / 1000));
}

t.test(
  'a float valid_range on packed int16 data is in m/s',
  { skip: !hasNetCDF4 && 'python3-netCDF4 missing' },
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'odas-validrange-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const files = { ssmis_nc3: 'NETCDF3_CLASSIC', ssmis_nc4: 'NETCDF4' } as const;
    for (const [stem, fmt] of Object.entries(files)) {
      execFileSync(PYTHON, ['-c', WRITE, join(dir, `${stem}.nc`), fmt]);
    }
    const app = await buildApp({ collections: await discoverRoots([dir]) });
    t.teardown(() => app.close());
    const base = await listen(app);

    for (const id of Object.keys(files)) {
      t.test(id, async (t) => {
        // CoverageJSON: the whole grid of each field.
        for (const [field, lo, hi] of [
          ['wind_speed', 0, 50],
          ['wind_packed_range', 0, 10],
        ] as const) {
          const res = await httpJson<{ ranges: Record<string, { values: (number | null)[] }> }>(
            base,
            `/collections/${id}/coverage?properties=${field}&f=covjson`,
          );
          t.equal(res.status, 200, `${field} coverage`);
          t.same(
            rounded(res.body.ranges[field]!.values),
            expected(lo, hi),
            `${field}: CoverageJSON keeps ${lo}..${hi} m/s`,
          );
        }

        // EDR position: 40 m/s is good data, 56 m/s is above the range.
        const at = async (k: number, field: string): Promise<number | null | undefined> => {
          const coords = encodeURIComponent(`POINT(${lonOf(k % NX)} ${latOf(Math.floor(k / NX))})`);
          const res = await httpJson<{ ranges: Record<string, { values: (number | null)[] }> }>(
            base,
            `/collections/${id}/position?coords=${coords}&parameter-name=${field}&f=CoverageJSON`,
          );
          t.equal(res.status, 200, `position ${k}`);
          return res.body.ranges[field]?.values[0];
        };
        t.equal(Math.round((await at(20, 'wind_speed'))! * 1000) / 1000, 40, 'EDR: 40 m/s survives');
        t.equal(Math.round((await at(6, 'wind_speed'))! * 1000) / 1000, 12, 'EDR: 12 m/s survives');
        t.equal(await at(28, 'wind_speed'), null, 'EDR: 56 m/s is out of range');
        t.equal(await at(20, 'wind_packed_range'), null, 'EDR: an int16 range [0, 50] is 0..10 m/s');

        // NetCDF: packed values unchanged, valid_range keeps its own type.
        const ncRes = await fetch(`${base}/collections/${id}/coverage?f=netcdf`);
        t.equal(ncRes.status, 200, 'NetCDF coverage');
        const out = join(dir, `${id}-out.nc`);
        await writeFile(out, Buffer.from(await ncRes.arrayBuffer()));
        const seen = JSON.parse(execFileSync(PYTHON, ['-c', INSPECT, out], { encoding: 'utf8' })) as Record<
          string,
          Inspected
        > & { xarray_wind_speed: number[] };
        const stored = Array.from({ length: NX * NY }, (_, k) => Math.round(wind(k) / 0.2));
        t.match(seen['wind_speed'], { dtype: '<i2', valid_range: [0, 50], stored });
        t.match(seen['wind_speed']!.valid_range_dtype, /^<f[48]$/, 'a float valid_range stays float');
        t.match(seen['wind_packed_range'], { dtype: '<i2', valid_range_dtype: '<i2', valid_range: [0, 50], stored });
        t.same(
          seen.xarray_wind_speed,
          Array.from({ length: NX * NY }, (_, k) => wind(k)),
          'xarray unpacks the NetCDF answer to 0..60 m/s',
        );
      });
    }
  },
);
