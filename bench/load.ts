// BENCH_ONLY=load: the operations mix (issue 14) against a built server on the shared data: feature pages,
// single profiles, metadata, small Coverages and EDR subsets, a 2 MB CoverageJSON, STAC search. Each class
// of request has its own h2load process (connections in proportion to its weight, LOAD_CLIENTS in all: default
// 50,200,500) for LOAD_SECONDS (default 60) after a warm-up (LOAD_WARMUP, default 5 s + 50 ms per client:
// see bench/h2load.ts), so every class gets its own client-side p50/p95/p99 from its requests. The server's
// event-loop delay over each level comes from its /metrics (prom-client's monitorEventLoopDelay, reset at each
// scrape). Levels run on the server as shipped; the 200-client level also on the reference: the same server
// encoding on the main thread (ODAS_ENCODE_WORKERS=0). Then 304 revalidations are timed.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { h2loadInstalled, runClass, type ClassFigures } from './h2load.js';
import { startServer, stopServer } from './server.js';

export const OUT = join(import.meta.dirname, 'out');
export const DATA = process.env['ODAS_SHARED_DATA'] ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const CLIENTS = (process.env['LOAD_CLIENTS'] ?? '50,200,500').split(',').map(Number);
const SECONDS = Number(process.env['LOAD_SECONDS'] ?? 60);
/** Seconds before the measured window: every connection accepted (one per loop turn when saturated). */
const warmupFor = (clients: number) => Number(process.env['LOAD_WARMUP'] ?? Math.round(5 + clients * 0.05));
/** Levels the reference (encoding on the event loop) runs at; empty: none. */
const REFERENCE_CLIENTS = (process.env['LOAD_REFERENCE_CLIENTS'] ?? '200').split(',').filter(Boolean).map(Number);
export const HEAVY = '/collections/coads_sst/coverage?datetime=2000-01-01T00:00:00Z/2000-04-30T00:00:00Z&f=covjson';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A fixed pseudo-random sequence: every run asks the same things. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

export type Kind = 'metadata' | 'items' | 'profile' | 'coverage' | 'edr' | 'heavy' | 'stac';
const WEIGHTS: Record<Kind, number> = {
  metadata: 25,
  items: 25,
  profile: 10,
  coverage: 12,
  edr: 10,
  heavy: 3,
  stac: 15,
};

function mixPaths(profileIds: string[]): Record<Kind, string[]> {
  const r = rng(14);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const make: Record<Kind, () => string> = {
    metadata: () =>
      pick([
        '/',
        '/conformance',
        '/collections/1900857_prof',
        '/collections/coads_sst',
        '/collections/coads_sst/coverage/domainset',
        '/collections/1900857_prof/queryables',
      ]),
    items: () =>
      pick([
        `/collections/1900857_prof/items?limit=50&offset=${Math.floor(r() * 5) * 50}`,
        '/collections/3902131_Sprof/items?limit=20',
        `/collections/1900857_prof/items?bbox=${Math.floor(r() * 40)},-50,${40 + Math.floor(r() * 40)},-30&limit=100`,
      ]),
    profile: () => `/collections/1900857_prof/items/${pick(profileIds)}`,
    coverage: () => {
      const x = Math.floor(r() * 300) - 150;
      const y = Math.floor(r() * 120) - 60;
      return `/collections/coads_sst/coverage?subset=COADSX(${x}:${x + 20}),COADSY(${y}:${y + 16})&datetime=2000-03-01T00:00:00Z/2000-06-30T00:00:00Z&properties=SST&f=covjson`;
    },
    edr: () =>
      `/collections/coads_sst/position?coords=${encodeURIComponent(`POINT(${Math.floor(r() * 340) - 170} ${Math.floor(r() * 120) - 60})`)}&parameter-name=SST`,
    heavy: () => HEAVY,
    stac: () => `/stac/search?bbox=${Math.floor(r() * 100)},-60,${100 + Math.floor(r() * 60)},50&limit=10`,
  };
  const out = {} as Record<Kind, string[]>;
  for (const kind of Object.keys(WEIGHTS) as Kind[]) {
    out[kind] = [];
    for (let i = 0; i < 100; i++) out[kind].push(make[kind]());
  }
  return out;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export async function procStat(pid: number): Promise<{ rssMb: number; fds: number }> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const fds = (await readdir(`/proc/${pid}/fd`).catch(() => [])).length;
  return { rssMb: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024, fds };
}

/** The server's event-loop delay since the last scrape (ms): p50, p99, max. */
async function loopDelay(base: string): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const get = (name: string) =>
    Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
  return { p50: get('p50'), p99: get('p99'), max: get('max') };
}

/** Connections per class at `clients` in all, by weight (at least one each). */
function connections(clients: number): Record<Kind, number> {
  const total = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  return Object.fromEntries(
    Object.entries(WEIGHTS).map(([k, w]) => [k, Math.max(1, Math.round((clients * w) / total))]),
  ) as Record<Kind, number>;
}

/** Runs one h2load per class at once for the warm-up and then `seconds`; resolves with each class's figures. */
export async function runMix(
  base: string,
  clients: number,
  seconds: number,
  pathFiles: Record<Kind, string>,
): Promise<Record<Kind, ClassFigures>> {
  const conns = connections(clients);
  const warmup = warmupFor(clients);
  const runs = (Object.keys(WEIGHTS) as Kind[]).map(async (kind): Promise<[Kind, ClassFigures]> => [
    kind,
    await runClass({
      base,
      pathsFile: pathFiles[kind],
      connections: conns[kind],
      seconds,
      warmup,
      logFile: join(OUT, `load-requests-${kind}.tsv`),
    }),
  ]);
  return Object.fromEntries(await Promise.all(runs)) as Record<Kind, ClassFigures>;
}

/** One file of paths per class (each client takes them in turn). */
export async function writePathFiles(base: string): Promise<Record<Kind, string>> {
  await mkdir(OUT, { recursive: true });
  const ids = (
    (await (await fetch(`${base}/collections/1900857_prof/items?limit=200`)).json()) as {
      features: Array<{ id: string }>;
    }
  ).features.map((f) => f.id);
  const byKind = mixPaths(ids);
  const files = {} as Record<Kind, string>;
  for (const kind of Object.keys(WEIGHTS) as Kind[]) {
    files[kind] = join(OUT, `load-paths-${kind}.txt`);
    await writeFile(files[kind], `${byKind[kind].join('\n')}\n`);
  }
  return files;
}

interface Level {
  label: string;
  clients: number;
  classes: Record<Kind, ClassFigures>;
  loop: { p50: number; p99: number; max: number };
  rss: { start: number; max: number; end: number };
  fds: { start: number; end: number };
  load: string;
}

export function loadAvg(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

async function runLevel(
  label: string,
  base: string,
  pid: number,
  clients: number,
  pathFiles: Record<Kind, string>,
): Promise<Level> {
  const before = await procStat(pid);
  await loopDelay(base); // resets the server's histogram
  let maxRss = before.rssMb;
  const sampler = setInterval(() => void procStat(pid).then((s) => (maxRss = Math.max(maxRss, s.rssMb))), 1000);
  const classes = await runMix(base, clients, SECONDS, pathFiles);
  clearInterval(sampler);
  const loop = await loopDelay(base);
  const after = await procStat(pid);
  return {
    label,
    clients,
    classes,
    loop,
    rss: { start: before.rssMb, max: maxRss, end: after.rssMb },
    fds: { start: before.fds, end: after.fds },
    load: loadAvg(),
  };
}

/** A level as table rows: one per class, then the totals. */
function levelRows(l: Level): string[] {
  const rows: string[] = [];
  let requests = 0;
  let ok = 0;
  let busy = 0;
  let errors = 0;
  for (const [kind, w] of Object.entries(l.classes)) {
    const errs = w.client + w.server + w.limited + w.failed;
    requests += w.requests;
    ok += w.ok;
    busy += w.busy;
    errors += errs;
    const errText =
      errs === 0 ? '0' : `${errs}: ${w.client} 4xx, ${w.limited} 429, ${w.server} 5xx, ${w.failed} failed or timed out`;
    rows.push(
      `| ${l.label} | ${l.clients} | ${kind} (${w.connections}) | ${(w.requests / w.seconds).toFixed(1)} | ${w.ok} | ${w.busy} | ${errText} | ${w.p50} | ${w.p95} | ${w.p99} | ${w.max} | ${w.little.toFixed(2)} |`,
    );
  }
  rows.push(
    `| ${l.label} | ${l.clients} | **all** | ${(requests / SECONDS).toFixed(0)} | ${ok} | ${busy} | ${errors} | loop delay p50 ${l.loop.p50.toFixed(1)} | p99 ${l.loop.p99.toFixed(1)} | max ${l.loop.max.toFixed(0)} | RSS ${l.rss.start.toFixed(0)} → ${l.rss.max.toFixed(0)} → ${l.rss.end.toFixed(0)} MB, fds ${l.fds.start} → ${l.fds.end}, load ${l.load} | |`,
  );
  return rows;
}

async function revalidations(base: string): Promise<string> {
  const rows: string[] = [];
  for (const path of [
    '/collections/coads_sst/coverage?subset=COADSX(20:40),COADSY(-10:10)&f=covjson',
    '/collections/1900857_prof/items?limit=50',
    '/collections',
  ]) {
    const first = await fetch(`${base}${path}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag') ?? '';
    const full: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < 300; i++) {
      let t0 = performance.now();
      const a = await fetch(`${base}${path}`);
      await a.arrayBuffer();
      full.push(performance.now() - t0);
      t0 = performance.now();
      const b = await fetch(`${base}${path}`, { headers: { 'if-none-match': etag } });
      await b.arrayBuffer();
      if (b.status === 304) ms.push(performance.now() - t0);
    }
    rows.push(
      `| \`${path}\` | ${ms.length} / 300 | ${pct(ms, 50).toFixed(2)} | ${pct(ms, 99).toFixed(2)} | ${pct(full, 50).toFixed(2)} | ${pct(full, 99).toFixed(2)} |`,
    );
  }
  return [
    '| request | 304s | 304 p50 ms | 304 p99 ms | full 200 p50 ms | full 200 p99 ms |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export async function benchLoad(): Promise<string> {
  if (!(await h2loadInstalled()))
    return '### Load mix\n\nh2load is not installed (apt-get install nghttp2-client): skipped.\n';
  await mkdir(OUT, { recursive: true });
  const cacheDir = join(OUT, 'load-cache');
  await rm(cacheDir, { recursive: true, force: true });
  const levels: Level[] = [];
  let revalidation = '';
  const loadBefore = loadAvg();
  const runs: Array<[string, Record<string, string>, number[]]> = [
    ['as shipped', {}, CLIENTS],
    ['reference: encoding on the event loop (ODAS_ENCODE_WORKERS=0)', { ODAS_ENCODE_WORKERS: '0' }, REFERENCE_CLIENTS],
  ];
  for (const [label, env, levelsOf] of runs) {
    if (levelsOf.length === 0) continue;
    const port = await freePort();
    const server = await startServer([DATA], cacheDir, port, undefined, { env });
    try {
      const pathFiles = await writePathFiles(server.base);
      // Warm: the first grid reads start the HDF5 workers.
      await (await fetch(`${server.base}${HEAVY}`)).arrayBuffer();
      for (const clients of levelsOf)
        levels.push(await runLevel(label, server.base, server.proc.pid!, clients, pathFiles));
      if (label === 'as shipped') revalidation = await revalidations(server.base);
    } finally {
      await stopServer(server.proc);
    }
  }
  return [
    `### Load mix (BENCH_ONLY=load), ${SECONDS} s per level after a warm-up of ${CLIENTS.map((c) => `${warmupFor(c)} s`).join(' / ')}, one h2load --h1 per class, load average ${loadBefore} before`,
    '',
    `Connections by weight: ${Object.entries(WEIGHTS)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )} (heavy: a 2.0 MB CoverageJSON of coads_sst; coverage: 20°×16°×4 months CoverageJSON; edr: a position time series; stac: /stac/search bbox). Each connection sends its next request when the last is answered. 503s are deliberate refusals (admission control); errors are 4xx, 429, other 5xx, 30 s timeouts and socket errors. Latencies in ms, client side, from h2load's per-request log; Little = Σ latency / (connections × seconds), ≈ 1 when the figures are consistent. Loop delay: the server's event-loop delay over the level (ms, monitorEventLoopDelay).`,
    '',
    '| server | clients | class (connections) | req/s | 2xx/3xx | 503 | errors | p50 ms | p95 ms | p99 ms | max ms | Little |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...levels.flatMap(levelRows),
    '',
    'Revalidation (as shipped, after the load, sequential, one client): a 304 against the full answer.',
    '',
    revalidation,
    '',
  ].join('\n');
}
