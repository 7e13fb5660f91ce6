import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { discoverRoots } from '../helpers/app.js';
import { referenceEntries, sharedData } from '../helpers/data.js';

// The WMS through real clients (OWSLib, headless QGIS), in a file of its own: QGIS takes tens of seconds on a loaded machine.
const run = promisify(execFile);
const COADS = 'coads_sst';
const SEAICE = 'seaice_conc_monthly_nh_202112_f17_v04r00';
const ICE_FIELD = 'cdr_seaice_conc_monthly';
const OUT = join(import.meta.dirname, '..', '..', '.tap', 'maps');

// A browser (or QGIS) on a loaded two-core machine takes minutes, not seconds.
t.setTimeout(360_000);

let app: FastifyInstance;
let base: string;

t.before(async () => {
  await mkdir(OUT, { recursive: true });
  app = await buildApp({ collections: await discoverRoots([sharedData('satellite')]) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
t.teardown(() => app?.close());

t.test('OWSLib reads the capabilities, a map and a feature info', async (t) => {
  const ref = referenceEntries('satellite/coads_sst.nc')[0]!;
  const { stdout } = await run('/usr/bin/python3', [
    join(import.meta.dirname, '..', 'clients', 'wms_owslib.py'),
    base,
    `${COADS}/SST`,
    ref.coordinates!['time'] as string,
  ]);
  const seen = JSON.parse(stdout) as {
    operations: string[];
    crs: string[];
    dimensions: Record<string, unknown>;
    styles: string[];
    png_signature_ok: boolean;
    featureinfo: { features: Array<{ properties: { value: number; units: string } }> };
  };
  t.same(seen.crs, ['CRS:84', 'EPSG:3857', 'EPSG:4326']);
  t.ok(seen.operations.includes('GetMap') && seen.operations.includes('GetFeatureInfo'));
  t.ok('time' in seen.dimensions);
  t.same(seen.styles, ['diverging', 'greys', 'haline', 'thermal', 'viridis']);
  t.ok(seen.png_signature_ok);
  t.ok(
    Math.abs(seen.featureinfo.features[0]!.properties.value - (ref.value as number)) < 1e-4,
    'the value at lon 1, lat 1',
  );
});

t.test('headless QGIS renders the WMS layers to images that are not blank', async (t) => {
  for (const [layer, crs, file] of [
    [`${COADS}/SST`, 'EPSG:4326', 'qgis-coads.png'],
    [`${SEAICE}/${ICE_FIELD}`, 'EPSG:3857', 'qgis-seaice.png'],
  ] as const) {
    const { stdout } = await run(
      '/usr/bin/python3',
      [join(import.meta.dirname, '..', 'clients', 'wms_qgis.py'), base, layer, crs, join(OUT, file)],
      { timeout: 90_000 },
    );
    const seen = JSON.parse(stdout.trim().split('\n').pop()!) as {
      valid: boolean;
      painted: number;
      colours: number;
      errors: string[];
    };
    t.ok(seen.valid, `${layer} is a valid QGIS layer`);
    t.same(seen.errors, []);
    t.ok(seen.painted > 2000, `${seen.painted} painted pixels of 20 000 sampled`);
    t.ok(seen.colours > 20, `${seen.colours} colours`);
  }
});
