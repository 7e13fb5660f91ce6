// The archive bench's view of a server process: spawned as a user would, watched from outside
// (port, GET /status, /proc/PID/status), whichever generation of odas it is.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export interface Spawned {
  proc: ChildProcess;
  base: string;
  /** performance.now() at spawn. */
  t0: number;
}

/** `node dist/cli.js serve --data DIR ...`, its output appended to `logFile` (read it when something fails). */
/** The build a server runs: this checkout's, or another's (ODAS_BENCH_DIST: a reference measured in the same run). */
export function spawnServer(
  data: string,
  cacheDir: string,
  port: number,
  logFile: string,
  dist = join(ROOT, 'dist'),
): Spawned {
  const fd = openSync(logFile, 'a');
  const args = [
    join(dist, 'cli.js'),
    'serve',
    '--data',
    data,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--cache-dir',
    cacheDir,
  ];
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return { proc, base: `http://127.0.0.1:${port}`, t0 };
}

export async function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Seconds from spawn until `GET /` gets any HTTP answer (polled every 100 ms). */
export async function waitForPort(s: Spawned, timeoutS: number): Promise<number> {
  const deadline = s.t0 + timeoutS * 1000;
  while (performance.now() < deadline) {
    if (exited(s.proc))
      throw new Error(`server exited (code ${s.proc.exitCode}, signal ${s.proc.signalCode}) before answering`);
    try {
      const res = await fetch(`${s.base}/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return (performance.now() - s.t0) / 1000;
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`port not answering after ${timeoutS} s`);
}

/** What the bench needs from `GET /status` (the catalog server's; older servers answer 404). */
export interface IndexStatus {
  state: string;
  files: { total: number; indexed: number; failed: number };
}

function isIndexStatus(x: unknown): x is IndexStatus {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as { state?: unknown; files?: { total?: unknown; indexed?: unknown; failed?: unknown } };
  return (
    typeof s.state === 'string' &&
    typeof s.files === 'object' &&
    s.files !== null &&
    typeof s.files.total === 'number' &&
    typeof s.files.indexed === 'number' &&
    typeof s.files.failed === 'number'
  );
}

/** The server's /status, or undefined when it has none (404 or not the expected shape). */
export async function getStatus(base: string): Promise<IndexStatus | undefined> {
  const res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    await res.arrayBuffer();
    return undefined;
  }
  const body: unknown = await res.json().catch(() => undefined);
  return isIndexStatus(body) ? body : undefined;
}

/** Complete: idle with every file seen. `total > 0` because a server may say idle before its walk has found anything. */
export function indexDone(s: IndexStatus): boolean {
  return s.state === 'idle' && s.files.total > 0 && s.files.indexed + s.files.failed >= s.files.total;
}

export interface IndexWait {
  /** Seconds from spawn to a complete index. */
  seconds: number;
  last: IndexStatus;
}

/** Polls /status every 0.5 s until the index is complete; `onPoll` sees every answer (progress lines). */
export async function waitIndexed(
  s: Spawned,
  timeoutS: number,
  onPoll?: (st: IndexStatus, seconds: number) => void,
): Promise<IndexWait> {
  const deadline = s.t0 + timeoutS * 1000;
  for (;;) {
    if (exited(s.proc)) throw new Error(`server exited (code ${s.proc.exitCode}) while indexing`);
    const st = await getStatus(s.base).catch(() => undefined);
    const seconds = (performance.now() - s.t0) / 1000;
    if (st) {
      onPoll?.(st, seconds);
      if (indexDone(st)) return { seconds, last: st };
    }
    if (performance.now() > deadline) throw new Error(`index not complete after ${timeoutS} s`);
    await sleep(500);
  }
}

export interface Memory {
  /** Peak resident set since the process started (VmHWM), MB. */
  peakMb: number;
  /** Current resident set (VmRSS), MB. */
  rssMb: number;
}

export async function memory(pid: number): Promise<Memory> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}
