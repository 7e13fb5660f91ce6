// The database goes away and comes back (a TCP proxy in front of the shared PostgreSQL is closed and
// reopened; the server itself is never stopped: other sessions use it). Requests that need the
// catalog answer 503 with Retry-After meanwhile, promptly; the rest keeps serving; then it reconnects.
import { createServer, type Server, type Socket } from 'node:net';
import { connect } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { discover } from '../../src/catalog/discover.js';
import { catalogOf } from '../../src/catalog/catalog.js';
import { freshDatabase } from '../helpers/catalog-db.js';
import { silent } from '../helpers/app.js';
import { sharedData } from '../helpers/data.js';

class Proxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(readonly port: number) {}
  static async start(): Promise<Proxy> {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const p = new Proxy(port);
    await p.up();
    return p;
  }
  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

t.test('database away: 503 with Retry-After, never a hang; the rest serves; it reconnects', async (t) => {
  const url = new URL(await freshDatabase());
  const proxy = await Proxy.start();
  url.port = String(proxy.port);
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-outage-'));
  const collections = await discover({
    dataRoots: [sharedData('argo')],
    configs: [],
    log: silent,
    cacheDir,
    catalog: url.toString(),
  });
  const catalog = catalogOf(collections)!;
  const app = await buildApp({ collections });
  t.teardown(async () => {
    await app.close();
    await catalog.close();
    await proxy.down();
  });
  const items = '/collections/1900857_prof/items?limit=2';
  t.equal((await app.inject({ url: items })).statusCode, 200, 'served while the database is there');

  await proxy.down();
  const t0 = Date.now();
  const away = await app.inject({ url: items });
  t.equal(away.statusCode, 503, 'a request that needs the catalog: 503');
  t.ok(Number(away.headers['retry-after']) > 0, 'with Retry-After');
  t.equal((JSON.parse(away.body) as { code: string }).code, 'ServiceUnavailable');
  t.ok(Date.now() - t0 < 12_000, `answered in ${Date.now() - t0} ms, not a hang`);
  t.equal(
    (await app.inject({ url: '/collections/1900857_prof' })).statusCode,
    200,
    'a collection description needs no database',
  );
  t.equal((await app.inject({ url: '/stac/search?limit=1' })).statusCode, 503, 'STAC search: 503 too');

  await proxy.up();
  const back = await app.inject({ url: items });
  t.equal(back.statusCode, 200, 'the pool reconnects once the database is back');
  t.equal((JSON.parse(back.body) as { numberReturned: number }).numberReturned, 2);
});

t.test('connections terminated by the server (pg_terminate_backend) are replaced without an error', async (t) => {
  const url = await freshDatabase();
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-terminate-'));
  const collections = await discover({
    dataRoots: [sharedData('argo')],
    configs: [],
    log: silent,
    cacheDir,
    catalog: url,
  });
  const catalog = catalogOf(collections)!;
  t.teardown(() => catalog.close());
  const app = await buildApp({ collections });
  t.teardown(() => app.close());
  const items = '/collections/1900857_prof/items?limit=3';
  t.equal((await app.inject({ url: items })).statusCode, 200);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const killed = await admin.query<{ n: string }>(
    'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  await admin.end();
  t.ok(Number(killed.rows[0]!.n) >= 1, 'the catalog had connections to terminate');
  const res = await app.inject({ url: items });
  t.equal(res.statusCode, 200, 'the next request is served on a new connection');
  t.equal((JSON.parse(res.body) as { numberReturned: number }).numberReturned, 3);
});
