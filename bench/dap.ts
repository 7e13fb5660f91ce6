// OPeNDAP and ERDDAP benchmark (issue 13), on the ≥ 4 GB grid of bench/grid.ts (bench/out/big/sst_global_005.nc:
// 0.05° global daily, int16 + scale_factor, chunks 1×512×512, zlib; a link to the coordinator's copy is fine):
// - DAP2 read of the W3 box (20°×20°×10 days): python3-netCDF4 (Debian's netCDF-C DAP2 client) opening
//   /opendap/sst_global_005 and reading the box, against python3-netCDF4 reading the file directly, same run;
//   the raw .dods GET (no compression asked, as netCDF-C asks) is shown too, and the same box through
//   Coverages as NetCDF (the W3 workload of bench/grid.ts) with its first byte;
// - a point time series (all days) through griddap .csv against the EDR position answer (CoverageJSON).
// Medians of BENCH_REPEAT (5) runs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getStatus, indexDone } from './archive-server.js';
import { median, startServer, stopServer, timedGet } from './server.js';

const OUT = join(import.meta.dirname, 'out', 'big');
const FILE = join(OUT, 'sst_global_005.nc');
const REPEAT = Number(process.env['BENCH_REPEAT'] ?? 5);
/** The real Argo files (one float's profiles: 1900857_prof.nc) for the tabledap row. */
const ARGO = process.env['BENCH_ARGO_DIR'] ?? join(import.meta.dirname, '..', '..', 'shared', 'data', 'argo');
const PY = '/usr/bin/python3';

const latIndex = (lat: number) => Math.round((lat + 89.975) / 0.05);
const lonIndex = (lon: number) => Math.round((lon + 179.975) / 0.05);

function log(msg: string): void {
  process.stderr.write(`[dap] ${msg}\n`);
}

/** Median ms of `read()` over REPEAT runs in one python process, and the cells read. */
function python(body: string): { ms: number; cells: number } | { error: string } {
  const code = `
import time, netCDF4, numpy as np
${body}
ts = []
for _ in range(${REPEAT}):
    t0 = time.perf_counter()
    a = read()
    ts.append(time.perf_counter() - t0)
ts.sort()
print(ts[len(ts)//2] * 1000, a.size, float(np.ma.sum(a)))
`;
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').slice(-2).join(' ') };
  const [ms, cells, sum] = r.stdout.trim().split(/\s+/).map(Number);
  log(`python: ${ms!.toFixed(0)} ms, ${cells} cells, sum ${sum}`);
  return { ms: ms!, cells: cells! };
}

const readBox = (source: string, box: string) => `
def read():
    ds = netCDF4.Dataset(${JSON.stringify(source)})
    a = ds['sst'][${box}]
    ds.close()
    return a
`;

/** One GET without Accept-Encoding (as netCDF-C asks): total ms and bytes. */
function plainGet(url: string): Promise<{ ms: number; bytes: number; status: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ ms: performance.now() - t0, bytes, status: res.statusCode ?? 0 }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function repeatGet(
  url: string,
  plain: boolean,
): Promise<{ ms: number; firstByte: number; bytes: number } | { error: string }> {
  const ms: number[] = [];
  const firstBytes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REPEAT; i++) {
    const r = plain
      ? await plainGet(url).then((x) => ({ ...x, firstByte: NaN }))
      : await timedGet(url).then((x) => ({
          ms: x.totalMs,
          firstByte: x.firstByteMs,
          bytes: x.bytes,
          status: x.status,
        }));
    if (r.status !== 200) return { error: `status ${r.status}` };
    ms.push(r.ms);
    firstBytes.push(r.firstByte);
    bytes = r.bytes;
  }
  return { ms: median(ms), firstByte: median(firstBytes), bytes };
}

const fmt = (r: { ms: number } | { error: string }) => ('error' in r ? `failed: ${r.error}` : r.ms.toFixed(0));
const ratio = (a: { ms: number } | { error: string }, b: { ms: number } | { error: string }) =>
  'error' in a || 'error' in b ? NaN : a.ms / b.ms;

export async function benchDap(): Promise<string> {
  if (!existsSync(FILE))
    return "### OPeNDAP / ERDDAP\n\nSkipped: bench/out/big/sst_global_005.nc is missing (link the coordinator's copy or run BENCH_ONLY=grid once).\n";
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-bench-dap-'));
  const port = 20000 + Math.floor(Math.random() * 1000);
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(', ');
  log(`load average ${load}; starting the server`);
  const server = await startServer(existsSync(ARGO) ? [OUT, ARGO] : [OUT], cacheDir, port);
  try {
    const t0 = performance.now();
    for (;;) {
      const st = await getStatus(server.base).catch(() => undefined);
      if (st && indexDone(st)) break;
      if (performance.now() - t0 > 900_000) throw new Error('index not complete after 900 s');
      await new Promise((r) => setTimeout(r, 200));
    }
    const [y0, y1, x0, x1] = [latIndex(0.025), latIndex(19.975), lonIndex(0.025), lonIndex(19.975)];
    const box = `0:10, ${y0}:${y1 + 1}, ${x0}:${x1 + 1}`;
    const dapUrl = `${server.base}/opendap/sst_global_005`;
    log('W3 box: netCDF4 over DAP2');
    const viaDap = python(readBox(dapUrl, box));
    log('W3 box: netCDF4 on the file');
    const direct = python(readBox(FILE, box));
    log('W3 box: raw .dods');
    const dods = await repeatGet(`${dapUrl}.dods?sst.sst%5B0:1:9%5D%5B${y0}:1:${y1}%5D%5B${x0}:1:${x1}%5D`, true);
    log('W3 box: Coverages NetCDF');
    const coverage = await repeatGet(
      `${server.base}/collections/sst_global_005/coverage?bbox=0,0,20,20&datetime=2020-01-01T00:00:00Z/2020-01-10T00:00:00Z&properties=sst&f=netcdf`,
      false,
    );
    const pt = { lon: 10.025, lat: 20.025 };
    log('point series: griddap .csv');
    const griddap = await repeatGet(
      `${server.base}/erddap/griddap/sst_global_005.csv?sst%5B(0):(last)%5D%5B(${pt.lat})%5D%5B(${pt.lon})%5D`.replace(
        '(0):(last)',
        '0:last',
      ),
      false,
    );
    log('point series: EDR position');
    const edr = await repeatGet(
      `${server.base}/collections/sst_global_005/position?coords=POINT(${pt.lon}%20${pt.lat})&parameter-name=sst&f=CoverageJSON`,
      false,
    );
    log('one float: tabledap .csv and EDR cube CSV');
    const tabledapCsv = existsSync(ARGO)
      ? await repeatGet(
          `${server.base}/erddap/tabledap/d1900857_prof.csv?platform_number,cycle_number,time,latitude,longitude,pres,temp,psal&platform_number=%221900857%22`,
          false,
        )
      : { error: 'no Argo files' };
    const edrCsv = existsSync(ARGO)
      ? await repeatGet(`${server.base}/collections/1900857_prof/cube?bbox=-180,-90,180,90&f=CSV`, false)
      : { error: 'no Argo files' };
    const r4 = ratio(tabledapCsv, edrCsv);
    const r1 = ratio(viaDap, direct);
    const r2 = ratio(griddap, edr);
    const r3 = ratio(coverage, direct);
    const end = loadavg()
      .map((x) => x.toFixed(1))
      .join(', ');
    return [
      '### OPeNDAP / ERDDAP (issue 13)',
      '',
      `Load average at the start: ${load}, at the end: ${end} (2 cores shared with other sessions: ratios are within one run).`,
      '',
      '| workload | odas median ms | reference median ms | ratio | target | |',
      '|---|---|---|---|---|---|',
      `| W3 box 20°×20°×10 days, python3-netCDF4 over DAP2 (\`/opendap/sst_global_005\`, open + read) | ${fmt(viaDap)} | ${fmt(direct)} (python3-netCDF4 on the file, open + read) | ${r1.toFixed(2)} | ≤ 1.5× | ${r1 <= 1.5 ? 'met' : 'not met'} |`,
      `| the same box as one raw \`.dods\` GET (${'error' in dods ? '?' : (dods.bytes / 1e6).toFixed(1)} MB, no compression) | ${fmt(dods)} | ${fmt(direct)} | ${ratio(dods, direct).toFixed(2)} | | |`,
      `| the same box through Coverages as NetCDF (W3; first byte ${'error' in coverage ? '?' : coverage.firstByte.toFixed(0)} ms) | ${fmt(coverage)} | ${fmt(direct)} | ${r3.toFixed(2)} | ≤ 1.0× | ${r3 <= 1 ? 'met' : 'not met'} |`,
      `| one Argo float's profiles (1900857_prof.nc, 21 127 rows) through tabledap \`.csv\` (${'error' in tabledapCsv ? '?' : (tabledapCsv.bytes / 1e6).toFixed(2)} MB) | ${fmt(tabledapCsv)} | ${fmt(edrCsv)} (EDR cube over the whole collection as CSV, ${'error' in edrCsv ? '?' : (edrCsv.bytes / 1e6).toFixed(2)} MB) | ${r4.toFixed(2)} | | |`,
      `| point time series (all days) through griddap \`.csv\` | ${fmt(griddap)} | ${fmt(edr)} (EDR position, CoverageJSON) | ${r2.toFixed(2)} | ≤ 1.5× | ${r2 <= 1.5 ? 'met' : 'not met'} |`,
      '',
    ].join('\n');
  } finally {
    await stopServer(server.proc);
    await rm(cacheDir, { recursive: true, force: true });
  }
}
