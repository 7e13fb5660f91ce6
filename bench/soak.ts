// BENCH_ONLY=soak: the load mix at SOAK_CLIENTS (default 50) for SOAK_SECONDS (default 1800) against one
// server as shipped, sampling its resident memory (/proc/PID/status VmRSS) and open file descriptors
// (/proc/PID/fd) every 30 s. Drift is the last sample against the first one after the warm-up minute
// (caches and the worker threads filled); the series is printed whole.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { h2loadInstalled } from './h2load.js';
import { DATA, freePort, HEAVY, loadAvg, OUT, procStat, runMix, writePathFiles } from './load.js';
import { startServer, stopServer } from './server.js';

const CLIENTS = Number(process.env['SOAK_CLIENTS'] ?? 50);
const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 1800);
const EVERY_MS = 30_000;

export async function benchSoak(): Promise<string> {
  if (!(await h2loadInstalled()))
    return '### Soak\n\nh2load is not installed (apt-get install nghttp2-client): skipped.\n';
  await mkdir(OUT, { recursive: true });
  const cacheDir = join(OUT, 'soak-cache');
  await rm(cacheDir, { recursive: true, force: true });
  const server = await startServer([DATA], cacheDir, await freePort());
  const pid = server.proc.pid!;
  const samples: Array<{ s: number; rssMb: number; fds: number; load: string }> = [];
  const loadBefore = loadAvg();
  try {
    const pathFiles = await writePathFiles(server.base);
    await (await fetch(`${server.base}${HEAVY}`)).arrayBuffer();
    const t0 = Date.now();
    const sample = async () =>
      samples.push({ s: Math.round((Date.now() - t0) / 1000), ...(await procStat(pid)), load: loadAvg() });
    await sample();
    const timer = setInterval(() => void sample(), EVERY_MS);
    const classes = await runMix(server.base, CLIENTS, SECONDS, pathFiles);
    clearInterval(timer);
    await sample();
    let requests = 0;
    let ok = 0;
    let busy = 0;
    let errors = 0;
    for (const w of Object.values(classes)) {
      requests += w.requests;
      ok += w.ok;
      busy += w.busy;
      errors += w.client + w.server + w.limited + w.failed;
    }
    const base = samples.find((x) => x.s >= 60) ?? samples[0]!;
    const last = samples[samples.length - 1]!;
    const rss = samples.map((x) => x.rssMb);
    const fds = samples.map((x) => x.fds);
    const drift = ((last.rssMb - base.rssMb) / base.rssMb) * 100;
    const after = samples.filter((x) => x.s >= base.s);
    return [
      `### Soak (BENCH_ONLY=soak): ${CLIENTS} clients × ${SECONDS} s, the load mix, one server as shipped`,
      '',
      `Load average ${loadBefore} before, ${last.load} at the end (a machine shared with other sessions).`,
      `Requests ${requests} (${(requests / SECONDS).toFixed(1)}/s): ${ok} 2xx/3xx, ${busy} deliberate 503, ${errors} errors.`,
      `RSS: first ${samples[0]!.rssMb.toFixed(0)} MB, after the warm-up minute (t=${base.s} s) ${base.rssMb.toFixed(0)} MB, min ${Math.min(...rss).toFixed(0)}, max ${Math.max(...rss).toFixed(0)}, last ${last.rssMb.toFixed(0)} MB: **drift ${drift.toFixed(1)} %** (target < 10 %).`,
      `File descriptors: first ${fds[0]}, after warm-up ${base.fds}, min ${Math.min(...fds)}, max ${Math.max(...fds)}, last ${last.fds}; max after warm-up ${Math.max(...after.map((x) => x.fds))}.`,
      '',
      `Series (t s: RSS MB / fds): ${samples.map((x) => `${x.s}: ${x.rssMb.toFixed(0)}/${x.fds}`).join(', ')}`,
      '',
    ].join('\n');
  } finally {
    await stopServer(server.proc);
  }
}
