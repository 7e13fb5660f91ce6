// Starting and stopping a built odas server for the benchmarks, and reading its peak memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export interface RunningServer {
  proc: ChildProcess;
  base: string;
  /** Seconds from the port answering until `/status` reports every file indexed (the server indexes in the background). */
  indexSeconds: number;
  /** Seconds from spawn to listening. */
  readySeconds: number;
}

export async function startServer(
  dataRoots: string[],
  cacheDir: string,
  port: number,
  onLog?: (entry: Record<string, unknown>) => void,
  opts: { cli?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const t0 = Date.now();
  const args = [
    opts.cli ?? join(ROOT, 'dist', 'cli.js'),
    'serve',
    ...dataRoots.flatMap((d) => ['--data', d]),
    '--cache-dir',
    cacheDir,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'info',
    ...(opts.args ?? []),
  ];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line) as { msg?: string; seconds?: number };
          onLog?.(j);
          if (j.msg?.startsWith('Server listening')) resolve();
        } catch {
          // not a JSON log line
        }
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  if (!onLog) proc.stdout!.resume();
  const readySeconds = (Date.now() - t0) / 1000;
  const base = `http://127.0.0.1:${port}`;
  // Measure the complete archive, not the part indexed when the port opened.
  for (;;) {
    const s = (await (await fetch(`${base}/status`)).json()) as {
      state: string;
      files: { total: number; indexed: number; failed: number };
    };
    if (s.state === 'idle' && s.files.total > 0 && s.files.indexed + s.files.failed >= s.files.total) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, base, indexSeconds: (Date.now() - t0) / 1000 - readySeconds, readySeconds };
}

export async function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

/** Peak resident memory (VmHWM) of a process, in MB. */
export async function peakRssMb(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024;
}

export interface Timed {
  status: number;
  /** Milliseconds to the first body byte. */
  firstByteMs: number;
  totalMs: number;
  bytes: number;
}

/** One GET, timing the first body byte and the whole body, without keeping the body. */
export async function timedGet(url: string): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(url);
  const reader = res.body!.getReader();
  let firstByteMs = NaN;
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - t0;
    bytes += value.length;
  }
  return { status: res.status, firstByteMs, totalMs: performance.now() - t0, bytes };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
}
