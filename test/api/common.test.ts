import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { openapiDocument } from '../../src/openapi-doc.js';
import { buildTestApp, getJson } from '../helpers/app.js';

type Links = Array<{ rel: string; href: string; type?: string }>;

let app: FastifyInstance;
t.before(async () => {
  app = await buildTestApp();
});
t.teardown(async () => {
  await app.close();
});

t.test('landing page links what QGIS, GDAL and OWSLib look for', async (t) => {
  const { status, body } = await getJson<{ title: string; links: Links }>(app, '/');
  t.equal(status, 200);
  const rels = Object.fromEntries(body.links.map((l) => [l.rel, l]));
  for (const rel of ['self', 'alternate', 'service-desc', 'service-doc', 'conformance', 'data'])
    t.ok(rels[rel], `link rel=${rel}`);
  t.match(rels['service-desc']!.href, /\/api$/);
  t.equal(rels['service-desc']!.type, 'application/vnd.oai.openapi+json;version=3.0');
});

t.test('f beats Accept, Accept is honoured, browsers get HTML', async (t) => {
  const html = await app.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  t.match(html.headers['content-type'], /text\/html/);
  t.match(html.body, /<h1>/);
  const json = await app.inject({ url: '/?f=json', headers: { accept: 'text/html' } });
  t.match(json.headers['content-type'], /application\/json/);
  const forced = await app.inject({ url: '/collections?f=html' });
  t.match(forced.body, /1900857_prof/);
  const page = await app.inject({ url: '/collections/1900857_prof/items?f=html&limit=5' });
  t.equal(page.statusCode, 200);
  t.match(page.body, /<svg/);
  t.match(page.body, /1900857_000D/);
  const item = await app.inject({ url: '/collections/1900857_prof/items/1900857_000D?f=html' });
  t.match(item.body, /Levels \(/);
});

t.test('conformance lists Common and Features classes', async (t) => {
  const { body } = await getJson<{ conformsTo: string[] }>(app, '/conformance');
  t.ok(body.conformsTo.includes('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core'));
  t.ok(body.conformsTo.includes('http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson'));
  t.ok(body.conformsTo.includes('http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections'));
});

t.test('collections: ids from file names, Argo meta files and GeoTIFFs not listed as features', async (t) => {
  const { body } = await getJson<{ collections: Array<{ id: string; itemType: string }> }>(app, '/collections');
  const ids = body.collections.map((c) => c.id);
  for (const id of [
    '1900857_prof',
    '1900857_Rtraj',
    '3902131_Sprof',
    'D1900857_001',
    'dfo-rosie713-20190615',
    'MCTD_HUD2013004_1845_10515_1800',
    'coads_sst',
  ]) {
    t.ok(ids.includes(id), id);
  }
  t.notOk(ids.includes('1900857_meta'), 'Argo _meta.nc is metadata, not a collection');
  t.ok(
    ids.every((id) => /^[A-Za-z0-9_-]+$/.test(id)),
    'ids keep to [A-Za-z0-9_-]',
  );
  t.equal(body.collections.find((c) => c.id === 'coads_sst')?.itemType, 'coverage');
  const traj = await getJson<{ features: Array<{ geometry: { type: string }; properties: Record<string, unknown> }> }>(
    app,
    '/collections/1900857_Rtraj/items',
  );
  t.equal(traj.body.features[0]!.geometry.type, 'LineString');
  t.equal(traj.body.features[0]!.properties['start_datetime'], '2008-02-25T02:51:00Z');
  t.equal(traj.body.features[0]!.properties['end_datetime'], '2013-06-01T14:20:13Z');
});

t.test('OpenAPI at /api documents every route with responses', async (t) => {
  const res = await app.inject({ url: '/api' });
  t.equal(res.statusCode, 200);
  const doc = JSON.parse(res.body) as {
    openapi: string;
    paths: Record<string, Record<string, { responses?: object }>>;
  };
  t.match(doc.openapi, /^3\.0/);
  for (const p of [
    '/',
    '/conformance',
    '/collections',
    '/collections/{collectionId}',
    '/collections/{collectionId}/items',
    '/collections/{collectionId}/items/{featureId}',
    '/collections/{collectionId}/queryables',
  ]) {
    t.ok(doc.paths[p]?.['get']?.responses, `${p} documented with responses`);
  }
  const docs = await app.inject({ url: '/api.html' });
  t.match(docs.body, /\/collections\/\{collectionId\}\/items/);
});

t.test('the committed openapi/openapi.json is up to date (npm run openapi regenerates it)', async (t) => {
  const committed = JSON.parse(
    await readFile(join(import.meta.dirname, '..', '..', 'openapi', 'openapi.json'), 'utf8'),
  ) as unknown;
  t.same(committed, JSON.parse(JSON.stringify(await openapiDocument())), 'run `npm run openapi` and commit the result');
});

t.test('responses carry a request id and CORS headers', async (t) => {
  const res = await app.inject({
    url: '/collections',
    headers: { origin: 'https://example.org', 'x-request-id': 'abc-123' },
  });
  t.equal(res.headers['x-request-id'], 'abc-123');
  t.equal(res.headers['access-control-allow-origin'], '*');
  const gz = await app.inject({
    url: '/collections/1900857_prof/items?limit=100',
    headers: { 'accept-encoding': 'gzip' },
  });
  t.equal(gz.headers['content-encoding'], 'gzip', 'JSON is compressed when the client accepts it');
});
