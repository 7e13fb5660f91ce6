import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SHARED_DATA } from '../helpers/app.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GRID = 'coads_sst_classic';

interface Server {
  proc: ChildProcess;
  base: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** `odas serve` as a real process; its port is read from its log. */
async function start(root: string, conf: string, extra: string[] = []): Promise<Server> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli.ts'),
      'serve',
      '--data',
      root,
      '--collections',
      conf,
      '--no-cache',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--rescan',
      '0',
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      rest += d.toString();
      const all = rest.split('\n');
      rest = all.pop()!;
      for (const l of all) {
        try {
          const o = JSON.parse(l) as Record<string, unknown>;
          lines.push(o);
          const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(String(o['msg']));
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        } catch {
          // not a log line
        }
      }
    });
  });
  // Ready once the first scan is done (the collections exist); a server that never gets there fails
  // here, not in the first check that needs the collection.
  const readyBy = Date.now() + 60_000;
  for (;;) {
    const r = await fetch(`${base}/collections/${GRID}`).catch(() => undefined);
    if (r?.status === 200) break;
    if (Date.now() > readyBy) {
      proc.kill('SIGKILL');
      throw new Error(`the server at ${base} did not serve ${GRID} within 60 s of listening`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, base, lines, exited };
}

/** A streamed answer read slowly: `pause` stops reading, `done` resolves with the bytes read and whether it ended cleanly. */
function slowGet(url: string): {
  response: Promise<IncomingMessage>;
  done: Promise<{ bytes: number; complete: boolean }>;
} {
  let resolveRes!: (r: IncomingMessage) => void;
  const response = new Promise<IncomingMessage>((r) => (resolveRes = r));
  const done = new Promise<{ bytes: number; complete: boolean }>((resolve) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      resolveRes(res);
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ bytes, complete: res.complete }));
      res.on('error', () => resolve({ bytes, complete: false }));
      res.on('close', () => resolve({ bytes, complete: res.complete }));
    });
    req.on('error', () => resolve({ bytes: 0, complete: false }));
    req.end();
  });
  return { response, done };
}

let scratch: string;
let root: string;
let conf: string;

t.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'odas-life-'));
  root = join(scratch, 'data');
  conf = join(scratch, 'collections');
  await mkdir(root);
  await mkdir(conf);
  await copyFile(join(SHARED_DATA, 'satellite', `${GRID}.nc`), join(root, `${GRID}.nc`));
  await writeFile(join(conf, 'grid.yaml'), `id: ${GRID}\ntitle: First title\nsource: ${GRID}.nc\n`);
});
t.teardown(() => rm(scratch, { recursive: true, force: true }));

t.test('SIGHUP reloads configs, access log lines, SIGTERM lets streams finish and exits 0', async (t) => {
  const s = await start(root, conf, ['--shutdown-timeout', '20']);
  t.teardown(() => void s.proc.kill('SIGKILL'));
  const doc = (await (
    await fetch(`${s.base}/collections/${GRID}`, { headers: { 'x-request-id': 'life-1' } })
  ).json()) as { title: string };
  t.equal(doc.title, 'First title');

  // A whole-grid NetCDF answer (~3 MB) read slowly spans the reload and the shutdown.
  const slow = slowGet(`${s.base}/collections/${GRID}/coverage?f=netcdf`);
  const res = await slow.response;
  t.equal(res.statusCode, 200);
  const expected = Number(res.headers['content-length']);
  res.pause();

  await writeFile(
    join(conf, 'grid.yaml'),
    `id: ${GRID}\ntitle: Second title\nsource: ${GRID}.nc\naccess: { tokens: [letmein] }\n`,
  );
  s.proc.kill('SIGHUP');
  let title = '';
  for (let i = 0; i < 50 && title !== 'Second title'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const r = await fetch(`${s.base}/collections/${GRID}`, { headers: { authorization: 'Bearer letmein' } });
    if (r.status === 200) title = ((await r.json()) as { title: string }).title;
  }
  t.equal(title, 'Second title', 'the new title is served after SIGHUP');
  t.equal((await fetch(`${s.base}/collections/${GRID}`)).status, 401, 'and the new access rule');

  s.proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  const refused = await fetch(`${s.base}/conformance`).then(
    (r) => r.status,
    () => 'refused',
  );
  t.ok(refused === 'refused' || refused === 503, `no new requests after SIGTERM (${refused})`);
  res.resume();
  const got = await slow.done;
  t.ok(got.complete && got.bytes === expected, `the stream in flight finished (${got.bytes} of ${expected} bytes)`);
  t.equal(await s.exited, 0, 'exit code 0');

  const access = s.lines.filter((l) => l['msg'] === 'request');
  const first = access.find((l) => l['reqId'] === 'life-1');
  t.ok(first, 'an access line carries the request id');
  t.match(first, { method: 'GET', route: '/collections/:collectionId', status: 200, bytes: Number, ms: Number });
  t.ok((first!['bytes'] as number) > 0);
  t.ok(s.lines.some((l) => /SIGHUP: 1 collection config\(s\) reloaded/.test(String(l['msg']))));
  t.ok(s.lines.some((l) => l['msg'] === 'stopped'));
});

t.test('SIGTERM cuts a stalled stream at the deadline and exits 0', async (t) => {
  await writeFile(join(conf, 'grid.yaml'), `id: ${GRID}\nsource: ${GRID}.nc\n`);
  const s = await start(root, conf, ['--shutdown-timeout', '1']);
  t.teardown(() => void s.proc.kill('SIGKILL'));
  const slow = slowGet(`${s.base}/collections/${GRID}/coverage?f=covjson`);
  const res = await slow.response;
  res.pause();
  const t0 = Date.now();
  s.proc.kill('SIGTERM');
  t.equal(await s.exited, 0, 'exit code 0');
  const ms = Date.now() - t0;
  t.ok(ms >= 900 && ms < 10_000, `exited after the deadline (${ms} ms)`);
  res.resume();
  const got = await slow.done;
  t.notOk(got.complete, 'the stalled answer was cut');
  t.ok(s.lines.some((l) => /deadline reached/.test(String(l['msg']))));
});
