// PostgreSQL catalog benchmark (issue 11): a GDAC-like tree of PG_FILES single-profile Argo files
// indexed by `odas index` into SQLite and into PostgreSQL/PostGIS (files/s), query latencies of a
// server on each catalog, and the throughput of two replicas on one PostgreSQL catalog against one.
// BENCH_ONLY=pg PG_FILES=100000 npm run bench   (PG_FILES=2000 for a smoke run; ODAS_BENCH_PG: admin URL)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { discoverCollection, queryLatencies, type Latency } from './archive-queries.js';
import { getStatus, spawnServer, stopServer, waitForPort, waitIndexed, type Spawned } from './archive-server.js';
import { ensureGdacTree } from './gdac-tree.js';

const OUT = join(import.meta.dirname, 'out');
const ROOT = join(import.meta.dirname, '..');
const FILES = Number(process.env['PG_FILES'] ?? 100_000);
const REQUESTS = Number(process.env['PG_REQUESTS'] ?? 60);
const SECONDS = Number(process.env['PG_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['PG_CONNECTIONS'] ?? 16);
const ADMIN = process.env['ODAS_BENCH_PG'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const log = (line: string) => process.stderr.write(`[pg] ${line}\n`);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(', ');

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** `odas index` to the end; seconds of wall time. */
function indexOnce(data: string, target: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'index', '--data', data, ...target], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`odas index ${target.join(' ')} failed: ${r.stderr.slice(-400)}`);
  log(r.stdout.trim());
  return (performance.now() - t0) / 1000;
}

interface Wrk {
  rps: number;
  p99: string;
  errors: number;
}

/** wrk against one URL, asynchronously (two at once load two replicas). */
function wrk(url: string): Promise<Wrk> {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', ['-t', '1', '-c', String(CONNECTIONS), '-d', `${SECONDS}s`, '--latency', url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', () => {
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
        p99: /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '?',
        errors: non2xx,
      });
    });
  });
}

async function serveOn(
  data: string,
  cacheDir: string,
  port: number,
  logFile: string,
  catalog?: string,
  follower = false,
): Promise<Spawned> {
  const prev = process.env['ODAS_CATALOG'];
  if (catalog) process.env['ODAS_CATALOG'] = catalog;
  else delete process.env['ODAS_CATALOG'];
  const s = spawnServer(data, cacheDir, port, logFile);
  if (prev === undefined) delete process.env['ODAS_CATALOG'];
  else process.env['ODAS_CATALOG'] = prev;
  await waitForPort(s, 600);
  // A second replica on the same catalog follows the first: it is ready once it knows it does not index.
  if (follower) await until(async () => (await getStatus(s.base))?.state === 'follower', 120);
  else await waitIndexed(s, 3600);
  return s;
}

async function until(test: () => Promise<boolean>, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await test().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not ready after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const row = (l: Latency) => `${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${l.errors}`;

export async function benchPg(): Promise<string> {
  const { dir, stats } = await ensureGdacTree(FILES, OUT, log);
  const work = await mkdtemp(join(tmpdir(), 'odas-bench-pg-'));
  const db = `odas_bench_${process.pid}`;
  const url = (() => {
    const u = new URL(ADMIN);
    u.pathname = `/${db}`;
    return u.toString();
  })();
  const loads: string[] = [`start: ${load()}`];
  await admin(`CREATE DATABASE ${db}`);
  try {
    log(`indexing ${stats.files} files into SQLite`);
    const sqliteS = indexOnce(dir, ['--cache-dir', join(work, 'cache')]);
    loads.push(`after SQLite index: ${load()}`);
    log(`indexing ${stats.files} files into PostgreSQL`);
    const pgS = indexOnce(dir, ['--catalog', url]);
    loads.push(`after PostgreSQL index: ${load()}`);

    const port = 19000 + Math.floor(Math.random() * 500);
    const a = await serveOn(dir, join(work, 'cache'), port, join(work, 'sqlite.log'));
    const found = await discoverCollection(a.base);
    const sqliteQ = await queryLatencies(a.base, found, REQUESTS);
    await stopServer(a.proc);
    const p1 = await serveOn(dir, join(work, 'cache'), port + 1, join(work, 'pg1.log'), url);
    const pgQ = await queryLatencies(p1.base, found, REQUESTS);
    loads.push(`after query latencies: ${load()}`);

    // Throughput: items page and STAC search, one replica, then two replicas each loaded by its own wrk.
    const p2 = await serveOn(dir, join(work, 'cache'), port + 2, join(work, 'pg2.log'), url, true);
    const paths = {
      items: `/collections/${encodeURIComponent(found.id)}/items?limit=100`,
      stac: '/stac/search?bbox=-40,-40,0,0&datetime=2010-01-01T00:00:00Z/2014-12-31T23:59:59Z&limit=10',
    };
    const tput: string[] = [];
    for (const [name, path] of Object.entries(paths)) {
      const one = await wrk(`${p1.base}${path}`);
      const two = await Promise.all([wrk(`${p1.base}${path}`), wrk(`${p2.base}${path}`)]);
      const sum = two[0].rps + two[1].rps;
      tput.push(
        `| ${name} \`${path}\` | ${Math.round(one.rps)} | ${Math.round(sum)} (${Math.round(two[0].rps)} + ${Math.round(two[1].rps)}) | ${(sum / one.rps).toFixed(2)}× | ${one.errors + two[0].errors + two[1].errors} |`,
      );
    }
    loads.push(`after throughput: ${load()}`);
    await stopServer(p1.proc);
    await stopServer(p2.proc);
    return [
      `### PostgreSQL catalog: ${stats.files} single-profile Argo files (GDAC-like tree), SQLite vs PostgreSQL 15 + PostGIS 3`,
      '',
      `Measured on the shared 2-core machine while other sessions ran (load average ${loads.join('; ')}). \`odas index\` with both cores reading files; the database on the same machine.`,
      '',
      '| | SQLite | PostgreSQL |',
      '|---|---|---|',
      `| \`odas index\` of ${stats.files} files, cold | ${sqliteS.toFixed(1)} s, ${Math.round(stats.files / sqliteS)} files/s | ${pgS.toFixed(1)} s, ${Math.round(stats.files / pgS)} files/s |`,
      '',
      `Query latencies, ${REQUESTS} sequential requests each, a new box every request (ms): p50 | p95 | errors`,
      '',
      '| query | SQLite p50 | p95 | errors | PostgreSQL p50 | p95 | errors |',
      '|---|---|---|---|---|---|---|',
      `| ${sqliteQ.items.label} | ${row(sqliteQ.items)} | ${row(pgQ.items)} |`,
      `| ${sqliteQ.byId.label} | ${row(sqliteQ.byId)} | ${row(pgQ.byId)} |`,
      `| ${sqliteQ.stac.label} | ${row(sqliteQ.stac)} | ${row(pgQ.stac)} |`,
      '',
      `Throughput on the PostgreSQL catalog (wrk -t1 -c${CONNECTIONS}, ${SECONDS} s; two replicas: one wrk each, at once; the load generators, both servers and PostgreSQL share the 2 cores):`,
      '',
      '| request | one replica req/s | two replicas req/s | ratio | non-2xx |',
      '|---|---|---|---|---|',
      ...tput,
    ].join('\n');
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}
