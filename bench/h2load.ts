// One class of the load mix driven by h2load (nghttp2's load generator, Debian package nghttp2-client)
// over HTTP/1.1 keep-alive connections, each asking again as soon as it is answered.
//
// Why h2load and not wrk: on this machine wrk's latency percentiles broke Little's law under the mix
// (50 connections, 7 112 answers in 20.1 s, reported p95 6.5 s: that needs ≥ 2 300 connection-seconds of
// waiting when only 1 005 exist), while a python client on the same server at the same time, and the
// server's own histogram, measured p99s of 0.2 s and 25 ms. h2load writes one line per request (start,
// status, duration) so every figure here is computed from the requests themselves and checked: the
// `little` figure is the sum of the latencies over connections × seconds and must be close to 1.
//
// Warm-up: libuv (≥ 1.45, Node 20) accepts one new connection per event-loop iteration, so on a
// saturated server a burst of N new connections takes N loop turns to be accepted (measured: ~90 ms
// each at 200 clients). The warm-up lets every connection be accepted before the measured window;
// requests that started during the warm-up and ended inside the window are still counted.
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';

export interface ClassFigures {
  connections: number;
  /** Requests answered inside the measured window. */
  requests: number;
  seconds: number;
  ok: number;
  /** 503: deliberate refusals (admission control, draining). */
  busy: number;
  limited: number;
  client: number;
  server: number;
  /** Requests that failed at the socket level (h2load status -1) or h2load's own error/timeout counts. */
  failed: number;
  /** Requests started in the warm-up and answered in the window (h2load logs them with status 0): timed, not classified. */
  carried: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Σ latency / (connections × seconds): ≈ 1 when the figures are consistent (closed loop, no think time). */
  little: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Figures of one h2load per-request log (start µs, status, duration µs per line). */
function classFigures(log: string, connections: number, seconds: number, failedByTool: number): ClassFigures {
  const ms: number[] = [];
  const f = { ok: 0, busy: 0, limited: 0, client: 0, server: 0, failed: failedByTool, carried: 0 };
  for (const line of log.split('\n')) {
    if (line === '') continue;
    const [, statusText, durationText] = line.split('\t');
    const status = Number(statusText);
    ms.push(Number(durationText) / 1000);
    if (status >= 200 && status < 400) f.ok++;
    else if (status === 503) f.busy++;
    else if (status === 429) f.limited++;
    else if (status >= 400 && status < 500) f.client++;
    else if (status >= 500) f.server++;
    else if (status === 0) f.carried++;
    else f.failed++;
  }
  const sorted = Float64Array.from(ms).sort();
  const sum = ms.reduce((a, b) => a + b, 0);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    connections,
    requests: ms.length,
    seconds,
    ...f,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : NaN),
    little: Math.round((sum / 1000 / (connections * seconds)) * 100) / 100,
  };
}

/** h2load's own count of requests that errored or timed out (its summary line). */
function toolFailures(stdout: string): number {
  const m = /requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, \d+ failed, (\d+) errored, (\d+) timeout/.exec(
    stdout,
  );
  return m ? Number(m[1]) + Number(m[2]) : 0;
}

export function h2loadInstalled(): Promise<boolean> {
  return new Promise((resolve) => execFile('h2load', ['--version'], (err) => resolve(err === null)));
}

/**
 * Runs `connections` clients over the paths in `pathsFile` (in turn, from each client's own start)
 * for `warmup` + `seconds`, and returns the figures of the measured window.
 */
export async function runClass(opts: {
  base: string;
  pathsFile: string;
  connections: number;
  seconds: number;
  warmup: number;
  logFile: string;
}): Promise<ClassFigures> {
  const paths = (await readFile(opts.pathsFile, 'utf8')).split('\n').filter(Boolean);
  const uris = `${opts.pathsFile}.uris`;
  // h2load takes full URIs; every client goes through them in order (the warm-up spreads them apart).
  await writeFile(uris, `${paths.map((p) => `${opts.base}${p}`).join('\n')}\n`);
  // h2load appends to an existing log.
  await rm(opts.logFile, { force: true });
  const stdout = await new Promise<string>((resolve) =>
    execFile(
      'h2load',
      [
        '--h1',
        '-c',
        String(opts.connections),
        '-D',
        String(opts.seconds),
        '--warm-up-time',
        String(opts.warmup),
        '-i',
        uris,
        '--log-file',
        opts.logFile,
      ],
      { maxBuffer: 1 << 22 },
      (err, out, errText) => {
        // A crashed h2load (its libev asserts on some closed sockets) leaves a partial log: report it, keep the figures.
        if (err) process.stderr.write(`h2load for ${opts.pathsFile} failed: ${err.message} ${errText}\n`);
        resolve(out);
      },
    ),
  );
  const log = await readFile(opts.logFile, 'utf8');
  return classFigures(log, opts.connections, opts.seconds, toolFailures(stdout));
}
