// Archive benchmark (issue 8): a GDAC-like tree of ARCHIVE_FILES single-profile Argo files served
// by a real server process, measured from outside: time to answer, cold index, memory, query
// latencies with the index complete, new/removed file pick-up, and an extrapolation to the GDAC.
// BENCH_ONLY=archive ARCHIVE_FILES=100000 npm run bench   (ARCHIVE_FILES=2000 for a smoke run)
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freshness, removeLeftover, type Freshness } from './archive-freshness.js';
import {
  areaLatency,
  discoverCollection,
  queryLatencies,
  type AreaResult,
  type Found,
  type Latency,
  type QueryResults,
} from './archive-queries.js';
import {
  getStatus,
  memory,
  spawnServer,
  stopServer,
  waitForPort,
  waitIndexed,
  type Memory,
  type Spawned,
} from './archive-server.js';
import { boxWithProfiles, ensureGdacTree, type TreeStats } from './gdac-tree.js';

const OUT = join(import.meta.dirname, 'out');
const FILES = Number(process.env['ARCHIVE_FILES'] ?? 100_000);
const REQUESTS = Number(process.env['ARCHIVE_REQUESTS'] ?? 60);
const AREA_RUNS = Number(process.env['ARCHIVE_AREA_RUNS'] ?? 7);
/** Longest wait for a cold index, seconds. */
const TIMEOUT = Number(process.env['ARCHIVE_TIMEOUT'] ?? 4 * 3600);
/** The GDAC's order of magnitude of profile files, for the extrapolation. */
const GDAC_FILES = 3_000_000;
const AREA_TARGET = 10_000;

const log = (line: string) => process.stderr.write(`[archive] ${line}\n`);

/** Bytes under a folder, as `du` counts them on disk. */
function diskBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

interface Start {
  server: Spawned;
  portSeconds: number;
  /** Seconds to a complete index; equal to portSeconds for a server without /status. */
  indexedSeconds: number;
  hasStatus: boolean;
  memory: Memory;
  statusFiles?: { total: number; indexed: number; failed: number };
}

/** A start that did not get to a complete index: how far it got (the process may be gone, so memory is the last sample). */
class StartFailed extends Error {
  constructor(
    message: string,
    readonly seconds: number,
    readonly memory: Memory | undefined,
    readonly lastLog: string,
  ) {
    super(message);
  }
}

/** Why a server died, from its log: the last pino message (progress) and any V8/Node fatal line. */
async function lastLogLine(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const lines = text.split('\n');
  let msg = '';
  for (const l of lines) {
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l) as { msg?: unknown };
      if (typeof j.msg === 'string') msg = j.msg;
    } catch {
      // not a log record
    }
  }
  const fatal = lines.find((l) => /FATAL ERROR|Error:/.test(l)) ?? '';
  return [msg, fatal.trim()].filter(Boolean).join(' — ').slice(0, 400);
}

/**
 * Spawn, time the port, then the index (via /status, or "port answers" for the blocking server).
 * Memory is sampled every second so that a server killed by the OOM killer or a V8 heap limit still
 * leaves its last peak RSS.
 */
async function start(data: string, cacheDir: string, port: number, logFile: string, label: string): Promise<Start> {
  const server = spawnServer(data, cacheDir, port, logFile);
  let sampled: Memory | undefined;
  const sampler = setInterval(
    () =>
      void memory(server.proc.pid!).then((m) => {
        if (Number.isFinite(m.peakMb)) sampled = m;
      }),
    1000,
  );
  try {
    return await startWatched(server, label);
  } catch (err) {
    const seconds = (performance.now() - server.t0) / 1000;
    await stopServer(server.proc);
    throw new StartFailed((err as Error).message, seconds, sampled, await lastLogLine(logFile));
  } finally {
    clearInterval(sampler);
  }
}

async function startWatched(server: Spawned, label: string): Promise<Start> {
  const portSeconds = await waitForPort(server, TIMEOUT);
  log(`${label}: port answers after ${portSeconds.toFixed(2)} s`);
  const first = await getStatus(server.base).catch(() => undefined);
  if (!first) {
    const mem = await memory(server.proc.pid!);
    return { server, portSeconds, indexedSeconds: portSeconds, hasStatus: false, memory: mem };
  }
  let lastLog = 0;
  const done = await waitIndexed(server, TIMEOUT, (st, s) => {
    if (s - lastLog >= 10) {
      lastLog = s;
      log(`${label}: ${st.state} ${st.files.indexed + st.files.failed}/${st.files.total} after ${s.toFixed(0)} s`);
    }
  });
  return {
    server,
    portSeconds,
    indexedSeconds: done.seconds,
    hasStatus: true,
    memory: await memory(server.proc.pid!),
    statusFiles: done.last.files,
  };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');

function hms(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

interface Figures {
  tree: TreeStats;
  generated: boolean;
  cold: Start;
  warm: Start;
  warmIdleMemory: Memory;
  catalogBytes: number;
  found: Found;
  queries: QueryResults;
  area: AreaResult | undefined;
  areaNote: string;
  fresh: Freshness;
}

function latencyRow(l: Latency): string {
  return `| ${l.label} | ${l.n} | ${f1(l.p50)} | ${f1(l.p95)} | ${Number.isFinite(l.meanMatched) ? int(l.meanMatched) : ''} | ${l.errors} |`;
}

function render(x: Figures): string {
  const { tree, cold, warm, found, queries, area, fresh } = x;
  const rate = tree.files / cold.indexedSeconds;
  const perFile = x.catalogBytes / tree.files;
  const layout =
    found.featureCollections > 1
      ? `${found.featureCollections} feature collections (one per float folder: the current layout); measured on the largest, \`${found.id}\` (${int(found.features)} features)`
      : `one feature collection \`${found.id}\` with ${int(found.features)} features (the catalog layout)`;
  const indexNote = cold.hasStatus
    ? `from \`GET /status\` (state idle, ${cold.statusFiles!.indexed} indexed + ${cold.statusFiles!.failed} failed of ${cold.statusFiles!.total})`
    : 'no `GET /status` (404): the server blocks until indexed, so "indexed" = "port answers" (the old behaviour)';
  const appear =
    fresh.appearSeconds === undefined ? `not picked up within ${fresh.limitSeconds} s` : `${f1(fresh.appearSeconds)} s`;
  const gone =
    fresh.appearSeconds === undefined
      ? 'n/a (never appeared)'
      : fresh.goneSeconds === undefined
        ? `still served after ${fresh.limitSeconds} s`
        : `${f1(fresh.goneSeconds)} s`;
  const scale = GDAC_FILES / tree.files;
  return [
    `### Archive: a GDAC-like tree of ${int(tree.files)} single-profile Argo files`,
    '',
    `Tree: \`dac/<centre>/<wmo>/profiles/{D,R}<wmo>_<ccc>.nc\`, ${int(tree.floats)} floats of 6 centres, 100–250 cycles each, N_PROF=1, N_LEVELS=110, ${(tree.bytes / tree.files / 1024).toFixed(1)} KiB per file, ${(tree.bytes / 1e9).toFixed(2)} GB; ` +
      (x.generated
        ? `generated in ${f1(tree.seconds)} s (${int(tree.files / tree.seconds)} files/s).`
        : `reused from bench/out (generated in ${f1(tree.seconds)} s, ${int(tree.files / tree.seconds)} files/s).`),
    `Server: \`node dist/cli.js serve --data TREE --cache-dir CACHE\`, ${layout}. Index completion: ${indexNote}.`,
    '',
    '| start | port answers s | fully indexed s | files/s | peak RSS (VmHWM) MB | RSS MB |',
    '|---|---|---|---|---|---|',
    `| cold (empty cache dir) | ${f2(cold.portSeconds)} | ${f2(cold.indexedSeconds)} | ${int(rate)} | ${int(cold.memory.peakMb)} | ${int(cold.memory.rssMb)} |`,
    `| warm (same cache dir) | ${f2(warm.portSeconds)} | ${f2(warm.indexedSeconds)} | | ${int(x.warmIdleMemory.peakMb)} | ${int(x.warmIdleMemory.rssMb)} |`,
    '',
    `Cold peak RSS is read when the index is complete (before any query); warm figures 2 s after the index is complete. Catalog on disk (the cache dir after the cold run): ${(x.catalogBytes / 1e6).toFixed(1)} MB, ${int(perFile)} B per file.`,
    '',
    `Latencies with the index complete, one request at a time, a new random box every request (fixed seed):`,
    '',
    '| request | n | p50 ms | p95 ms | mean matched | non-200 |',
    '|---|---|---|---|---|---|',
    latencyRow(queries.items),
    latencyRow(queries.byId),
    latencyRow(queries.stac),
    '',
    area
      ? `EDR area, \`${area.polygon}\`, TEMP, CoverageJSON: ${int(area.profiles)} profiles of \`${found.id}\` in it${x.areaNote}; p50 ${int(area.p50)} ms, p95 ${int(area.p95)} ms over ${area.n} requests, ${(area.bytes / 1e6).toFixed(1)} MB, status ${area.status}.`
      : `EDR area: not run${x.areaNote}.`,
    '',
    `New file (\`${fresh.file}\`, cycle 999 at 85°N, written after the index was complete): queryable after ${appear}${fresh.id ? ` (id \`${fresh.id}\`)` : ''}; removed: gone after ${gone}. Target ≤ 30 s each.`,
    '',
    `Extrapolated linearly to the GDAC's ~${int(GDAC_FILES)} profile files (×${f1(scale)}): cold index ${hms(cold.indexedSeconds * scale)} at ${int(rate)} files/s, catalog ${((x.catalogBytes * scale) / 1e9).toFixed(1)} GB on disk` +
      `${cold.hasStatus ? '' : `, and no answer at all until then (the port opens only after indexing)`}; peak RSS ${((cold.memory.peakMb * scale) / 1024).toFixed(1)} GiB if it grew linearly too; the tree itself ≈ ${((tree.bytes * scale) / 1e9).toFixed(0)} GB, generated in ≈ ${hms(tree.seconds * scale)}.`,
    '',
  ].join('\n');
}

function renderFailure(tree: TreeStats, phase: string, f: StartFailed): string {
  return [
    `### Archive: a GDAC-like tree of ${int(tree.files)} single-profile Argo files`,
    '',
    `Tree: ${int(tree.floats)} floats, ${(tree.bytes / 1e9).toFixed(2)} GB, generated in ${f1(tree.seconds)} s (${int(tree.files / tree.seconds)} files/s).`,
    `The ${phase} start failed after ${f1(f.seconds)} s: ${f.message}. Last sampled peak RSS ${f.memory ? `${int(f.memory.peakMb)} MB` : 'n/a'}. Server log (last message — fatal line): \`${f.lastLog.replace(/`/g, "'")}\``,
    '',
  ].join('\n');
}

export async function benchArchive(): Promise<string> {
  await mkdir(OUT, { recursive: true });
  const { dir, stats, generated } = await ensureGdacTree(FILES, OUT, log);
  if (generated)
    log(
      `generated ${stats.files} files in ${stats.seconds.toFixed(1)} s (${Math.round(stats.files / stats.seconds)} files/s)`,
    );
  await removeLeftover(dir, FILES);
  const cacheDir = await mkdtemp(join(OUT, 'archive-cache-'));
  const logFile = join(OUT, `archive-${FILES}-server.log`);
  await rm(logFile, { force: true });
  const port = 19000 + Math.floor(Math.random() * 1000);
  let cold: Start | undefined;
  let warm: Start | undefined;
  let phase = 'cold';
  try {
    cold = await start(dir, cacheDir, port, logFile, 'cold');
    log(`cold: indexed after ${cold.indexedSeconds.toFixed(1)} s, peak RSS ${cold.memory.peakMb.toFixed(0)} MB`);
    const found = await discoverCollection(cold.server.base);
    log(`collection ${found.id}: ${found.features} features (${found.featureCollections} feature collections)`);
    const queries = await queryLatencies(cold.server.base, found, REQUESTS);
    log(
      `queries: items p50 ${queries.items.p50.toFixed(1)} ms, by id ${queries.byId.p50.toFixed(1)} ms, stac ${queries.stac.p50.toFixed(1)} ms`,
    );
    // A polygon over ≥ 10 000 profiles when the collection has them; otherwise the whole collection.
    const dense = found.features >= AREA_TARGET ? boxWithProfiles(FILES, AREA_TARGET) : undefined;
    const box = dense?.bbox ?? found.bbox;
    const areaNote = dense
      ? ''
      : ` (the collection has fewer than ${int(AREA_TARGET)} profiles: the polygon is its whole extent)`;
    const area = await areaLatency(cold.server.base, found, box, AREA_RUNS).catch((err: Error) => {
      log(`EDR area failed: ${err.message}`);
      return undefined;
    });
    if (area) log(`EDR area: ${area.profiles} profiles, p50 ${area.p50.toFixed(0)} ms, status ${area.status}`);
    const fresh = await freshness(cold.server.base, dir, FILES, found.id);
    log(`new file: ${fresh.appearSeconds ?? 'never'} s, removal: ${fresh.goneSeconds ?? 'n/a'} s`);
    await stopServer(cold.server.proc);
    const catalogBytes = diskBytes(cacheDir);
    phase = 'warm';
    warm = await start(dir, cacheDir, port, logFile, 'warm');
    await new Promise((r) => setTimeout(r, 2000));
    const warmIdleMemory = await memory(warm.server.proc.pid!);
    await stopServer(warm.server.proc);
    return render({
      tree: stats,
      generated,
      cold,
      warm,
      warmIdleMemory,
      catalogBytes,
      found,
      queries,
      area,
      areaNote: area ? areaNote : ' (failed: see the log)',
      fresh,
    });
  } catch (err) {
    if (!(err instanceof StartFailed)) throw err;
    log(`${phase} start failed: ${err.message}`);
    return renderFailure(stats, phase, err);
  } finally {
    if (cold) await stopServer(cold.server.proc);
    if (warm) await stopServer(warm.server.proc);
    await rm(cacheDir, { recursive: true, force: true });
  }
}
