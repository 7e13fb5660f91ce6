// Coverages and EDR benchmark on a ≥ 4 GB NetCDF-4 grid (0.05° global daily, int16 + scale_factor,
// chunks 1×512×512, zlib) that bench/make-big-grid.py writes, side by side with a direct read of
// the same window by Debian's python3-netcdf4 in the same run (the ratio is the figure that matters).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, peakRssMb, startServer, stopServer, timedGet, type Timed } from './server.js';

const OUT = join(import.meta.dirname, 'out', 'big');
const FILE = join(OUT, 'sst_global_005.nc');
const DAYS = Number(process.env['BENCH_BIG_DAYS'] ?? 100);
const REPEAT = Number(process.env['BENCH_REPEAT'] ?? 5);
const PY = '/usr/bin/python3';

/** Index windows of the generated grid: lat/lon cell centres at -89.975 + 0.05 i. */
const latIndex = (lat: number) => Math.round((lat + 89.975) / 0.05);
const lonIndex = (lon: number) => Math.round((lon + 179.975) / 0.05);

/** Seconds python3-netcdf4 takes to open the file and read `expr` (e.g. "v[0:10, 1800:2200, 3600:4000]"), median of REPEAT runs. */
function directRead(expr: string): { ms: number; cells: number } {
  const code = `
import time, netCDF4, sys
ts = []
for _ in range(${REPEAT}):
    t0 = time.perf_counter()
    ds = netCDF4.Dataset(${JSON.stringify(FILE)})
    v = ds['sst']
    a = ${expr}
    ts.append(time.perf_counter() - t0)
    ds.close()
ts.sort()
print(ts[len(ts)//2] * 1000, a.size)
`;
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3-netcdf4 reference failed: ${r.stderr}`);
  const [ms, cells] = r.stdout.trim().split(/\s+/).map(Number);
  return { ms: ms!, cells: cells! };
}

async function repeat(url: string, n = REPEAT): Promise<{ runs: Timed[]; medianMs: number; medianFirstByteMs: number }> {
  const runs: Timed[] = [];
  for (let i = 0; i < n; i++) runs.push(await timedGet(url));
  const bad = runs.find((r) => r.status !== 200);
  if (bad) throw new Error(`${url} answered ${bad.status}`);
  return { runs, medianMs: median(runs.map((r) => r.totalMs)), medianFirstByteMs: median(runs.map((r) => r.firstByteMs)) };
}

export async function benchGrid(): Promise<string> {
  if (!existsSync(FILE)) {
    const r = spawnSync(PY, [join(import.meta.dirname, 'make-big-grid.py'), FILE, String(DAYS)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not generate the benchmark grid (needs Debian python3-netcdf4)');
  }
  const size = statSync(FILE).size;
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-bench-grid-'));
  const port = 19000 + Math.floor(Math.random() * 1000);
  const lines: string[] = [];
  try {
    // A fresh server for the 130-million-cell stream, so its peak RSS is that request's.
    let server = await startServer([OUT], cacheDir, port);
    const coll = `${server.base}/collections/sst_global_005`;
    const big = await timedGet(`${coll}/coverage?datetime=2020-01-01T00:00:00Z/2020-01-05T00:00:00Z&f=netcdf`);
    const bigRss = await peakRssMb(server.proc.pid!);
    await stopServer(server.proc);
    let wentAway: number | undefined;
    server = await startServer([OUT], cacheDir, port, (entry) => {
      // The entry's own timestamp (the server's clock, ms): the log is written asynchronously, in batches.
      if (String(entry['msg'] ?? '').startsWith('client went away')) wentAway = Date.parse(String(entry['time']));
    });
    // A client that disconnects mid-stream: how long until the server's reads stop (its 'client went
    // away … reads stopped' line, logged in the generator's finally after the last read returns).
    const cut = await new Promise<number>((resolve, reject) => {
      let got = 0;
      const req = httpGet(`${coll}/coverage?datetime=2020-01-01T00:00:00Z/2020-01-05T00:00:00Z&f=netcdf`, (res) => {
        res.on('data', (d: Buffer) => {
          got += d.length;
          if (got >= 4e6) {
            const t = Date.now();
            req.destroy();
            resolve(t);
          }
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no data within 30 s')), 30_000);
    });
    for (let i = 0; i < 400 && wentAway === undefined; i++) await new Promise((r) => setTimeout(r, 5));
    const stopMs = wentAway === undefined ? NaN : wentAway - cut;

    const box = { w: 0, s: 0, e: 20, n: 20 };
    const sub = await repeat(`${coll}/coverage?bbox=${box.w},${box.s},${box.e},${box.n}&datetime=2020-01-01T00:00:00Z/2020-01-10T00:00:00Z&properties=sst&f=netcdf`);
    const subRef = directRead(`v[0:10, ${latIndex(box.s + 0.025)}:${latIndex(box.n - 0.025) + 1}, ${lonIndex(box.w + 0.025)}:${lonIndex(box.e - 0.025) + 1}]`);
    const pos = await repeat(`${coll}/position?coords=POINT(10.025 20.025)&parameter-name=sst&f=CoverageJSON`);
    const posRef = directRead(`v[:, ${latIndex(20.025)}, ${lonIndex(10.025)}]`);
    const area = await repeat(`${coll}/area?coords=POLYGON((10 10,12 10,12 12,10 12,10 10))&datetime=2020-01-01T00:00:00Z/2020-01-10T00:00:00Z&parameter-name=sst&f=CoverageJSON`);
    const areaRef = directRead(`v[0:10, ${latIndex(10.025)}:${latIndex(11.975) + 1}, ${lonIndex(10.025)}:${lonIndex(11.975) + 1}]`);
    const rss = await peakRssMb(server.proc.pid!);
    await stopServer(server.proc);

    const ms = (x: number) => x.toFixed(0);
    lines.push(
      `### Coverages and EDR on a ${(size / 1e9).toFixed(2)} GB NetCDF-4 grid (7200×3600×${DAYS} int16, chunks 1×512×512, zlib)`,
      '',
      `Client disconnecting after 4 MB of that subset: the server's reads stopped ${stopMs.toFixed(0)} ms after the socket was closed (its log line's timestamp, millisecond resolution, same clock).`,
      '',
      `130-million-cell subset (the globe, 5 days) to NetCDF: first byte after ${ms(big.firstByteMs)} ms, ${(big.bytes / 1e6).toFixed(0)} MB in ${(big.totalMs / 1000).toFixed(1)} s (${(big.bytes / 1e6 / (big.totalMs / 1000)).toFixed(0)} MB/s), status ${big.status}; server peak RSS ${bigRss.toFixed(0)} MB (fresh server, this request only).`,
      '',
      `| request | odas median ms (first byte) | python3-netcdf4 open+read median ms | ratio | odas bytes |`,
      '|---|---|---|---|---|',
      `| Coverages 20°×20°×10 days → NetCDF | ${ms(sub.medianMs)} (${ms(sub.medianFirstByteMs)}) | ${ms(subRef.ms)} (${subRef.cells} cells) | ${(sub.medianMs / subRef.ms).toFixed(2)} | ${sub.runs[0]!.bytes} |`,
      `| EDR position, all ${DAYS} days → CoverageJSON | ${ms(pos.medianMs)} (${ms(pos.medianFirstByteMs)}) | ${ms(posRef.ms)} (${posRef.cells} cells) | ${(pos.medianMs / posRef.ms).toFixed(2)} | ${pos.runs[0]!.bytes} |`,
      `| EDR area 2°×2°×10 days → CoverageJSON | ${ms(area.medianMs)} (${ms(area.medianFirstByteMs)}) | ${ms(areaRef.ms)} (${areaRef.cells} cells) | ${(area.medianMs / areaRef.ms).toFixed(2)} | ${area.runs[0]!.bytes} |`,
      '',
      `Server peak RSS over these requests: ${rss.toFixed(0)} MB. Medians of ${REPEAT} runs; the reference opens the file and reads the same window in the same run.`,
      '',
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
  return lines.join('\n');
}
