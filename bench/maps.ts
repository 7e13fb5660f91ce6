// BENCH_ONLY=maps: map tiles and WMS GetMap on the 4.34 GB grid (bench/out/big/sst_global_005.nc: 0.05° global
// daily SST, int16, 512 × 512 zlib chunks; link it from the coordinator's bench/out, do not copy it).
// Uncached tiles of zoom 0–3 (WebMercatorQuad), the same tiles again (the image cache), GetMap 1024 × 512 of the
// globe, the server's peak RSS; the reference is python3-netcdf4 reading the same strided globe in the same run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { peakRssMb, percentile, median, startServer, stopServer, timedGet } from './server.js';

const DIR = join(import.meta.dirname, 'out', 'big');
const FILE = join(DIR, 'sst_global_005.nc');
const LAYER = 'sst_global_005';
const log = (s: string) => process.stderr.write(`[maps] ${s}\n`);
const day = (d: number) => new Date(Date.UTC(2020, 0, 1 + d)).toISOString().slice(0, 10);

function pythonStridedGlobe(): number {
  const script = `
import time, netCDF4
ds = netCDF4.Dataset(${JSON.stringify(FILE)})
v = ds['sst']
times = []
for d in (40, 41, 42):
    t0 = time.perf_counter(); a = v[d, ::7, ::7]; times.append(time.perf_counter() - t0)
print(sorted(times)[1] * 1000)
`;
  return Number(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' }).trim());
}

export async function benchMaps(): Promise<string> {
  if (!existsSync(FILE))
    return `### Maps, tiles and WMS\n\nskipped: ${FILE} is missing (hard-link the coordinator's bench/out/big/sst_global_005.nc).\n`;
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-bench-maps-'));
  const port = 20000 + Math.floor(Math.random() * 1000);
  const server = await startServer([DIR], cacheDir, port);
  const lines: string[] = [];
  try {
    const base = server.base;
    // The first image of a layer also reads the field once, coarsely, for its colour range (no valid_min/max here).
    const warm = await timedGet(`${base}/collections/${LAYER}/map/tiles/WebMercatorQuad/0/0/0?datetime=${day(0)}`);
    log(`first tile (with the colour range read): ${warm.totalMs.toFixed(0)} ms, status ${warm.status}`);
    const tiles: Array<{ z: number; path: string }> = [];
    for (let z = 0; z <= 3; z++)
      for (let r = 0; r < 2 ** z; r++)
        for (let c = 0; c < 2 ** z; c++)
          tiles.push({ z, path: `/collections/${LAYER}/map/tiles/WebMercatorQuad/${z}/${r}/${c}?datetime=${day(10)}` });
    const uncached: Record<number, number[]> = { 0: [], 1: [], 2: [], 3: [] };
    const cached: number[] = [];
    let failures = 0;
    for (const t of tiles) {
      const res = await timedGet(`${base}${t.path}`);
      if (res.status !== 200) failures++;
      uncached[t.z]!.push(res.totalMs);
    }
    for (const t of tiles) {
      const res = await timedGet(`${base}${t.path}`);
      if (res.status !== 200) failures++;
      cached.push(res.totalMs);
    }
    const getMap: number[] = [];
    for (const d of [20, 21, 22, 23, 24]) {
      const res = await timedGet(
        `${base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${LAYER}/sst&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=1024&HEIGHT=512&FORMAT=image/png&TIME=${day(d)}`,
      );
      if (res.status !== 200) failures++;
      getMap.push(res.totalMs);
    }
    const rss = await peakRssMb(server.proc.pid!);
    log('python3-netcdf4 reference');
    const py = pythonStridedGlobe();
    const all = Object.values(uncached).flat();
    const row = (label: string, xs: number[], target: string) =>
      `| ${label} | ${xs.length} | ${median(xs).toFixed(0)} | ${percentile(xs, 95).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${target} |`;
    lines.push(
      '### Maps, tiles and WMS (issue 12)',
      '',
      `The 4.34 GB grid (7200 × 3600 × 100 days, int16, 512 × 512 zlib chunks), one server, requests one after another. Load average at the start: ${load} (a shared, loaded machine: eight sessions on two cores).`,
      '',
      '| request | n | median ms | p95 ms | max ms | target |',
      '|---|---|---|---|---|---|',
      row('tile 256² zoom 0, uncached', uncached[0]!, 'p95 < 250'),
      row('tile 256² zoom 1, uncached', uncached[1]!, 'p95 < 250'),
      row('tile 256² zoom 2, uncached', uncached[2]!, 'p95 < 250'),
      row('tile 256² zoom 3, uncached', uncached[3]!, 'p95 < 250'),
      row('tiles zoom 0–3, uncached', all, 'p95 < 250'),
      row('tiles zoom 0–3, cached (image cache)', cached, 'p95 < 20'),
      row('WMS GetMap 1024×512 globe, 5 days', getMap, '< 1000'),
      '',
      `First tile of the layer, with the coarse read for its colour range: ${warm.totalMs.toFixed(0)} ms. Server peak RSS: ${rss.toFixed(0)} MB. Failed requests: ${failures}.`,
      `Reference in the same run: python3-netcdf4 reads the globe strided (\`sst[d, ::7, ::7]\`, 1029 × 515) in ${py.toFixed(0)} ms (median of 3).`,
      `Load average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(', ')}.`,
      '',
    );
  } finally {
    await stopServer(server.proc);
  }
  return lines.join('\n');
}
