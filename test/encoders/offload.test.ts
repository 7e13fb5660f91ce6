// Large text answers and maps are encoded by the encode workers: the bytes must be those of the same
// encoder run on the main thread, a client that goes away must cancel the worker's job, and the pool
// must show in /metrics and /ready. Real files, a listening server, fetch as the client.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { prepareCoverage } from '../../src/api/coverages/run.js';
import { encodeEdr } from '../../src/api/edr/encode.js';
import { parseEdrQuery } from '../../src/api/edr/query.js';
import { runEdrQuery } from '../../src/api/edr/run.js';
import { buildApp } from '../../src/app.js';
import type { Collection } from '../../src/catalog/collection.js';
import { closeEncodePool, encodePoolStats } from '../../src/encoders/offload/offload.js';
import { discoverRoots, SHARED_DATA } from '../helpers/app.js';

let root: string;
let app: FastifyInstance;
let base: string;
let collections: Map<string, Collection>;

t.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'odas-offload-'));
  for (const f of ['coads_sst.nc', 'coads_sst_classic.nc'])
    await copyFile(join(SHARED_DATA, 'satellite', f), join(root, f));
  collections = await discoverRoots([root]);
  app = await buildApp({ collections });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(async () => {
  await app.close();
  await closeEncodePool();
  await rm(root, { recursive: true, force: true });
});

/** The same answers encoded on this thread by the registry's encoders, as bytes. */
async function bytesOf(body: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of body) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}

t.test('a 2 MB CoverageJSON and a CSV from the workers are byte for byte the main-thread encoding', async (t) => {
  const before = encodePoolStats()?.done ?? 0;
  const covQuery = { datetime: '2000-01-01T00:00:00Z/2000-04-30T00:00:00Z' };
  const res = await fetch(
    `${base}/collections/coads_sst/coverage?${new URLSearchParams({ ...covQuery, f: 'covjson' })}`,
    {
      headers: { 'accept-encoding': 'identity' },
    },
  );
  t.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  t.ok(body.equals(await bytesOf((await prepareCoverage(collections.get('coads_sst')!, covQuery, 'covjson')).body())));
  const doc = JSON.parse(body.toString('utf8')) as { ranges: { SST: { values: Array<number | null> } } };
  t.equal(doc.ranges.SST.values.length, 180 * 90 * 4, 'every value of 4 steps is there');

  const cubeQuery = { bbox: '-180,-90,180,90', datetime: '2000-01-01T00:00:00Z/2000-02-28T00:00:00Z' };
  const csv = await fetch(
    `${base}/collections/coads_sst_classic/cube?${new URLSearchParams({ ...cubeQuery, f: 'csv' })}`,
    {
      headers: { 'accept-encoding': 'identity' },
    },
  );
  t.equal(csv.status, 200);
  const csvBody = Buffer.from(await csv.arrayBuffer());
  t.ok(csvBody.length > 1_000_000, `a large CSV (${csvBody.length} bytes)`);
  const c = collections.get('coads_sst_classic')!;
  const answer = await runEdrQuery(c, parseEdrQuery('cube', c, { ...cubeQuery }), 'test', new AbortController().signal);
  t.ok(csvBody.equals(await bytesOf(encodeEdr('csv', answer))), 'CSV: identical bytes');
  t.equal((encodePoolStats()?.done ?? 0) - before, 2, 'both answers were encoded by a worker');
});

t.test('a client that goes away cancels the worker job', async (t) => {
  const before = encodePoolStats()?.cancelled ?? 0;
  const controller = new AbortController();
  // The whole grid as CSV: ~10 MB, far more than the pieces a worker may send ahead of the client.
  const res = await fetch(`${base}/collections/coads_sst_classic/cube?bbox=-180,-90,180,90&f=csv`, {
    signal: controller.signal,
    headers: { 'accept-encoding': 'identity' },
  });
  t.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  let stats = encodePoolStats();
  for (let i = 0; i < 100 && (stats?.running ?? 0) > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    stats = encodePoolStats();
  }
  t.equal(stats?.running, 0, 'no job left running');
  t.equal((stats?.cancelled ?? 0) - before, 1, 'the job ended as cancelled');
  // The workers serve the next request as before.
  const again = await fetch(
    `${base}/collections/coads_sst_classic/coverage?f=covjson&datetime=2000-01-01T00:00:00Z/2000-04-30T00:00:00Z`,
  );
  t.equal(again.status, 200);
  t.equal(((await again.json()) as { type: string }).type, 'Coverage');
});

t.test('the encode pool is counted in /metrics', async (t) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  t.match(text, /^odas_encode_workers [1-9]/m, 'workers alive');
  t.match(text, /^odas_encode_jobs_running 0$/m);
  t.match(text, /^odas_encode_jobs_queued 0$/m);
  t.match(text, /^odas_encode_jobs_total\{outcome="done"\} [3-9]/m);
  t.match(text, /^odas_encode_jobs_total\{outcome="cancelled"\} 1$/m);
});
