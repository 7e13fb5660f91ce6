// `npx tsx bench/hdf5-paths.ts` (after `npm run build` and one `BENCH_ONLY=grid npm run bench`, which
// writes the big grid): the HDF5 read paths side by side on the 4.3 GB grid. One server reads chunks
// directly (native zlib), one through h5wasm (ODAS_HDF5_DIRECT=0), and python3-netcdf4 reads the same
// window; the three take turns on every round, so the load of a shared machine falls on all alike.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, peakRssMb, startServer, stopServer, timedGet, type RunningServer } from './server.js';

const OUT = join(import.meta.dirname, 'out', 'big');
const FILE = join(OUT, 'sst_global_005.nc');
const ROUNDS = Number(process.env['BENCH_REPEAT'] ?? 5);
const PY = '/usr/bin/python3';
const lat = (v: number) => Math.round((v + 89.975) / 0.05);
const lon = (v: number) => Math.round((v + 179.975) / 0.05);

/** Milliseconds python3-netcdf4 takes to open the file and read `expr` once (raw: no mask/scale). */
function python(expr: string, raw = false): number {
  const code = `
import time, netCDF4
t0 = time.perf_counter()
ds = netCDF4.Dataset(${JSON.stringify(FILE)})
v = ds['sst']
${raw ? 'v.set_auto_maskandscale(False)' : ''}
a = ${expr}
print((time.perf_counter() - t0) * 1000)
`;
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3-netcdf4 failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

async function server(direct: boolean, cacheDir: string, port: number): Promise<RunningServer> {
  // spawn copies the environment at call time: each server gets its own setting.
  process.env['ODAS_HDF5_DIRECT'] = direct ? '1' : '0';
  return startServer([OUT], cacheDir, port);
}

interface Case {
  name: string;
  path: string;
  py: string;
  rounds: number;
}

const cases: Case[] = [
  {
    name: 'globe × 5 days → NetCDF (130 M cells)',
    path: 'coverage?datetime=2020-01-01T00:00:00Z/2020-01-05T00:00:00Z&f=netcdf',
    py: 'v[0:5]',
    rounds: 3,
  },
  {
    name: 'Coverages 20°×20°×10 days → NetCDF',
    path: 'coverage?bbox=0,0,20,20&datetime=2020-01-01T00:00:00Z/2020-01-10T00:00:00Z&properties=sst&f=netcdf',
    py: `v[0:10, ${lat(0.025)}:${lat(19.975) + 1}, ${lon(0.025)}:${lon(19.975) + 1}]`,
    rounds: ROUNDS,
  },
  {
    name: 'EDR position (W1), all 100 days → CoverageJSON',
    path: 'position?coords=POINT(10.025 20.025)&parameter-name=sst&f=CoverageJSON',
    py: `v[:, ${lat(20.025)}, ${lon(10.025)}]`,
    rounds: ROUNDS,
  },
  {
    name: 'EDR area 2°×2°×10 days → CoverageJSON',
    path: 'area?coords=POLYGON((10 10,12 10,12 12,10 12,10 10))&datetime=2020-01-01T00:00:00Z/2020-01-10T00:00:00Z&parameter-name=sst&f=CoverageJSON',
    py: `v[0:10, ${lat(10.025)}:${lat(11.975) + 1}, ${lon(10.025)}:${lon(11.975) + 1}]`,
    rounds: ROUNDS,
  },
];

if (!existsSync(FILE)) throw new Error(`${FILE} missing: run BENCH_ONLY=grid npm run bench once`);
const cacheA = await mkdtemp(join(tmpdir(), 'odas-bench-a-'));
const cacheB = await mkdtemp(join(tmpdir(), 'odas-bench-b-'));
const base = 19000 + Math.floor(Math.random() * 900);
const a = await server(true, cacheA, base);
const b = await server(false, cacheB, base + 1);
const lines = [
  '| request | direct ms | h5wasm ms | python3-netcdf4 ms | direct / python | h5wasm / python |',
  '|---|---|---|---|---|---|',
];
try {
  for (const c of cases) {
    const ta: number[] = [];
    const tb: number[] = [];
    const tp: number[] = [];
    const traw: number[] = [];
    let bytes = 0;
    for (let i = 0; i < c.rounds; i++) {
      const ra = await timedGet(`${a.base}/collections/sst_global_005/${c.path}`);
      const rb = await timedGet(`${b.base}/collections/sst_global_005/${c.path}`);
      if (ra.status !== 200 || rb.status !== 200) throw new Error(`${c.name}: status ${ra.status}/${rb.status}`);
      if (ra.bytes !== rb.bytes) throw new Error(`${c.name}: ${ra.bytes} bytes direct, ${rb.bytes} through h5wasm`);
      bytes = ra.bytes;
      ta.push(ra.totalMs);
      tb.push(rb.totalMs);
      tp.push(python(c.py));
      if (i === 0 && c.rounds === 3) traw.push(python(c.py, true));
      if (i === 0 && ta.length === 1 && c === cases[0]) {
        lines.unshift(
          `Peak RSS after the first globe request (fresh servers): direct ${(await peakRssMb(a.proc.pid!)).toFixed(0)} MB, h5wasm ${(await peakRssMb(b.proc.pid!)).toFixed(0)} MB.`,
          '',
        );
      }
    }
    const [ma, mb, mp] = [median(ta), median(tb), median(tp)];
    const raw = traw.length ? ` (raw ints, no mask/scale: ${traw[0]!.toFixed(0)})` : '';
    lines.push(
      `| ${c.name} (${(bytes / 1e6).toFixed(1)} MB) | ${ma.toFixed(0)} | ${mb.toFixed(0)} | ${mp.toFixed(0)}${raw} | ${(ma / mp).toFixed(2)} | ${(mb / mp).toFixed(2)} |`,
    );
  }
  lines.push(
    '',
    `Peak RSS over all requests: direct ${(await peakRssMb(a.proc.pid!)).toFixed(0)} MB, h5wasm ${(await peakRssMb(b.proc.pid!)).toFixed(0)} MB. Medians of ${ROUNDS} rounds (globe: 3).`,
  );
} finally {
  await Promise.all([stopServer(a.proc), stopServer(b.proc)]);
  await Promise.all([rm(cacheA, { recursive: true, force: true }), rm(cacheB, { recursive: true, force: true })]);
}
process.stdout.write(`${lines.join('\n')}\n`);
