/**
 * A client that closes the socket before its map is drawn stops the reads: the decimated read's
 * worker tasks still queued are dropped (picksStats), fewer chunks than the map needs are decoded,
 * and the request is logged as the client's doing (499, info level), never as a 5xx failure.
 * Events only: the socket is closed once the first decoding task has finished, the assertions wait
 * for the log line and the counters, never for a duration.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { picksStats } from '../../src/readers/hdf5/engine.js';
import { discoverRoots } from '../helpers/app.js';

const dir = mkdtempSync(join(tmpdir(), 'odas-maps-abort-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// 3600 × 1800 int16 cells in 64 × 64 zlib chunks: 1 653 chunks, about 414 decoding tasks for one map.
const CHUNKS = Math.ceil(3600 / 64) * Math.ceil(1800 / 64);
const made = spawnSync(
  '/usr/bin/python3',
  [
    '-c',
    `
import netCDF4, numpy as np
ds = netCDF4.Dataset(${JSON.stringify(join(dir, 'noise.nc'))}, 'w')
ds.createDimension('lat', 1800); ds.createDimension('lon', 3600)
la = ds.createVariable('lat', 'f8', ('lat',)); la.units = 'degrees_north'; la[:] = -89.95 + 0.1 * np.arange(1800)
lo = ds.createVariable('lon', 'f8', ('lon',)); lo.units = 'degrees_east'; lo[:] = -179.95 + 0.1 * np.arange(3600)
v = ds.createVariable('noise', 'i2', ('lat', 'lon'), zlib=True, complevel=1, chunksizes=(64, 64))
v.units = '1'
v[:] = np.random.default_rng(1).integers(0, 1000, size=(1800, 3600), dtype='i2')
ds.close()
`,
  ],
  { encoding: 'utf8' },
);
if (made.status !== 0) throw new Error(`fixture: ${made.stderr}`);

t.test('closing the socket of a big GetMap stops its reads; the access log is no 5xx', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const app = await buildApp({ collections: await discoverRoots([dir]), logger: pino({ level: 'info' }, sink) });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const path =
    '/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=noise/noise&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90' +
    '&WIDTH=1024&HEIGHT=512&FORMAT=image/png&COLORSCALERANGE=0,1000';
  const before = { ...picksStats };
  const req = httpGet({ host: '127.0.0.1', port, path });
  req.on('error', () => undefined); // the socket hang-up we cause
  req.on('response', () => t.fail('the map was answered before the socket closed'));
  // Close once the first decoding task has finished: the read is under way, most of it still queued.
  while (picksStats.tasks === before.tasks) await new Promise((r) => setImmediate(r));
  req.destroy();
  // The access line of the request: 499 at info level, the client's doing.
  const access = () => lines.find((l) => l['status'] === 499 && String(l['url']).startsWith('/wms'));
  while (!access()) await new Promise((r) => setImmediate(r));
  t.equal(access()!['level'], 30, 'access line at info level');
  t.match(String(access()!['msg']), /closed by the client/);
  // Every queued decoding task of the read is dropped when its signal aborts.
  while (picksStats.dropped === before.dropped) await new Promise((r) => setImmediate(r));
  const decoded = picksStats.chunks - before.chunks;
  t.ok(decoded < CHUNKS, `${decoded} of the ${CHUNKS} chunks decoded: the read stopped`);
  t.ok(picksStats.dropped > before.dropped, `${picksStats.dropped - before.dropped} queued tasks dropped`);
  const mine = lines.filter((l) => l['reqId'] === access()!['reqId']);
  t.notOk(
    mine.some((l) => Number(l['level']) >= 50 || Number(l['status']) >= 500),
    'no error line, no 5xx for the request',
  );
  t.equal(mine.filter((l) => l['status'] !== undefined && l['url'] !== undefined).length, 1, 'one access line');
  // The server keeps serving the same layer.
  const again = await fetch(`http://127.0.0.1:${port}${path.replace('WIDTH=1024&HEIGHT=512', 'WIDTH=64&HEIGHT=32')}`);
  t.equal(again.status, 200);
});
