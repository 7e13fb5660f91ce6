// Features benchmark: indexing a folder of ≥10 000 single-profile Argo files (cold and warm) and
// serving items?limit=100 and a bbox+datetime query, side by side with a static-file reference.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { makeProfiles } from './make-profiles.js';
import { median, peakRssMb, percentile, startServer, stopServer as stop, timedGet } from './server.js';

const OUT = join(import.meta.dirname, 'out');
const PROFILES = Number(process.env['BENCH_PROFILES'] ?? 10_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);

export interface LoadResult {
  label: string;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  bytesPerReq: number;
  errors: number;
}

/** wrk's "1.23ms" / "4.5s" / "800us" as milliseconds. */
function wrkMs(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** wrk (C, from Debian) when installed: a JS load generator saturates before the server does. */
function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

async function loadWrk(
  label: string,
  url: string,
  seconds: number,
  connections: number,
  script?: string,
): Promise<LoadResult> {
  const args = [
    '-t',
    '1',
    '-c',
    String(connections),
    '-d',
    `${seconds}s`,
    '--latency',
    ...(script ? ['-s', script] : []),
    url,
  ];
  const r = spawnSync('wrk', args, { encoding: 'utf8' });
  const out = r.stdout;
  const pct = (p: string) => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const transfer = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB|B)/.exec(out);
  const bytesPerSec = transfer
    ? Number(transfer[1]) * ({ B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as Record<string, number>)[transfer[2]!]!
    : NaN;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors =
    non2xx +
    (sockErr
      ? sockErr
          .slice(1)
          .map(Number)
          .reduce((a, b) => a + b, 0)
      : 0);
  return {
    label,
    rps: Math.round(rps),
    p50: pct('50'),
    p90: pct('90'),
    p99: pct('99'),
    bytesPerReq: Math.round(bytesPerSec / rps),
    errors,
  };
}

export async function load(
  label: string,
  url: string,
  seconds = SECONDS,
  connections = CONNECTIONS,
): Promise<LoadResult> {
  if (wrkAvailable()) return loadWrk(label, url, seconds, connections);
  const r = await autocannon({ url, duration: seconds, connections, pipelining: 1 });
  return {
    label,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    bytesPerReq: Math.round(r.throughput.average / Math.max(1, r.requests.average)),
    errors: r.errors + r.non2xx,
  };
}

export async function benchFeatures(): Promise<string> {
  const data = join(OUT, `argo${PROFILES}`);
  const folder = join(data, 'profiles');
  if (!existsSync(folder) || (await readdir(folder)).length < PROFILES) {
    const made = await makeProfiles(PROFILES, folder);
    process.stderr.write(
      `generated ${made.files} single-profile files (${(made.bytes / 1e6).toFixed(0)} MB) in ${made.seconds.toFixed(1)} s\n`,
    );
  }
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-bench-cache-'));
  const port = 18000 + Math.floor(Math.random() * 1000);
  const cold = await startServer([data], cacheDir, port);
  await stop(cold.proc);
  const warm = await startServer([data], cacheDir, port);
  const base = `http://127.0.0.1:${port}/collections/profiles/items`;
  const check = (await (await fetch(`${base}?limit=1`)).json()) as { numberMatched: number };
  const bboxQuery = 'bbox=0,-50,60,-30&datetime=2009-01-01T00:00:00Z/2011-12-31T23:59:59Z&limit=100';
  const filtered = (await (await fetch(`${base}?${bboxQuery}`)).json()) as {
    numberMatched: number;
    features: Array<{ geometry: { coordinates: number[] }; properties: { datetime: string } }>;
  };
  const wrong = filtered.features.filter((f) => {
    const [x, y] = f.geometry.coordinates;
    return (
      x! < 0 ||
      x! > 60 ||
      y! < -50 ||
      y! > -30 ||
      f.properties.datetime < '2009' ||
      f.properties.datetime > '2011-12-31T23:59:59Z'
    );
  }).length;
  const items = await load('odas items?limit=100', `${base}?limit=100`);
  const bbox = await load('odas bbox+datetime, limit=100 (same query: paging clients)', `${base}?${bboxQuery}`);
  const randomBox = wrkAvailable()
    ? await loadWrk(
        'odas bbox+datetime, limit=100, a new box every request',
        base,
        SECONDS,
        CONNECTIONS,
        join(import.meta.dirname, 'random-bbox.lua'),
      )
    : undefined;
  // EDR area over every profile of the folder: a polygon in the South Atlantic, temperature only.
  const areaUrl = `${base.replace(/\/items$/, '')}/area?coords=${encodeURIComponent('POLYGON((0 -50,40 -50,40 -35,0 -35,0 -50))')}&parameter-name=TEMP&f=CoverageJSON`;
  const areaRuns = [];
  for (let i = 0; i < 7; i++) areaRuns.push(await timedGet(areaUrl));
  const areaMs = areaRuns.map((r) => r.totalMs);
  const rss = await peakRssMb(warm.proc.pid!);
  // Reference: the same first page as a static file, from Node's bare http module (an upper bound
  // for any server that must build the page per request).
  const page = await (await fetch(`${base}?limit=100`)).text();
  await stop(warm.proc);
  const pageFile = join(cacheDir, 'page.json');
  await writeFile(pageFile, page);
  const ref = spawn(
    process.execPath,
    [
      '-e',
      `const b=require('fs').readFileSync(${JSON.stringify(pageFile)});require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/geo+json','content-length':b.length});s.end(b)}).listen(${port + 1},'127.0.0.1',()=>console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => ref.stdout!.once('data', () => resolve()));
  const staticRef = await load(
    'reference: the same page as a static file, bare node:http',
    `http://127.0.0.1:${port + 1}/`,
  );
  await stop(ref);
  await rm(cacheDir, { recursive: true, force: true });
  const row = (r: LoadResult) =>
    `| ${r.label} | ${r.rps} | ${r.p50} | ${r.p90} | ${r.p99} | ${(r.bytesPerReq / 1024).toFixed(1)} | ${r.errors} |`;
  return [
    `### Features: ${check.numberMatched} profiles in one folder collection (${PROFILES} files)`,
    '',
    `Indexing (in the background, measured to \`/status\` idle): cold: port answers after ${cold.readySeconds.toFixed(2)} s, every file indexed ${cold.indexSeconds.toFixed(2)} s later; warm: port after ${warm.readySeconds.toFixed(2)} s, up to date ${warm.indexSeconds.toFixed(2)} s later.`,
    `bbox+datetime check: ${filtered.numberMatched} of ${check.numberMatched} matched, ${wrong} returned feature(s) outside the box or interval.`,
    `Load: ${wrkAvailable() ? 'wrk -t1' : 'autocannon'}, ${CONNECTIONS} connections, ${SECONDS} s each, on the same 2-core machine as the server. Server peak RSS (VmHWM): ${rss.toFixed(0)} MB.`,
    '',
    '| request | req/s | p50 ms | p90 ms | p99 ms | KiB/resp | errors |',
    '|---|---|---|---|---|---|---|',
    row(items),
    row(bbox),
    ...(randomBox ? [row(randomBox)] : []),
    row(staticRef),
    '',
    `EDR area (40°×15° polygon, TEMP, CoverageJSON collection of profiles) over the ${check.numberMatched} profiles: p50 ${median(areaMs).toFixed(0)} ms, p95 ${percentile(areaMs, 95).toFixed(0)} ms over ${areaMs.length} requests, ${(areaRuns[0]!.bytes / 1e6).toFixed(1)} MB, status ${areaRuns[0]!.status}.`,
    '',
  ].join('\n');
}
