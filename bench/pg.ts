// PostgreSQL catalog benchmark (issue 11): a GDAC-like tree of PG_FILES single-profile Argo files
// indexed by `odas index` into SQLite and into PostgreSQL/PostGIS (files/s), query latencies of a
// server on each catalog, and the throughput of two replicas on one PostgreSQL catalog against one.
// BENCH_ONLY=pg PG_FILES=100000 npm run bench   (PG_FILES=2000 for a smoke run; ODAS_BENCH_PG: admin URL)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { areaLatency, discoverCollection, queryLatencies, type Latency } from './archive-queries.js';
import { getStatus, spawnServer, stopServer, waitForPort, waitIndexed, type Spawned } from './archive-server.js';
import { capCpu } from './cpu-quota.js';
import { boxWithProfiles, ensureGdacTree } from './gdac-tree.js';
import { replicateCatalog } from './replicate-catalog.js';

const OUT = join(import.meta.dirname, 'out');
const ROOT = join(import.meta.dirname, '..');
const FILES = Number(process.env['PG_FILES'] ?? 100_000);
const REQUESTS = Number(process.env['PG_REQUESTS'] ?? 60);
const SECONDS = Number(process.env['PG_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['PG_CONNECTIONS'] ?? 16);
const ADMIN = process.env['ODAS_BENCH_PG'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const MIX = join(import.meta.dirname, 'pg-mix.lua');
/** Clock ticks per second of /proc's CPU times (Linux: 100). */
const TICKS = 100;
/** Runs of the same EDR area request. */
const GROWN = process.env['PG_GROWN'] === '1';
/** Files indexed for a grown catalog (PG_GROWN=1). */
const SEED_FILES = Number(process.env['PG_SEED_FILES'] ?? 100_000);
const INDEX_FILES = Number(process.env['PG_INDEX_FILES'] ?? 20_000);
const AREA_RUNS = Number(process.env['PG_AREA_RUNS'] ?? 7);
/** Profiles in the EDR area's box (the smallest 5°-lattice box holding at least this many). */
const AREA_PROFILES = Number(process.env['PG_AREA_PROFILES'] ?? 1000);
/** PG_REPLICA_CPU=0.25: each replica capped at that many CPUs (bench/cpu-quota.ts) for the throughput runs. */
const REPLICA_CPU = process.env['PG_REPLICA_CPU'] ? Number(process.env['PG_REPLICA_CPU']) : undefined;

/** The replica's CPU cap, once it is ready (indexing or following is not what the cap is for). */
function capReplica(s: Spawned, name: string): () => void {
  return REPLICA_CPU === undefined ? () => undefined : capCpu(s.proc.pid!, REPLICA_CPU, name);
}

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

interface Indexed {
  seconds: number;
  /** Peak resident set of the `odas index` process (MB, from /usr/bin/time). */
  peakMb: number;
  load: string;
  /** CPU seconds of `odas index` (user + system). */
  cpu?: number;
  /** Files/s over the first and second half of the files. */
  halves?: [number, number] | undefined;
}

/** `odas index` to the end, under `nice`: wall time and peak RSS. */
function indexOnce(data: string, target: string[]): Indexed {
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'odas-index-peak-kb %M\nodas-index-cpu %U %S',
      'nice',
      '-n',
      '10',
      process.execPath,
      join(ROOT, 'dist', 'cli.js'),
      'index',
      '--data',
      data,
      ...target,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 },
  );
  if (r.status !== 0) throw new Error(`odas index ${target.join(' ')} failed: ${r.stderr.slice(-400)}`);
  log(r.stdout.trim().split('\n').slice(-2).join(' / '));
  const kb = Number(/odas-index-peak-kb (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const cpu = /odas-index-cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return {
    seconds: (performance.now() - t0) / 1000,
    peakMb: kb / 1024,
    load: load(),
    cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN,
    halves: halfRates(`${r.stdout}\n${r.stderr}`),
  };
}

/**
 * Files/s over the first and the second half of the files, from the progress lines (`N/M files …,
 * S s`): whether indexing slows as the catalog grows.
 */
function halfRates(out: string): [number, number] | undefined {
  const points = [...out.matchAll(/(\d+)\/(\d+) files[^\n]*?, ([\d.]+) s\b/g)].map((m) => ({
    done: Number(m[1]),
    total: Number(m[2]),
    s: Number(m[3]),
  }));
  const last = points[points.length - 1];
  if (!last || points.length < 3) return undefined;
  const mid = points.reduce((a, p) => (Math.abs(p.done - last.done / 2) < Math.abs(a.done - last.done / 2) ? p : a));
  if (mid.s <= 0 || last.s <= mid.s) return undefined;
  return [mid.done / mid.s, (last.done - mid.done) / (last.s - mid.s)];
}

/** CPU seconds (user + system) of a process, from /proc/PID/stat. */
function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of every PostgreSQL process now (backends of other sessions included), or with `db`
 * only the backends serving that database (their title names it): the bench's own share on a
 * machine where other sessions use the same PostgreSQL.
 */
function postgresCpu(db?: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'postgres') continue;
      if (db && !readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(` ${db} `)) continue;
      out.set(Number(d), cpuOf(Number(d)));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat. */
function machineBusy(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  return (f.reduce((a, b) => a + b, 0) - idle) / TICKS;
}

interface Wrk {
  rps: number;
  errors: number;
  /** CPU seconds the load generator itself used. */
  cpu: number;
}

/** wrk on the read mix against one server, asynchronously (two at once load two replicas); its own CPU measured. */
function wrk(base: string, collection: string, threads = 1): Promise<Wrk> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      '/usr/bin/time',
      [
        '-f',
        'wrk-cpu %U %S',
        'wrk',
        '-t',
        String(threads),
        '-c',
        String(CONNECTIONS),
        '-d',
        `${SECONDS}s`,
        '--latency',
        '-s',
        MIX,
        base,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ODAS_MIX_COLLECTION: collection } },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', () => {
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const cpu = /wrk-cpu ([\d.]+) ([\d.]+)/.exec(err);
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
        errors: non2xx,
        cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN,
      });
    });
  });
}

interface MixRun {
  rps: number[];
  /** Mean latency per server, ms, by Little's law (connections ÷ req/s): wrk's own percentiles are not trusted (bench/h2load.ts). */
  meanMs: string[];
  errors: number;
  seconds: number;
  wrkCpu: number;
  serverCpu: number;
  pgCpu: number;
  /** CPU seconds of the backends serving the bench's database alone (when named). */
  ownPgCpu: number;
  busy: number;
  load: string;
}

/** The mix against each server at once (one wrk per server), with who used the CPU meanwhile. */
async function mixRun(servers: Spawned[], collection: string, db?: string): Promise<MixRun> {
  const pg0 = postgresCpu();
  const own0 = postgresCpu(db);
  const sv0 = servers.map((s) => cpuOf(s.proc.pid!));
  const busy0 = machineBusy();
  const t0 = performance.now();
  const runs = await Promise.all(servers.map((s) => wrk(s.base, collection)));
  const seconds = (performance.now() - t0) / 1000;
  const busy = machineBusy() - busy0;
  const serverCpu = servers.reduce((a, s, i) => a + cpuOf(s.proc.pid!) - sv0[i]!, 0);
  let pgCpu = 0;
  for (const [pid, after] of postgresCpu()) pgCpu += after - (pg0.get(pid) ?? 0);
  let ownPgCpu = 0;
  if (db) for (const [pid, after] of postgresCpu(db)) ownPgCpu += after - (own0.get(pid) ?? 0);
  return {
    rps: runs.map((r) => r.rps),
    meanMs: runs.map((r) => ((CONNECTIONS / r.rps) * 1000).toFixed(1)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    seconds,
    wrkCpu: runs.reduce((a, r) => a + r.cpu, 0),
    serverCpu,
    pgCpu,
    ownPgCpu,
    busy,
    load: load(),
  };
}

async function serveOn(
  data: string,
  cacheDir: string,
  port: number,
  logFile: string,
  catalog?: string,
  follower = false,
  dist?: string,
): Promise<Spawned> {
  const prev = process.env['ODAS_CATALOG'];
  if (catalog) process.env['ODAS_CATALOG'] = catalog;
  else delete process.env['ODAS_CATALOG'];
  const s = spawnServer(data, cacheDir, port, logFile, dist);
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
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

interface IndexRecord {
  files: number;
  sqlite: Indexed;
  postgresql: Indexed;
  analyzeSeconds: number;
  at: string;
}

/**
 * Both catalogs of the tree, indexed once and kept (bench/out/pg-sqlite-N, database odas_pg_bench_N)
 * with their figures, so query and replica runs reuse them; PG_REINDEX=1 indexes again.
 */
async function ensureIndexed(
  dir: string,
  files: number,
  url: string,
  cache: string,
  keep: boolean,
): Promise<IndexRecord> {
  const record = join(OUT, `pg-index-${files}.json`);
  if (keep && process.env['PG_REINDEX'] !== '1' && existsSync(record))
    return JSON.parse(await readFile(record, 'utf8')) as IndexRecord;
  const db = new URL(url).pathname.slice(1);
  await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${db}`);
  await rm(cache, { recursive: true, force: true });
  await mkdir(cache, { recursive: true });
  log(`indexing ${files} files into SQLite (load ${load()})`);
  const sqlite = indexOnce(dir, ['--cache-dir', cache]);
  log(`indexing ${files} files into PostgreSQL (load ${load()})`);
  const postgresql = indexOnce(dir, ['--catalog', url]);
  // Fresh planner statistics for the new rows (autovacuum would get there too, later).
  const analyzeSeconds = await analyze(url);
  const out: IndexRecord = {
    files,
    sqlite,
    postgresql,
    analyzeSeconds,
    at: new Date().toISOString(),
  };
  if (keep) await writeFile(record, JSON.stringify(out));
  return out;
}

interface Grown {
  /** The tree the seed catalog indexes (what the servers are started on). */
  dir: string;
  seedFiles: number;
  seconds: number;
}

/**
 * Query catalogs of FILES features without indexing FILES files: PG_SEED_FILES files indexed into
 * SQLite, grown by copies of their items, copied into PostgreSQL (odas catalog copy). Kept with a record.
 */
async function ensureGrown(url: string, cache: string): Promise<Grown> {
  const record = join(OUT, `pg-grown-${FILES}.json`);
  if (existsSync(record)) return JSON.parse(await readFile(record, 'utf8')) as Grown;
  const { dir, stats } = await ensureGdacTree(SEED_FILES, OUT, log);
  const t0 = performance.now();
  await ensureIndexed(dir, stats.files, url, cache, false);
  const file = readdirSync(cache).find((f) => f.endsWith('.sqlite'));
  if (!file) throw new Error(`no SQLite catalog in ${cache}`);
  replicateCatalog(join(cache, file), FILES, log);
  const db = new URL(url).pathname.slice(1);
  await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${db}`);
  const r = spawnSync(
    'nice',
    [
      '-n',
      '10',
      process.execPath,
      join(ROOT, 'dist', 'cli.js'),
      'catalog',
      'copy',
      '--from',
      join(cache, file),
      '--to',
      url,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0) throw new Error(`odas catalog copy failed: ${r.stderr.slice(-400)}`);
  await analyze(url);
  const out: Grown = { dir, seedFiles: stats.files, seconds: (performance.now() - t0) / 1000 };
  await writeFile(record, JSON.stringify(out));
  return out;
}

async function analyze(url: string): Promise<number> {
  const t0 = performance.now();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('VACUUM ANALYZE items');
  } finally {
    await c.end();
  }
  return (performance.now() - t0) / 1000;
}

/** `odas index` of a tree into a throw-away SQLite cache and PostgreSQL database: files/s of both, same run. */
async function indexRun(files: number, work: string): Promise<IndexRecord> {
  const { dir, stats } = await ensureGdacTree(files, OUT, log);
  const u = new URL(ADMIN);
  const db = `${process.env['PG_DB'] ?? 'odas_pg_bench'}_index_${process.pid}`;
  u.pathname = `/${db}`;
  try {
    return await ensureIndexed(dir, stats.files, u.toString(), join(work, 'index-cache'), false);
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
  }
}

export async function benchPg(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'odas-bench-pg-'));
  const url = (() => {
    const u = new URL(ADMIN);
    u.pathname = `/${process.env['PG_DB'] ?? `odas_pg_bench_${FILES}`}`;
    return u.toString();
  })();
  const cache = join(OUT, `pg-sqlite-${FILES}`);
  const loads: string[] = [`start: ${load()}`];
  try {
    // PG_GROWN=1: the query catalogs are grown to FILES features (bench/replicate-catalog.ts, then
    // odas catalog copy) from an index of fewer files; indexing is measured on PG_INDEX_FILES files.
    const grown = GROWN ? await ensureGrown(url, cache) : undefined;
    if (process.env['PG_INDEX_SIZES']) return await indexSizes(process.env['PG_INDEX_SIZES'], work);
    if (process.env['PG_MIX_ONLY'] === '1')
      return await mixOnly(grown?.dir ?? join(OUT, `gdac-${FILES}`), cache, url, work);
    const dir = grown?.dir ?? join(OUT, `gdac-${FILES}`);
    const idx = GROWN
      ? await indexRun(INDEX_FILES, work)
      : await ensureIndexed((await ensureGdacTree(FILES, OUT, log)).dir, FILES, url, cache, true);
    const stats = { files: idx.files };
    if (process.env['PG_INDEX_ONLY'] === '1') return `indexed: ${JSON.stringify(idx)}`;
    const port = 19000 + Math.floor(Math.random() * 500);
    const a = await serveOn(dir, cache, port, join(work, 'sqlite.log'));
    const found = await discoverCollection(a.base);
    const areaBox = boxWithProfiles(FILES, AREA_PROFILES)?.bbox ?? [-30, 45, -15, 60];
    const sqliteQ = await queryLatencies(a.base, found, REQUESTS);
    const sqliteA = await areaLatency(a.base, found, areaBox, AREA_RUNS);
    loads.push(`after SQLite queries: ${load()}`);
    await stopServer(a.proc);
    const p1 = await serveOn(dir, cache, port + 1, join(work, 'pg1.log'), url);
    const pgQ = await queryLatencies(p1.base, found, REQUESTS);
    const pgA = await areaLatency(p1.base, found, areaBox, AREA_RUNS);
    loads.push(`after PostgreSQL queries: ${load()}`);

    // Throughput on the mix: one replica, then two replicas each loaded by its own wrk.
    const uncap1 = capReplica(p1, 'r1');
    const one = await mixRun([p1], found.id);
    const p2 = await serveOn(dir, cache, port + 2, join(work, 'pg2.log'), url, true);
    const uncap2 = capReplica(p2, 'r2');
    const two = await mixRun([p1, p2], found.id);
    await stopServer(p1.proc);
    await stopServer(p2.proc);
    uncap1();
    uncap2();
    const total = (m: MixRun) => m.rps.reduce((x, y) => x + y, 0);
    const req = (m: MixRun) => total(m) * m.seconds;
    const ms = (cpu: number, m: MixRun) => ((cpu / req(m)) * 1000).toFixed(2);
    const mixRow = (name: string, m: MixRun) =>
      `| ${name} | ${Math.round(total(m))}${m.rps.length > 1 ? ` (${m.rps.map(Math.round).join(' + ')})` : ''} | ${m.meanMs.join(' / ')} | ${m.errors} | ${m.busy.toFixed(1)} of ${(2 * m.seconds).toFixed(0)} | ${m.wrkCpu.toFixed(1)} (${ms(m.wrkCpu, m)}) | ${m.serverCpu.toFixed(1)} (${ms(m.serverCpu, m)}) | ${m.pgCpu.toFixed(1)} (${ms(m.pgCpu, m)}) | ${m.load} |`;
    // What 2 cores allow: every request costs server + PostgreSQL CPU wherever it runs; with the
    // load generator's share taken out, the ceiling is 2 cores over that cost.
    const perReq = (m: MixRun) => (m.serverCpu + m.pgCpu) / req(m);
    const ceiling = (2 * 1) / perReq(two);
    const i = idx;
    return [
      `### PostgreSQL catalog at ${found.features} features: SQLite vs PostgreSQL 15 + PostGIS 3`,
      '',
      GROWN
        ? `Query catalogs (collection \`${found.id}\`, ${found.features} features): \`odas index\` of ${grown!.seedFiles} files of a GDAC-like tree grown to ${FILES} features by \`bench/replicate-catalog.ts\` (each item copied with its longitude turned by k × 51.43°, same time, properties and levels), then \`odas catalog copy\` into PostgreSQL: both backends hold the same rows. Indexing measured on a separate tree of ${stats.files} files.`
        : `Query catalogs: \`odas index\` of the ${FILES}-file GDAC-like tree (collection \`${found.id}\`, ${found.features} features).`,
      '',
      `Shared 2-core machine; load averages: indexing SQLite ${i.sqlite.load} (after), PostgreSQL ${i.postgresql.load} (after), indexed ${i.at}; this run ${loads.join('; ')}. \`odas index\` under \`nice -n 10\` with both cores reading files; the database on the same machine. One profile per file: profiles/s = files/s.`,
      '',
      '| | SQLite | PostgreSQL |',
      '|---|---|---|',
      `| \`odas index\` of ${stats.files} files, cold | ${i.sqlite.seconds.toFixed(1)} s, ${Math.round(stats.files / i.sqlite.seconds)} files/s | ${i.postgresql.seconds.toFixed(1)} s, ${Math.round(stats.files / i.postgresql.seconds)} files/s (+ ${i.analyzeSeconds.toFixed(1)} s VACUUM ANALYZE) |`,
      `| peak RSS of \`odas index\` | ${i.sqlite.peakMb.toFixed(0)} MB | ${i.postgresql.peakMb.toFixed(0)} MB |`,
      '',
      `Query latencies, ${REQUESTS} sequential requests each, a new box every request (ms): p50 | p95 | errors; the ratio is PostgreSQL p95 / SQLite p95 (target ≤ 2×)`,
      '',
      '| query | SQLite p50 | p95 | errors | PostgreSQL p50 | p95 | errors | p95 ratio | mean matched |',
      '|---|---|---|---|---|---|---|---|---|',
      ...(['items', 'byId', 'stac'] as const).map(
        (k) =>
          `| ${sqliteQ[k].label} | ${row(sqliteQ[k])} | ${row(pgQ[k])} | ${ratio(pgQ[k].p95, sqliteQ[k].p95)} | ${Number.isNaN(sqliteQ[k].meanMatched) ? '' : `${Math.round(sqliteQ[k].meanMatched)} / ${Math.round(pgQ[k].meanMatched)}`} |`,
      ),
      `| EDR area \`${sqliteA.polygon}\` TEMP CoverageJSON (${sqliteA.profiles} / ${pgA.profiles} profiles, ${AREA_RUNS} runs) | ${sqliteA.p50.toFixed(0)} | ${sqliteA.p95.toFixed(0)} | ${sqliteA.status === 200 ? 0 : sqliteA.status} | ${pgA.p50.toFixed(0)} | ${pgA.p95.toFixed(0)} | ${pgA.status === 200 ? 0 : pgA.status} | ${ratio(pgA.p95, sqliteA.p95)} | |`,
      '',
      `Throughput on the PostgreSQL catalog, the items + STAC mix (\`bench/pg-mix.lua\`: items pages at moving offsets and STAC searches with a new box and years, alternately; wrk -t1 -c${CONNECTIONS}, ${SECONDS} s; two replicas: one wrk each, at once${REPLICA_CPU === undefined ? '' : `; each replica capped at ${REPLICA_CPU} CPU by a cgroup CPU quota`}). CPU seconds over the run from /proc (ms per request in brackets); "PostgreSQL" sums every postgres process, other sessions' included:`,
      '',
      '| replicas | req/s | mean ms | non-2xx | machine busy CPU-s | wrk CPU-s | odas CPU-s | PostgreSQL CPU-s | load after |',
      '|---|---|---|---|---|---|---|---|---|',
      mixRow('one', one),
      mixRow('two', two),
      '',
      `Two replicas / one: ${ratio(total(two), total(one))}. Server + PostgreSQL CPU per request: ${(perReq(one) * 1000).toFixed(2)} ms (one), ${(perReq(two) * 1000).toFixed(2)} ms (two); wrk ${ms(one.wrkCpu, one)} ms. With 2 cores and nothing else running, the mix cannot exceed 2 core-s / ${(perReq(two) * 1000).toFixed(2)} ms ≈ ${Math.round(ceiling)} req/s whatever the number of replicas (${Math.round(2 / (perReq(two) + one.wrkCpu / req(one)))} req/s with the load generator on the same cores).`,
    ].join('\n');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * PG_MIX_ONLY=1: the replica throughput alone on the kept PostgreSQL catalog, one replica then two;
 * with PG_MIX_REFERENCE=DIST (another build's dist/), that build is measured the same way first, in the same run.
 */
async function mixOnly(dir: string, cache: string, url: string, work: string): Promise<string> {
  const port = 19000 + Math.floor(Math.random() * 500);
  const builds: Array<[string, string | undefined]> = [];
  const reference = process.env['PG_MIX_REFERENCE'];
  if (reference) builds.push([`reference (${reference})`, reference]);
  builds.push(['this build', undefined]);
  const lines: string[] = [
    `Throughput on the PostgreSQL catalog, the items + STAC mix (\`bench/pg-mix.lua\`, wrk -t1 -c${CONNECTIONS}, ${SECONDS} s; two replicas: one wrk each, at once${REPLICA_CPU === undefined ? '' : `; **each replica capped at ${REPLICA_CPU} CPU** by a cgroup CPU quota, so that the replicas and not the shared cores are the bottleneck`}). CPU seconds over the run from /proc (ms per request in brackets); "PostgreSQL" sums every postgres process, other sessions' included. Load at start: ${load()}.`,
    '',
    '| build | replicas | req/s | mean ms | non-2xx | machine busy CPU-s | wrk CPU-s | odas CPU-s | PostgreSQL CPU-s, all | of them this database | load after |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const notes: string[] = [];
  const db = new URL(url).pathname.slice(1);
  let k = 0;
  for (const [name, dist] of builds) {
    const p1 = await serveOn(dir, cache, port + k++, join(work, `mix${k}.log`), url, false, dist);
    const uncap1 = capReplica(p1, `r${k}`);
    const found = await discoverCollection(p1.base);
    // One warm-up pass: the first requests of a new process pay its connections and plans.
    await mixRun([p1], found.id, db);
    const one = await mixRun([p1], found.id, db);
    const p2 = await serveOn(dir, cache, port + k++, join(work, `mix${k}.log`), url, true, dist);
    const uncap2 = capReplica(p2, `r${k}`);
    await mixRun([p2], found.id, db);
    const two = await mixRun([p1, p2], found.id, db);
    await stopServer(p1.proc);
    await stopServer(p2.proc);
    uncap1();
    uncap2();
    const total = (m: MixRun) => m.rps.reduce((x, y) => x + y, 0);
    const req = (m: MixRun) => total(m) * m.seconds;
    const ms = (cpu: number, m: MixRun) => ((cpu / req(m)) * 1000).toFixed(2);
    const row = (r: string, m: MixRun) =>
      `| ${name} | ${r} | ${Math.round(total(m))}${m.rps.length > 1 ? ` (${m.rps.map(Math.round).join(' + ')})` : ''} | ${m.meanMs.join(' / ')} | ${m.errors} | ${m.busy.toFixed(1)} of ${(2 * m.seconds).toFixed(0)} | ${m.wrkCpu.toFixed(1)} (${ms(m.wrkCpu, m)}) | ${m.serverCpu.toFixed(1)} (${ms(m.serverCpu, m)}) | ${m.pgCpu.toFixed(1)} (${ms(m.pgCpu, m)}) | ${m.ownPgCpu.toFixed(1)} (${ms(m.ownPgCpu, m)}) | ${m.load} |`;
    lines.push(row('one', one), row('two', two));
    const perReq = (m: MixRun) => (m.serverCpu + m.ownPgCpu) / req(m);
    notes.push(
      `${name}: two replicas / one ${ratio(total(two), total(one))}; odas + PostgreSQL (this database's backends) CPU per request ${(perReq(one) * 1000).toFixed(2)} ms (one), ${(perReq(two) * 1000).toFixed(2)} ms (two), wrk ${ms(two.wrkCpu, two)} ms: 2 cores allow ≈ ${Math.round(2 / perReq(two))} req/s for the servers alone, ${Math.round(2 / (perReq(two) + two.wrkCpu / req(two)))} req/s with the load generator on the same cores.`,
    );
  }
  return [...lines, '', ...notes].join('\n');
}

/** PG_INDEX_SIZES=20000,100000: cold `odas index` of trees of those sizes into SQLite and PostgreSQL, in one run. */
async function indexSizes(sizes: string, work: string): Promise<string> {
  const lines = [
    `Cold \`odas index\` (under \`nice -n 10\`, both cores reading files, the database on the same machine) of GDAC-like trees, SQLite then PostgreSQL for each size, load at start ${load()}. "halves": files/s over the first and the second half of the files (from the progress lines).`,
    '',
    '| files | backend | seconds | files/s | halves files/s | odas CPU-s | peak RSS | load after |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const n of sizes.split(',').map(Number)) {
    const r = await indexRun(n, work);
    for (const [name, i] of [
      ['SQLite', r.sqlite],
      ['PostgreSQL', r.postgresql],
    ] as const) {
      lines.push(
        `| ${r.files} | ${name} | ${i.seconds.toFixed(1)}${name === 'PostgreSQL' ? ` (+ ${r.analyzeSeconds.toFixed(1)} s VACUUM ANALYZE)` : ''} | ${Math.round(r.files / i.seconds)} | ${i.halves ? i.halves.map(Math.round).join(' → ') : '?'} | ${i.cpu?.toFixed(1) ?? '?'} | ${i.peakMb.toFixed(0)} MB | ${i.load} |`,
      );
    }
    log(lines[lines.length - 1]!);
  }
  return lines.join('\n');
}
