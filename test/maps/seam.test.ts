/**
 * Bilinear maps of global grids blend across the antimeridian and across a grid's own seam (a
 * 0..360 grid seen from -180 to 180): the pixels near 180° are the blend of the last and first
 * columns, as the source values say, not a stripe of the nearest column's colour.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { COLOUR_MAPS } from '../../src/encoders/render/colormaps.js';
import { discoverRoots } from '../helpers/app.js';
import { decodePng, pixel } from './png.js';

const dir = mkdtempSync(join(tmpdir(), 'odas-maps-seam-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// Two 1° global grids of the same field: v = 0 in the column just west of 180°, 10 in the one just
// east of it (-179.5), other columns in between; one with longitudes -179.5..179.5, one 0.5..359.5.
const made = spawnSync(
  '/usr/bin/python3',
  [
    '-c',
    `
import netCDF4, numpy as np
for name, lons in (('west_east', -179.5 + np.arange(360)), ('zero_360', 0.5 + np.arange(360))):
    ds = netCDF4.Dataset(${JSON.stringify(dir)} + '/' + name + '.nc', 'w')
    ds.createDimension('lat', 20); ds.createDimension('lon', 360)
    la = ds.createVariable('lat', 'f8', ('lat',)); la.units = 'degrees_north'; la[:] = -9.5 + np.arange(20)
    lo = ds.createVariable('lon', 'f8', ('lon',)); lo.units = 'degrees_east'; lo[:] = lons
    v = ds.createVariable('v', 'f4', ('lat', 'lon')); v.units = '1'
    east = np.where(lons > 180, lons - 360, lons)  # -180..180
    row = np.where(east > 0, (179.5 - east) / 359.0 * 5.0, 10.0 - (east + 179.5) / 359.0 * 5.0)
    v[:] = np.tile(row.astype('f4'), (20, 1))
    ds.close()
`,
  ],
  { encoding: 'utf8' },
);
if (made.status !== 0) throw new Error(`fixture: ${made.stderr}`);

let app: FastifyInstance;
let base: string;
t.before(async () => {
  app = await buildApp({ collections: await discoverRoots([dir]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(() => app?.close());

/** The colour of v on a 254-band viridis scale over [0, 10]. */
function colour(v: number): [number, number, number] {
  const b = Math.min(253, Math.max(0, Math.floor((v / 10) * 254)));
  const at = Math.round((b * 255) / 253);
  const lut = COLOUR_MAPS.get('viridis')!.lut;
  return [lut[at * 3]!, lut[at * 3 + 1]!, lut[at * 3 + 2]!];
}

async function row(layer: string, west: number, east: number, width: number): Promise<Array<number[]>> {
  const res = await fetch(
    `${base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${layer}/v&STYLES=viridis&CRS=CRS:84` +
      `&BBOX=${west},-1,${east},1&WIDTH=${width}&HEIGHT=2&FORMAT=image/png&COLORSCALERANGE=0,10&INTERPOLATION=bilinear`,
  );
  t.equal(res.status, 200);
  const img = decodePng(Buffer.from(await res.arrayBuffer()));
  return Array.from({ length: width }, (_, i) => pixel(img, i, 0));
}

for (const layer of ['west_east', 'zero_360']) {
  t.test(`${layer}: bilinear pixels at the antimeridian blend the columns on both sides`, async (t) => {
    // The whole globe in 0.25° pixels: the first four and last four pixels touch the antimeridian.
    const globe = await row(layer, -180, 180, 1440);
    const west = globe.slice(1436);
    const east = globe.slice(0, 4);
    // v(lon) between the column centres 179.5 (v = 0) and 180.5 = -179.5 (v = 10).
    const expected = (lon: number) => {
      const x = lon < 0 ? lon + 360 : lon;
      if (x <= 179.5) return ((179.5 - x) / 359) * 5;
      return (x - 179.5) * 10;
    };
    const centres = [179.125, 179.375, 179.625, 179.875];
    centres.forEach((lon, i) =>
      t.same(west[i]!.slice(0, 3), colour(expected(lon)), `pixel at ${lon}: v ${expected(lon).toFixed(3)}`),
    );
    [-179.875, -179.625, -179.375, -179.125].forEach((lon, i) => {
      const v = lon < -179.5 ? (lon + 180.5) * 10 : 10 - ((lon + 179.5) / 359) * 5;
      t.same(east[i]!.slice(0, 3), colour(v), `pixel at ${lon}: v ${v.toFixed(3)}`);
    });
    // No stripe: the two pixels touching 180° from either side are a quarter-cell blend apart.
    t.notSame(west[3]!.slice(0, 3), colour(0), 'west of 180°: not the west column alone');
    t.notSame(east[0]!.slice(0, 3), colour(10), 'east of -180°: not the east column alone');
  });
}

t.test('zero_360 seen whole from -180 to 180 blends across its own seam (0°) too', async (t) => {
  const globe = await row('zero_360', -180, 180, 1440);
  // Column centres -0.5 (359.5) and 0.5 around the file's seam: a straight line between them.
  const vWest = 10 - ((-0.5 + 179.5) / 359) * 5;
  const vEast = ((179.5 - 0.5) / 359) * 5;
  [-0.375, -0.125, 0.125, 0.375].forEach((lon) => {
    const v = vWest + (lon + 0.5) * (vEast - vWest);
    t.same(globe[(lon + 180) / 0.25 - 0.5]!.slice(0, 3), colour(v), `pixel at ${lon}: v ${v.toFixed(3)}`);
  });
});
