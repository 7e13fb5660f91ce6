// Replicas: two real `odas serve` processes on one PostgreSQL catalog. Both serve; one indexes;
// a file indexed by one shows through the other; when the indexer is killed (SIGKILL: no clean
// release) the other takes the advisory lock over and indexes what comes next, within 30 s.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { freshDatabase } from '../helpers/catalog-db.js';
import { sharedData } from '../helpers/data.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Replica {
  proc: ChildProcess;
  base: string;
}

async function startReplica(root: string, catalog: string, cacheDir: string): Promise<Replica> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli.ts'),
      'serve',
      '--data',
      root,
      '--catalog',
      catalog,
      '--cache-dir',
      cacheDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--rescan',
      '1',
      '--workers',
      '1',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT },
  );
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`replica exited with ${proc.exitCode}`);
    if (Date.now() - t0 > 60_000) throw new Error('replica did not listen within 60 s');
    try {
      if ((await fetch(`${base}/status`)).ok) return { proc, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function status(r: Replica): Promise<{ state: string }> {
  return (await (await fetch(`${r.base}/status`)).json()) as { state: string };
}

async function has(r: Replica, id: string): Promise<boolean> {
  return (await fetch(`${r.base}/collections/${id}/items?limit=1`)).status === 200;
}

async function until(what: string, test: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!(await test().catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return Date.now() - t0;
}

t.test('two replicas on one catalog: both serve, one indexes, the other takes over when it dies', async (t) => {
  const catalog = await freshDatabase();
  const root = await mkdtemp(join(tmpdir(), 'odas-replicas-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-replicas-cache-'));
  await copyFile(sharedData('argo/1900857_prof.nc'), join(root, 'a_prof.nc'));
  const a = await startReplica(root, catalog, cacheDir);
  t.teardown(() => void a.proc.kill('SIGKILL'));
  await until('replica A to index the first file', () => has(a, 'a_prof'), 60_000);
  const b = await startReplica(root, catalog, cacheDir);
  t.teardown(() => void b.proc.kill('SIGKILL'));
  t.ok(await has(b, 'a_prof'), 'B serves what A indexed, at once');
  await until('B to see A holds the lock', async () => (await status(b)).state === 'follower', 20_000);
  t.equal((await status(b)).state, 'follower', 'B does not index while A does');
  t.not((await status(a)).state, 'follower', 'A indexes');

  await copyFile(sharedData('argo/3902131_Sprof.nc'), join(root, 'b_Sprof.nc'));
  await until('A to index a new file', () => has(a, 'b_Sprof'), 120_000);
  const seen = await until('a file indexed by A to show through B', () => has(b, 'b_Sprof'), 30_000);
  t.pass(`a file indexed by A is served by B ${seen} ms later`);
  const one = await (await fetch(`${a.base}/collections/b_Sprof/items?limit=5`)).text();
  const two = await (await fetch(`${b.base}/collections/b_Sprof/items?limit=5`)).text();
  const strip = (s: string) => s.replace(/"timeStamp":"[^"]+"/, '').replace(/http:\/\/127\.0\.0\.1:\d+/g, '');
  t.equal(strip(two), strip(one), 'both replicas give the same page');

  a.proc.kill('SIGKILL');
  const killedAt = Date.now();
  await copyFile(sharedData('argo/D1900857_001.nc'), join(root, 'c_single.nc'));
  await until('B to take the indexing over', async () => (await status(b)).state !== 'follower', 30_000);
  const takeover = Date.now() - killedAt;
  t.ok(takeover <= 30_000, `B took the indexing over ${takeover} ms after A was killed`);
  await until('B to index the new file', () => has(b, 'c_single'), 120_000);
  t.pass(`and indexed the next file ${Date.now() - killedAt} ms after A was killed`);
});
