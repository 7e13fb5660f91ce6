import { copyFile, mkdtemp, open, rm, stat, utimes } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import type { OpsConfigInput } from '../../src/config/ops-schema.js';
import { closeEncodePool, encodePoolStats } from '../../src/encoders/offload/offload.js';
import { discoverRoots, SHARED_DATA } from '../helpers/app.js';

const GRID = 'coads_sst_classic';
const PROF = '1900857_prof';
const COVERAGE = `/collections/${GRID}/coverage?subset=COADSX(20:60),COADSY(-20:20),TIME("2000-01-16T06:00:00Z")&f=covjson`;

let root: string;

async function listen(ops?: OpsConfigInput): Promise<{ app: FastifyInstance; base: string }> {
  const collections = await discoverRoots([root]);
  const app = await buildApp({ collections, ...(ops ? { ops } : {}) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

t.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'odas-ops-'));
  await copyFile(join(SHARED_DATA, 'satellite', `${GRID}.nc`), join(root, `${GRID}.nc`));
  await copyFile(join(SHARED_DATA, 'argo', `${PROF}.nc`), join(root, `${PROF}.nc`));
});
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('health, readiness, metrics and request ids', async (t) => {
  const { app, base } = await listen();
  t.teardown(() => app.close());
  const health = await fetch(`${base}/health`);
  t.equal(health.status, 200);
  t.equal(health.headers.get('cache-control'), 'no-store');
  t.equal(((await health.json()) as { status: string }).status, 'ok');
  const ready = await fetch(`${base}/ready`);
  t.equal(ready.status, 200);
  const r = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
  t.equal(r.status, 'ready');
  t.ok(r.checks['catalog']?.ok && r.checks['workers']?.ok && r.checks['indexing']?.ok);

  const items = await fetch(`${base}/collections/${PROF}/items?limit=3`, {
    headers: { 'x-request-id': 'probe-42', 'accept-encoding': 'identity' },
  });
  t.equal(items.status, 200);
  t.equal(items.headers.get('x-request-id'), 'probe-42', 'the request id comes back');
  const body = await items.text();
  t.equal((await fetch(`${base}/collections/nope`)).status, 404);
  t.equal(
    (await fetch(`${base}/collections/${GRID}/coverage?f=covjson&subset=COADSX(20:30),COADSY(0:10)`)).status,
    200,
  );

  const metrics = await fetch(`${base}/metrics`);
  t.equal(metrics.status, 200);
  t.match(metrics.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await metrics.text();
  t.match(
    text,
    /odas_http_requests_total\{method="GET",route="\/collections\/:collectionId\/items",status="200"\} 1\b/,
  );
  t.match(text, /odas_http_requests_total\{method="GET",route="\/collections\/:collectionId",status="404"\} 1\b/);
  t.match(
    text,
    /odas_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/collections\/:collectionId\/items",status="200"\} 1\b/,
  );
  const sent = Number(
    /odas_http_response_bytes_total\{route="\/collections\/:collectionId\/items"\} (\d+)/.exec(text)?.[1],
  );
  t.ok(sent > body.length, `bytes out counts headers and body (${sent} > ${body.length})`);
  t.match(text, /odas_work_running\{class="data"\} [01]\b/);
  t.match(text, /odas_work_queued\{class="heavy"\} 0/);
  t.match(text, /odas_hdf5_chunk_cache_hits_total \d+/);
  t.match(text, /odas_index_files\{state="total"\} 2/);
  t.match(text, /odas_catalog_collections 2/);
  t.match(text, /odas_reader_errors_total/);
  t.match(text, /process_resident_memory_bytes \d+/);
  t.match(text, /process_open_fds \d+/);
});

t.test('ETag, Last-Modified and 304s', async (t) => {
  const { app, base } = await listen({ cacheControl: { data: 'public, max-age=7' } });
  t.teardown(() => app.close());

  const meta = await fetch(`${base}/collections?f=json`);
  const etag = meta.headers.get('etag')!;
  t.match(etag, /^"[A-Za-z0-9_-]{27}"$/, 'a strong ETag');
  t.equal(meta.headers.get('cache-control'), 'public, max-age=60');
  t.ok(meta.headers.get('last-modified'));
  const again = await fetch(`${base}/collections?f=json`, { headers: { 'if-none-match': etag } });
  t.equal(again.status, 304);
  t.equal(await again.text(), '');
  t.equal(again.headers.get('etag'), etag);
  const html = await fetch(`${base}/collections?f=html`, { headers: { 'if-none-match': etag } });
  t.equal(html.status, 200, 'another format is another representation');

  const first = await fetch(`${base}${COVERAGE}`);
  t.equal(first.status, 200);
  const cov = (await first.json()) as { ranges: Record<string, { values: unknown[] }> };
  t.ok(cov.ranges['SST']!.values.length > 0);
  t.equal(first.headers.get('cache-control'), 'public, max-age=7', 'the configured policy for data');
  const dataTag = first.headers.get('etag')!;
  const mtime = (await stat(join(root, `${GRID}.nc`))).mtimeMs;
  t.equal(
    first.headers.get('last-modified'),
    new Date(Math.floor(mtime / 1000) * 1000).toUTCString(),
    'Last-Modified is the file mtime',
  );
  // The same query spelt in another order is the same answer.
  const reordered = COVERAGE.replace(/\?(.*)$/, (_m, q: string) => `?${q.split('&').reverse().join('&')}`);
  const cached = await fetch(`${base}${reordered}`, { headers: { 'if-none-match': dataTag } });
  t.equal(cached.status, 304);
  const ims = await fetch(`${base}${COVERAGE}`, {
    headers: { 'if-modified-since': first.headers.get('last-modified')! },
  });
  t.equal(ims.status, 304, 'If-Modified-Since at the file time');
  const older = await fetch(`${base}${COVERAGE}`, {
    headers: { 'if-modified-since': new Date(mtime - 3_600_000).toUTCString() },
  });
  t.equal(older.status, 200);
  await older.arrayBuffer();
  const other = await fetch(`${base}${COVERAGE.replace('COADSX(20:60)', 'COADSX(20:61)')}`, {
    headers: { 'if-none-match': dataTag },
  });
  t.equal(other.status, 200, 'another query is another answer');
  await other.arrayBuffer();

  // The file changes: the old tag no longer matches.
  const later = new Date(mtime + 60_000);
  await utimes(join(root, `${GRID}.nc`), later, later);
  await new Promise((r) => setTimeout(r, 1100));
  const changed = await fetch(`${base}${COVERAGE}`, { headers: { 'if-none-match': dataTag } });
  t.equal(changed.status, 200);
  t.not(changed.headers.get('etag'), dataTag);
  await changed.arrayBuffer();

  const bad = await fetch(`${base}/collections/${GRID}/coverage?f=nonsense`);
  t.equal(bad.status, 400);
  t.notOk(bad.headers.get('etag'), 'an error carries no validator');
  t.equal(bad.headers.get('cache-control'), 'no-store');
  t.equal((await fetch(`${base}/status`)).headers.get('cache-control'), 'no-store');

  // A 304 costs no read: timed over many revalidations (printed, not asserted: timing belongs in the bench).
  const t0 = performance.now();
  for (let i = 0; i < 50; i++)
    await (
      await fetch(`${base}${COVERAGE}`, { headers: { 'if-none-match': changed.headers.get('etag')! } })
    ).arrayBuffer();
  t.comment(`304 round trip: ${((performance.now() - t0) / 50).toFixed(2)} ms`);
});

t.test('saturation: 503 with Retry-After at once, other classes keep serving', async (t) => {
  const { app, base } = await listen({ limits: { data: { concurrency: 1, queue: 1, waitMs: 300 } } });
  t.teardown(() => app.close());
  const release = await app.ops.admission.limiters.data.acquire();
  // The queue holds one: that request waits, and is refused when its wait is over.
  const queued = fetch(`${base}${COVERAGE}`);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const full = await fetch(`${base}${COVERAGE}`);
  const ms = performance.now() - t0;
  t.equal(full.status, 503);
  t.equal(full.headers.get('retry-after'), '1');
  t.same(Object.keys((await full.json()) as object), ['code', 'description']);
  t.ok(ms < 200, `refused at once (${ms.toFixed(1)} ms)`);
  t.equal((await fetch(`${base}/collections/${PROF}/items?limit=1`)).status, 200, 'feature pages are another class');
  const waited = await queued;
  t.equal(waited.status, 503, 'the queued request was refused after its wait');
  t.match(((await waited.json()) as { description: string }).description, /waited too long/);
  release();
  const ok = await fetch(`${base}${COVERAGE}`);
  t.equal(ok.status, 200);
  await ok.arrayBuffer();
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /odas_requests_rejected_total\{class="data",reason="queue full"\} 1/);
  t.match(metrics, /odas_requests_rejected_total\{class="data",reason="waited too long"\} 1/);
});

t.test('a refusal is logged like a client error: info, no stack trace', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    }),
  );
  const collections = await discoverRoots([root]);
  const app = await buildApp({
    collections,
    logger,
    ops: { limits: { data: { concurrency: 1, queue: 0, waitMs: 100 } } },
  });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const release = await app.ops.admission.limiters.data.acquire();
  const res = await fetch(`${base}${COVERAGE}`);
  t.equal(res.status, 503);
  const id = res.headers.get('x-request-id');
  await res.arrayBuffer();
  release();
  const refusal = lines.find((l) => l['reqId'] === id && /busy with data/.test(String(l['msg'])));
  t.ok(refusal, 'the refusal is logged');
  t.equal(refusal?.['level'], 30, 'at info');
  t.notOk(refusal?.['err'], 'without an error object or its stack');
  t.notOk(
    lines.some((l) => l['reqId'] === id && Number(l['level']) >= 50),
    'nothing at error level for this request',
  );
});

t.test('WMS refusals come in the WMS error form', async (t) => {
  const { app, base } = await listen({ limits: { data: { concurrency: 1, queue: 0, waitMs: 100 } } });
  t.teardown(() => app.close());
  const release = await app.ops.admission.limiters.data.acquire();
  const res = await fetch(
    `${base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=${GRID}/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=64&HEIGHT=32&FORMAT=image/png`,
  );
  t.equal(res.status, 503);
  t.ok(res.headers.get('retry-after'));
  t.match(res.headers.get('content-type'), /application\/vnd\.ogc\.se_xml/);
  t.match(await res.text(), /<ServiceException code="ServiceUnavailable">/);
  release();
});

t.test('heavy encodes take a heavy slot', async (t) => {
  const { app, base } = await listen({ limits: { heavy: { concurrency: 1, queue: 0, waitMs: 100 } } });
  t.teardown(() => app.close());
  const release = await app.ops.admission.limiters.heavy.acquire();
  const whole = await fetch(`${base}/collections/${GRID}/coverage?f=covjson`);
  t.equal(whole.status, 503, 'a CoverageJSON of the whole grid (~2 MB) is a heavy encode');
  await whole.arrayBuffer();
  const small = await fetch(`${base}${COVERAGE}`);
  t.equal(small.status, 200, 'a small one is not');
  await small.arrayBuffer();
  const binary = await fetch(`${base}/collections/${GRID}/coverage?f=netcdf`);
  t.equal(binary.status, 200, 'a binary encoding is not');
  await binary.arrayBuffer();
  release();
});

/** Polls until `ok()` holds (state reached by another request in flight); fails the test after 10 s. */
async function until(ok: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  return ok();
}

const WHOLE = `/collections/${GRID}/coverage?f=covjson`;

t.test('a heavy answer gives its data slot back: small ones run while it waits for the heavy lane', async (t) => {
  const { app, base } = await listen({
    limits: { data: { concurrency: 1, queue: 0, waitMs: 100 }, heavy: { concurrency: 1, queue: 1, waitMs: 60_000 } },
  });
  t.teardown(async () => {
    await app.close();
    await closeEncodePool();
  });
  const { data, heavy } = app.ops.admission.limiters;
  const release = await heavy.acquire();
  const big = fetch(`${base}${WHOLE}`);
  t.ok(await until(() => heavy.stats.queued === 1), 'the ~2 MB CoverageJSON waits for the heavy lane');
  t.equal(data.stats.running, 0, 'without holding the only data slot');
  const small = await fetch(`${base}${COVERAGE}`);
  t.equal(small.status, 200, 'so a small subset is served meanwhile');
  await small.arrayBuffer();
  release();
  const answer = await big;
  t.equal(answer.status, 200, 'then the heavy answer');
  t.ok((await answer.arrayBuffer()).byteLength > 1024 * 1024);
});

t.test('a saturated class whose queue cannot be served within the wait refuses at once', async (t) => {
  const { app, base } = await listen({ limits: { data: { concurrency: 1, queue: 8, waitMs: 200 } } });
  t.teardown(() => app.close());
  const { data } = app.ops.admission.limiters;
  // One slot held 300 ms: the class's recent service time is now over its 200 ms wait.
  const first = await data.acquire();
  await new Promise((r) => setTimeout(r, 300));
  first();
  t.ok(data.stats.meanServiceMs >= 300);
  const release = await data.acquire();
  const res = await fetch(`${base}${COVERAGE}`);
  t.equal(res.status, 503, 'refused although the queue has room');
  t.ok(res.headers.get('retry-after'));
  const body = (await res.json()) as { code: string; description: string };
  t.same(Object.keys(body), ['code', 'description']);
  t.match(body.description, /would wait too long/);
  t.equal(data.stats.queued, 0, 'it never queued');
  release();
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /odas_requests_rejected_total\{class="data",reason="would wait too long"\} 1/);
  t.notMatch(metrics, /reason="waited too long"/);
});

t.test('predictive: false keeps queueing up to the queue length', async (t) => {
  const { app, base } = await listen({
    limits: { data: { concurrency: 1, queue: 1, waitMs: 200, predictive: false } },
  });
  t.teardown(() => app.close());
  const { data } = app.ops.admission.limiters;
  const first = await data.acquire();
  await new Promise((r) => setTimeout(r, 300));
  first();
  const release = await data.acquire();
  const queued = fetch(`${base}${COVERAGE}`);
  t.ok(await until(() => data.stats.queued === 1), 'queued despite the expected wait');
  release();
  const res = await queued;
  t.equal(res.status, 200);
  await res.arrayBuffer();
});

t.test('clients that leave while their heavy answers run or wait leave no encode job behind', async (t) => {
  const { app, base } = await listen();
  t.teardown(async () => {
    await app.close();
    await closeEncodePool();
  });
  const { port, hostname } = new URL(base);
  // Six raw connections (as a load generator closing at the end of its run): two answers running, four queued.
  const sockets = Array.from({ length: 6 }, () => {
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    socket.write(`GET ${WHOLE} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    socket.resume();
    return socket;
  });
  const { heavy } = app.ops.admission.limiters;
  t.ok(await until(() => heavy.stats.running === 2 && heavy.stats.queued === 4));
  for (const socket of sockets) socket.destroy();
  t.ok(await until(() => heavy.stats.running === 0 && heavy.stats.queued === 0), 'their slots are given back');
  t.ok(await until(() => encodePoolStats()?.running === 0), 'and their encode jobs end');
  t.equal(encodePoolStats()?.queued, 0);
  const after = await fetch(`${base}${WHOLE}`);
  t.equal(after.status, 200, 'the next heavy answer is served');
  await after.arrayBuffer();
});

t.test('per-client rate limit: 429 with Retry-After', async (t) => {
  const { app, base } = await listen({ rateLimit: { perSecond: 0.5, burst: 2 } });
  t.teardown(() => app.close());
  t.equal((await fetch(`${base}/conformance`)).status, 200);
  t.equal((await fetch(`${base}/conformance`)).status, 200);
  const over = await fetch(`${base}/conformance`);
  t.equal(over.status, 429);
  t.equal(over.headers.get('retry-after'), '2');
  t.equal(((await over.json()) as { code: string }).code, 'TooManyRequests');
  t.equal(
    (await fetch(`${base}/conformance`, { headers: { authorization: 'Bearer someone-else' } })).status,
    200,
    'another client has its own bucket',
  );
  t.equal((await fetch(`${base}/health`)).status, 200, 'health is never limited');
});

t.test('a file broken after indexing: 502 for its requests, counted as a reader error', async (t) => {
  const broken = await mkdtemp(join(tmpdir(), 'odas-ops-broken-'));
  t.teardown(() => rm(broken, { recursive: true, force: true }));
  await copyFile(join(SHARED_DATA, 'satellite', `${GRID}.nc`), join(broken, `${GRID}.nc`));
  const app = await buildApp({ collections: await discoverRoots([broken]) });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const fh = await open(join(broken, `${GRID}.nc`), 'r+');
  await fh.write(Buffer.from('XXXX'), 0, 4, 0);
  await fh.close();
  const res = await fetch(`${base}${COVERAGE}`);
  t.equal(res.status, 502);
  t.equal(((await res.json()) as { code: string }).code, 'DataSourceError');
  t.equal((await fetch(`${base}/collections`)).status, 200, 'the rest keeps serving');
  const text = await (await fetch(`${base}/metrics`)).text();
  t.match(text, /odas_reader_errors_total\{kind="DataSourceError"\} 1/);
});
