// The STAC API conformance check (scripts/stac-api-check.py: core, collections, features,
// item-search, fields, sort, filter) against a listening server on ../shared/data, and against the
// same server behind a proxy that answers one request wrongly: the check must catch it.
import { execFile } from 'node:child_process';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/app.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'stac-api-check.py');

function check(url: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/python3',
      [SCRIPT, url, '--collection', '1900857_prof'],
      { timeout: 120_000, maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

let app: FastifyInstance;
let base = '';
t.before(async () => {
  app = await buildTestApp();
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
t.teardown(async () => {
  await app.close();
});

t.test('odas passes every check', async (t) => {
  const r = await check(`${base}/stac`);
  const summary = /^(\d+) passed, (\d+) failed$/m.exec(r.out);
  t.ok(summary, r.out.slice(-300));
  t.equal(
    summary?.[2],
    '0',
    r.out
      .split('\n')
      .filter((l) => l.startsWith('FAIL'))
      .join('\n'),
  );
  t.ok(Number(summary?.[1]) > 150, `${summary?.[1]} checks ran`);
  t.equal(r.code, 0);
});

t.test('a deliberately wrong answer fails the check', async (t) => {
  // A proxy that accepts a date alone (200, empty page) where STAC API requires a 400.
  const target = new URL(base);
  const proxy: Server = createServer((req, res) => {
    if (req.url?.includes('datetime=1985-04-12&')) {
      res.writeHead(200, { 'content-type': 'application/geo+json' });
      res.end(JSON.stringify({ type: 'FeatureCollection', features: [], links: [] }));
      return;
    }
    const up = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        u.pipe(res);
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const { port } = proxy.address() as AddressInfo;
  // odas builds its links from the Host header, so every request the check makes goes through the proxy.
  const r = await check(`http://127.0.0.1:${port}/stac`);
  t.match(r.out, /^FAIL item-search: datetime=1985-04-12 is 400: 200$/m);
  t.not(r.code, 0);
});
