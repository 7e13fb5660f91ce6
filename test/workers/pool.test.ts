/**
 * The generic worker pool (src/workers/pool.ts) with a small test worker written inline: errors,
 * crashes, aborts, transfers, close, a failing init, and workers that never keep the process alive.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { PoolClosedError, WorkerCrashedError, WorkerPool, WorkerTaskError } from '../../src/workers/pool.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The error a promise rejects with; throws (failing the test) when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err : new Error(`non-Error rejection: ${String(err)}`);
  }
  throw new Error('expected the promise to reject');
}

type TestRequest =
  | { op: 'echo'; value: unknown }
  | { op: 'sleep'; ms: number }
  | { op: 'handled' }
  | { op: 'exit'; code: number }
  | { op: 'throw' }
  | { op: 'buffer'; n: number };

const POOL_TS = pathToFileURL(path.join(repoRoot, 'src/workers/pool.ts')).href;
const TSX_API = import.meta.resolve('tsx/esm/api');
const TEST_WORKER = `
import { register } from ${JSON.stringify(TSX_API)};
register();
const { serveTasks } = await import(${JSON.stringify(POOL_TS)});
let handled = 0;
serveTasks(async (req) => {
  handled++;
  switch (req.op) {
    case 'echo': return { value: req.value };
    case 'sleep': await new Promise((r) => setTimeout(r, req.ms)); return { value: 'slept' };
    case 'handled': return { value: handled };
    case 'exit': process.exit(req.code);
    case 'throw': throw new RangeError('boom');
    case 'buffer': { const a = new Float64Array(req.n).fill(1.5); return { value: a, transfer: [a.buffer] }; }
  }
});
`;
const testWorkerUrl = new URL(`data:text/javascript,${encodeURIComponent(TEST_WORKER)}`);

t.test('WorkerPool: errors, crashes, aborts, transfer, close', async (t) => {
  const p = new WorkerPool<TestRequest, unknown>(testWorkerUrl, { size: 1, name: 'test', execArgv: [] });
  t.teardown(() => p.close());
  t.same(await p.run({ op: 'echo', value: { a: [1, 2] } }), { a: [1, 2] });

  const thrown = await rejection(p.run({ op: 'throw' }));
  t.type(thrown, WorkerTaskError);
  t.match(thrown.message, /boom/);
  t.equal(thrown.name, 'RangeError');

  // A crash rejects the running task with a clear error; the queued one runs on a replacement.
  const crash = p.run({ op: 'exit', code: 7 });
  const after = p.run({ op: 'echo', value: 'after crash' });
  {
    const e = await rejection(crash);
    t.type(e, WorkerCrashedError);
    t.match(e.message, /test worker exited with code 7 while running task/);
  }
  t.equal(await after, 'after crash');

  // Aborted while queued: dropped, never reaches the worker.
  t.equal(await p.run({ op: 'handled' }), 2, 'fresh worker: echo + this');
  const busy = p.run({ op: 'sleep', ms: 200 });
  const ac = new AbortController();
  const queued = p.run({ op: 'echo', value: 'never' }, { signal: ac.signal });
  ac.abort();
  {
    const e = await rejection(queued);
    t.type(e, Error);
    t.match(e.message, /abort/i);
  }
  t.equal(await busy, 'slept');
  t.equal(await p.run({ op: 'handled' }), 4, 'the aborted task was never handled');

  // Aborted while running: the caller is released at once, the worker finishes, the pool goes on.
  const ac2 = new AbortController();
  const t0 = performance.now();
  const running = p.run({ op: 'sleep', ms: 300 }, { signal: ac2.signal });
  setTimeout(() => ac2.abort(), 50);
  {
    const e = await rejection(running);
    t.type(e, Error);
    t.match(e.message, /abort/i);
  }
  t.ok(performance.now() - t0 < 250, 'released before the worker finished');
  t.equal(await p.run({ op: 'echo', value: 'next' }), 'next');

  const buf = (await p.run({ op: 'buffer', n: 1_000_000 })) as Float64Array;
  t.type(buf, Float64Array);
  t.equal(buf.length, 1_000_000);
  t.equal(buf[999_999], 1.5);

  const pending = rejection(p.run({ op: 'sleep', ms: 500 }));
  await p.close();
  {
    const e = await pending;
    t.type(e, PoolClosedError);
    t.match(e.message, /closed/);
  }
  {
    const e = await rejection(p.run({ op: 'echo', value: 1 }));
    t.type(e, PoolClosedError);
    t.match(e.message, /closed/);
  }
});

t.test('WorkerPool: a worker whose init fails rejects the task instead of hanging', async (t) => {
  const code = `
    import { register } from ${JSON.stringify(TSX_API)};
    register();
    const { serveTasks } = await import(${JSON.stringify(POOL_TS)});
    serveTasks(() => ({ value: 'unreachable' }), { init: async () => { throw new Error('init failed: no wasm'); } });
  `;
  const p = new WorkerPool<TestRequest, unknown>(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    size: 1,
    execArgv: [],
  });
  t.teardown(() => p.close());
  for (let i = 0; i < 2; i++) {
    const e = await rejection(p.run({ op: 'echo', value: i }));
    t.type(e, WorkerCrashedError);
    t.match(e.message, /init failed: no wasm/);
  }
});

t.test('idle workers never keep the process alive; a busy one does', async (t) => {
  const script = `
    import { WorkerPool } from ${JSON.stringify(POOL_TS)};
    const pool = new WorkerPool(new URL(process.env.WORKER_URL), { size: 2, execArgv: [] });
    const [a, b] = await Promise.all([pool.run({ op: 'sleep', ms: 300 }), pool.run({ op: 'echo', value: 42 })]);
    console.log(a, b);
    // no pool.close(): the process must still exit on its own
  `;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, WORKER_URL: testWorkerUrl.href },
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.equal(res.signal, null, 'not killed by the timeout');
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stdout.trim(), 'slept 42');
});
