// BENCH_ONLY=load: the operations mix (issue 14) against a built server on the shared data: feature pages,
// single profiles, metadata, small Coverages and EDR subsets, a 2 MB CoverageJSON, STAC search, driven by
// wrk at LOAD_CLIENTS connections (default 50,200,500) for LOAD_SECONDS (default 60) each. While wrk runs,
// four probe clients time metadata and items requests one after another: what a cheap request sees while
// heavy subsets run. Each level runs twice: the reference (no admission limits, no encoder yields:
// ODAS_ENCODE_SLICE_MS=0) and the server as shipped. Then 304 revalidations are timed.
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startServer, stopServer } from './server.js';

const OUT = join(import.meta.dirname, 'out');
const DATA = process.env['ODAS_SHARED_DATA'] ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const CLIENTS = (process.env['LOAD_CLIENTS'] ?? '50,200,500').split(',').map(Number);
const SECONDS = Number(process.env['LOAD_SECONDS'] ?? 60);

async function freePort(): Promise<number> {
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

type Kind = 'metadata' | 'items' | 'profile' | 'coverage' | 'edr' | 'heavy' | 'stac';
const WEIGHTS: Record<Kind, number> = {
  metadata: 25,
  items: 25,
  profile: 10,
  coverage: 12,
  edr: 10,
  heavy: 3,
  stac: 15,
};

function mixPaths(profileIds: string[]): string[] {
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
    heavy: () => '/collections/coads_sst/coverage?datetime=2000-01-01T00:00:00Z/2000-04-30T00:00:00Z&f=covjson',
    stac: () => `/stac/search?bbox=${Math.floor(r() * 100)},-60,${100 + Math.floor(r() * 60)},50&limit=10`,
  };
  const paths: string[] = [];
  for (const [kind, w] of Object.entries(WEIGHTS) as Array<[Kind, number]>)
    for (let i = 0; i < w * 4; i++) paths.push(make[kind]());
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [paths[i], paths[j]] = [paths[j]!, paths[i]!];
  }
  return paths;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Probe {
  ms: number[];
  statuses: Map<number, number>;
}

/** Cheap requests one after another on one connection each, until `stop`. */
async function probe(base: string, paths: string[], stop: { done: boolean }): Promise<Probe> {
  const out: Probe = { ms: [], statuses: new Map() };
  let i = 0;
  while (!stop.done) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}${paths[i++ % paths.length]}`);
      await res.arrayBuffer();
      out.statuses.set(res.status, (out.statuses.get(res.status) ?? 0) + 1);
      if (res.status === 200) out.ms.push(performance.now() - t0);
    } catch {
      out.statuses.set(0, (out.statuses.get(0) ?? 0) + 1);
    }
  }
  return out;
}

async function procStat(pid: number): Promise<{ rssMb: number; fds: number }> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const fds = (await readdir(`/proc/${pid}/fd`).catch(() => [])).length;
  return { rssMb: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024, fds };
}

interface Level {
  label: string;
  clients: number;
  wrk: Record<string, number>;
  meta: Probe;
  items: Probe;
  rss: { start: number; max: number; end: number };
  fds: { start: number; end: number };
  load: string;
}

async function runLevel(label: string, base: string, pid: number, clients: number, pathsFile: string): Promise<Level> {
  const stop = { done: false };
  const before = await procStat(pid);
  let maxRss = before.rssMb;
  const sampler = setInterval(() => void procStat(pid).then((s) => (maxRss = Math.max(maxRss, s.rssMb))), 1000);
  const metaPaths = ['/collections/1900857_prof', '/conformance', '/collections/coads_sst/coverage/domainset'];
  const itemPaths = ['/collections/1900857_prof/items?limit=10', '/collections/1900857_prof/items?limit=10&offset=100'];
  const probes = [
    probe(base, metaPaths, stop),
    probe(base, metaPaths, stop),
    probe(base, itemPaths, stop),
    probe(base, itemPaths, stop),
  ];
  const wrk = await new Promise<string>((resolve, reject) => {
    // spawnSync would block the probes: run wrk asynchronously.
    import('node:child_process').then(({ execFile }) => {
      execFile(
        'wrk',
        [
          '-t',
          '2',
          '-c',
          String(clients),
          '-d',
          `${SECONDS}s`,
          '--timeout',
          '30s',
          '-s',
          join(import.meta.dirname, 'load.lua'),
          base,
        ],
        { env: { ...process.env, LOAD_PATHS: pathsFile }, maxBuffer: 1 << 20 },
        (_err, stdout) => resolve(stdout),
      );
    }, reject);
  });
  stop.done = true;
  clearInterval(sampler);
  const [m1, m2, i1, i2] = await Promise.all(probes);
  const merge = (a: Probe, b: Probe): Probe => ({
    ms: [...a.ms, ...b.ms],
    statuses: new Map(
      [...a.statuses]
        .map(([k, v]) => [k, v + (b.statuses.get(k) ?? 0)] as [number, number])
        .concat([...b.statuses].filter(([k]) => !a.statuses.has(k))),
    ),
  });
  const after = await procStat(pid);
  const nums: Record<string, number> = {};
  for (const m of wrk.matchAll(/(\w+)=([\d.]+)/g)) nums[m[1]!] = Number(m[2]);
  return {
    label,
    clients,
    wrk: nums,
    meta: merge(m1!, m2!),
    items: merge(i1!, i2!),
    rss: { start: before.rssMb, max: maxRss, end: after.rssMb },
    fds: { start: before.fds, end: after.fds },
    load: loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
  };
}

function statusText(p: Probe): string {
  return [...p.statuses]
    .sort(([a], [b]) => a - b)
    .map(([k, v]) => `${k === 0 ? 'conn err' : k}: ${v}`)
    .join(', ');
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
  if (spawnSync('wrk', ['--version']).error !== undefined)
    return '### Load mix\n\nwrk is not installed (apt-get install wrk): skipped.\n';
  await mkdir(OUT, { recursive: true });
  const cacheDir = join(OUT, 'load-cache');
  await rm(cacheDir, { recursive: true, force: true });
  const pathsFile = join(OUT, 'load-paths.txt');
  const levels: Level[] = [];
  let revalidation = '';
  for (const [label, opts] of [
    [
      'reference: no limits, no encoder yields',
      {
        env: { ODAS_ENCODE_SLICE_MS: '0' },
        args: [
          '--limit',
          'metadata=100000:0',
          '--limit',
          'features=100000:0',
          '--limit',
          'data=100000:0',
          '--limit',
          'heavy=100000:0',
        ],
      },
    ],
    ['as shipped (default limits, 8 ms encoder slices)', { args: [] }],
  ] as const) {
    const port = await freePort();
    const server = await startServer([DATA], cacheDir, port, undefined, {
      env: 'env' in opts ? opts.env : {},
      args: [...opts.args],
    });
    try {
      const ids = (
        (await (await fetch(`${server.base}/collections/1900857_prof/items?limit=200`)).json()) as {
          features: Array<{ id: string }>;
        }
      ).features.map((f) => f.id);
      await writeFile(pathsFile, `${mixPaths(ids).join('\n')}\n`);
      // Warm: the first grid reads start the HDF5 workers.
      await (
        await fetch(
          `${server.base}/collections/coads_sst/coverage?datetime=2000-01-01T00:00:00Z/2000-04-30T00:00:00Z&f=covjson`,
        )
      ).arrayBuffer();
      for (const clients of CLIENTS)
        levels.push(await runLevel(label, server.base, server.proc.pid!, clients, pathsFile));
      if (opts.args.length === 0) revalidation = await revalidations(server.base);
    } finally {
      await stopServer(server.proc);
    }
  }
  const rows = levels.map((l) => {
    const w = l.wrk;
    const rps = (w['requests'] ?? 0) / (w['seconds'] || SECONDS);
    return `| ${l.label} | ${l.clients} | ${rps.toFixed(0)} | ${w['ok']} | ${w['busy']} | ${w['client']} / ${w['server']} / ${w['errors_timeout']} / ${(w['errors_connect'] ?? 0) + (w['errors_read'] ?? 0)} | ${w['p50']} | ${w['p99']} | ${pct(l.meta.ms, 50).toFixed(1)} / ${pct(l.meta.ms, 99).toFixed(1)} (${statusText(l.meta)}) | ${pct(l.items.ms, 50).toFixed(1)} / ${pct(l.items.ms, 99).toFixed(1)} (${statusText(l.items)}) | ${l.rss.start.toFixed(0)} → ${l.rss.max.toFixed(0)} → ${l.rss.end.toFixed(0)} | ${l.fds.start} → ${l.fds.end} | ${l.load} |`;
  });
  return [
    `### Load mix (BENCH_ONLY=load), ${SECONDS} s per level, wrk -t2`,
    '',
    `Mix by weight: ${Object.entries(WEIGHTS)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )} (heavy: a 2.0 MB CoverageJSON of coads_sst; coverage: 20°×16°×4 months CoverageJSON; edr: a position time series; stac: /stac/search bbox). Probes: 2 clients asking metadata, 2 asking items pages, one request after another, timed to the last byte; 503s are deliberate refusals; 4xx, other 5xx, timeouts and socket errors are not.`,
    '',
    '| server | clients | req/s | 2xx/3xx | 503 | 4xx / other 5xx / timeouts (30 s) / socket errors | mix p50 ms | mix p99 ms | metadata probe p50 / p99 ms | items probe p50 / p99 ms | RSS MB start → max → end | fds | load avg after |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Revalidation (as shipped, after the load, sequential, one client): a 304 against the full answer.',
    '',
    revalidation,
    '',
  ].join('\n');
}
