import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { AccessPolicy } from '../../src/api/access.js';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadCollectionConfigs, parseCollectionConfig } from '../../src/config/load.js';
import { discoverRoots, SHARED_DATA } from '../helpers/app.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwt(alg: 'RS256' | 'ES256', key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg, typ: 'JWT', kid })}.${enc(claims)}`;
  const sig = sign('sha256', Buffer.from(head), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${head}.${sig.toString('base64url')}`;
}

const now = Math.floor(Date.now() / 1000);
const good = { iss: 'https://idp.example', aud: 'odas', exp: now + 600, collections: ['secret-floats'] };

let app: FastifyInstance;
let base: string;
let scratch: string;

t.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'odas-access-'));
  const root = join(scratch, 'data');
  const conf = join(scratch, 'collections');
  await mkdir(root);
  await mkdir(conf);
  await copyFile(join(SHARED_DATA, 'satellite', 'coads_sst_classic.nc'), join(root, 'coads_sst_classic.nc'));
  await copyFile(join(SHARED_DATA, 'argo', '1900857_prof.nc'), join(root, '1900857_prof.nc'));
  await copyFile(join(SHARED_DATA, 'argo', '3902131_Sprof.nc'), join(root, '3902131_Sprof.nc'));
  const jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'r1', alg: 'RS256', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1' },
    ],
  };
  await writeFile(join(conf, 'keys.json'), JSON.stringify(jwks));
  const digest = createHash('sha256').update('hashed-token').digest('hex');
  await writeFile(
    join(conf, 'grid.yaml'),
    `id: secret-grid\nsource: coads_sst_classic.nc\naccess:\n  tokens: ["plain-token", "sha256:${digest}"]\n`,
  );
  await writeFile(
    join(conf, 'floats.yaml'),
    'id: secret-floats\nsource: 1900857_prof.nc\naccess:\n  jwt: { jwks: ./keys.json, issuer: "https://idp.example", audience: odas, claim: collections }\n',
  );
  const configs = await loadCollectionConfigs(conf);
  const collections = await discoverRoots([root], configs);
  app = await buildApp({ collections, access: new AccessPolicy(configs) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(async () => {
  await app?.close();
  await rm(scratch, { recursive: true, force: true });
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const ids = async (url: string, headers: Record<string, string> = {}) =>
  ((await (await fetch(`${base}${url}`, { headers })).json()) as { collections: Array<{ id: string }> }).collections
    .map((c) => c.id)
    .sort();

t.test('anonymous clients: public pages, restricted collections hidden and refused', async (t) => {
  t.equal((await fetch(`${base}/`)).status, 200);
  t.equal((await fetch(`${base}/conformance`)).status, 200);
  t.same(await ids('/collections'), ['3902131_Sprof'], 'only the public collection is listed');
  t.same(await ids('/stac/collections'), ['3902131_Sprof']);
  const landing = await (await fetch(`${base}/?f=html`)).text();
  t.notMatch(landing, /secret-/);
  for (const url of [
    '/collections/secret-grid',
    '/collections/secret-grid/coverage?f=covjson',
    '/collections/secret-floats/items',
    '/stac/collections/secret-floats/items',
    '/stac/search?collections=secret-floats',
  ]) {
    const res = await fetch(`${base}${url}`);
    t.equal(res.status, 401, url);
    t.equal(res.headers.get('www-authenticate'), 'Bearer realm="odas"', `${url}: a Bearer challenge`);
    t.equal(((await res.json()) as { code: string }).code, 'Unauthorized');
  }
  const search = (await (await fetch(`${base}/stac/search?limit=1000`)).json()) as {
    features: Array<{ collection: string }>;
  };
  t.ok(search.features.length > 0);
  t.same(
    [...new Set(search.features.map((f) => f.collection))],
    ['3902131_Sprof'],
    'search leaves restricted items out',
  );
  const missing = (await (await fetch(`${base}/collections/nope`)).json()) as { description: string };
  t.notMatch(missing.description, /secret-/, 'a 404 does not name restricted collections');
});

t.test('bearer tokens', async (t) => {
  const plain = await fetch(`${base}/collections/secret-grid/coverage?subset=COADSX(20:30),COADSY(0:10)&f=covjson`, {
    headers: bearer('plain-token'),
  });
  t.equal(plain.status, 200);
  t.match(plain.headers.get('cache-control'), /^private/, 'restricted answers are private');
  const cov = (await plain.json()) as { ranges: { SST: { values: unknown[] } } };
  t.ok(cov.ranges.SST.values.length > 0);
  t.equal(
    (await fetch(`${base}/collections/secret-grid`, { headers: bearer('hashed-token') })).status,
    200,
    'a sha256: digest in the config',
  );
  t.same(await ids('/collections', bearer('plain-token')), ['3902131_Sprof', 'secret-grid']);
  const wrong = await fetch(`${base}/collections/secret-grid`, { headers: bearer('nope') });
  t.equal(wrong.status, 401);
  t.match(wrong.headers.get('www-authenticate'), /error="invalid_token"/);
  t.equal(
    (await fetch(`${base}/collections/secret-floats/items`, { headers: bearer('plain-token') })).status,
    401,
    'a token is for its collections only',
  );
});

t.test('JWTs (RS256 and ES256 against the JWKS file)', async (t) => {
  const rs = jwt('RS256', rsa.privateKey, 'r1', good);
  const items = await fetch(`${base}/collections/secret-floats/items?limit=2`, { headers: bearer(rs) });
  t.equal(items.status, 200);
  t.equal(((await items.json()) as { features: unknown[] }).features.length, 2);
  t.same(await ids('/collections', bearer(rs)), ['3902131_Sprof', 'secret-floats'], 'the claim grants one collection');
  const es = jwt('ES256', ec.privateKey, 'e1', { ...good, collections: 'other secret-floats' });
  t.equal(
    (await fetch(`${base}/collections/secret-floats`, { headers: bearer(es) })).status,
    200,
    'ES256, claim as a space-separated string',
  );
  const search = (await (await fetch(`${base}/stac/search?limit=1000`, { headers: bearer(rs) })).json()) as {
    features: Array<{ collection: string }>;
  };
  t.same([...new Set(search.features.map((f) => f.collection))].sort(), ['3902131_Sprof', 'secret-floats']);
  const cases: Array<[string, string, number]> = [
    ['expired', jwt('RS256', rsa.privateKey, 'r1', { ...good, exp: now - 3600 }), 401],
    ['another audience', jwt('RS256', rsa.privateKey, 'r1', { ...good, aud: 'someone' }), 401],
    ['another issuer', jwt('RS256', rsa.privateKey, 'r1', { ...good, iss: 'https://evil.example' }), 401],
    ['signed by a key not in the JWKS', jwt('RS256', stranger.privateKey, 'r1', good), 401],
    [
      'tampered claims',
      rs.replace(
        /\.[^.]+\./,
        `.${Buffer.from(JSON.stringify({ ...good, collections: ['*'] })).toString('base64url')}.`,
      ),
      401,
    ],
    ['a claim without this collection', jwt('RS256', rsa.privateKey, 'r1', { ...good, collections: ['other'] }), 403],
  ];
  for (const [what, token, status] of cases) {
    const res = await fetch(`${base}/collections/secret-floats/items`, { headers: bearer(token) });
    t.equal(res.status, status, what);
    t.ok(res.headers.get('www-authenticate'), `${what}: a challenge`);
  }
});

t.test('WMS and map tiles follow the same rules', async (t) => {
  const caps = await (await fetch(`${base}/wms?SERVICE=WMS&REQUEST=GetCapabilities`)).text();
  t.notMatch(caps, /secret-grid/, 'GetCapabilities leaves the restricted grid out');
  t.match(
    await (await fetch(`${base}/wms?SERVICE=WMS&REQUEST=GetCapabilities`, { headers: bearer('plain-token') })).text(),
    /secret-grid/,
  );
  const getMap =
    'SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=secret-grid/SST&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90&WIDTH=64&HEIGHT=32&FORMAT=image/png';
  const anon = await fetch(`${base}/wms?${getMap}`);
  t.equal(anon.status, 401);
  t.equal(anon.headers.get('www-authenticate'), 'Bearer realm="odas"');
  t.match(await anon.text(), /ServiceExceptionReport/, 'in the WMS error form');
  const map = await fetch(`${base}/wms?${getMap}`, { headers: bearer('plain-token') });
  t.equal(map.status, 200);
  t.equal(map.headers.get('content-type'), 'image/png');
  t.match(map.headers.get('cache-control'), /^private/, 'a restricted image is private');
  t.equal((await fetch(`${base}/collections/secret-grid/map/tiles/WebMercatorQuad/0/0/0`)).status, 401);
});

t.test('the config schema checks access blocks', async (t) => {
  t.throws(
    () => parseCollectionConfig('id: x\nsource: a.nc\naccess: { tokens: ["sha256:abc"] }\n', 'x.yaml'),
    ConfigError,
  );
  t.throws(() => parseCollectionConfig('id: x\nsource: a.nc\naccess: { jwt: { issuer: me } }\n', 'x.yaml'), /jwks/);
  t.throws(() => parseCollectionConfig('id: x\nsource: a.nc\naccess: { password: x }\n', 'x.yaml'), /password/);
});

t.test('OPeNDAP and ERDDAP ask for the same credential and hide restricted datasets from their lists', async (t) => {
  const dds = await fetch(`${base}/opendap/secret-grid.dds`);
  t.equal(dds.status, 401, 'an anonymous DAP2 request is refused');
  t.match(dds.headers.get('www-authenticate') ?? '', /^Bearer realm=/, 'with a Bearer challenge');
  t.match(await dds.text(), /^Error \{/, 'in the DAP2 error form');
  const ok = await fetch(`${base}/opendap/secret-grid.dds`, { headers: bearer('plain-token') });
  t.equal(ok.status, 200, 'the token opens it');
  t.match(await ok.text(), /Dataset \{/);
  const griddap = await fetch(`${base}/erddap/griddap/secret_grid.csv?SST[0][0][0]`);
  t.equal(griddap.status, 401, 'griddap refuses it too');
  t.match(await griddap.text(), /^Error \{/, "in ERDDAP's error form");
  t.equal(
    (await fetch(`${base}/erddap/griddap/secret_grid.csv?SST[0][0][0]`, { headers: bearer('plain-token') })).status,
    200,
  );
  t.notMatch(await (await fetch(`${base}/opendap`)).text(), /secret-grid/, 'the OPeNDAP list leaves it out');
  t.notMatch(
    await (await fetch(`${base}/erddap/tabledap/allDatasets.csv`)).text(),
    /secret_grid/,
    'allDatasets leaves it out',
  );
  t.match(
    await (await fetch(`${base}/erddap/tabledap/allDatasets.csv`, { headers: bearer('plain-token') })).text(),
    /secret_grid/,
    'and lists it with the token',
  );
});
