import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DATACUBE_EXTENSION, PROJECTION_EXTENSION } from '../../src/stac/grid-extensions.js';
import { FILE_EXTENSION } from '../../src/stac/item-doc.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCHEMAS = process.env['ODAS_SHARED_SCHEMAS'] ?? join(ROOT, '..', 'shared', 'schemas');
const VALIDATOR = join(ROOT, 'node_modules', '.bin', 'stac-node-validator');

/**
 * Run stac-node-validator offline (the acceptance probe's way) over documents or paths:
 * STAC schemas from shared/schemas, GeoJSON ones mapped to local copies.
 */
export async function validateStac(
  docsOrPaths: Array<Record<string, unknown> | string>,
  version = '1.0.0',
): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'odas-stac-validate-'));
  try {
    const paths: string[] = [];
    for (const [i, d] of docsOrPaths.entries()) {
      if (typeof d === 'string') paths.push(d);
      else {
        const p = join(dir, `doc${i}.json`);
        await writeFile(p, JSON.stringify(d));
        paths.push(p);
      }
    }
    const geo = join(SCHEMAS, 'geojson');
    const ext = join(import.meta.dirname, 'stac-extensions');
    const map = [
      ...['Feature', 'Geometry', 'FeatureCollection'].map(
        (n) => `https://geojson.org/schema/${n}.json=${geo}/${n}.json`,
      ),
      // Offline, the validator cannot fetch extension schemas: these test schemas check the fields odas fills.
      `${PROJECTION_EXTENSION}=${ext}/projection.json`,
      `${DATACUBE_EXTENSION}=${ext}/datacube.json`,
      `${FILE_EXTENSION}=${ext}/file.json`,
    ].join(';');
    const r = await promisify(execFile)(
      VALIDATOR,
      [...paths, '--schemas', join(SCHEMAS, 'stac', `v${version}`), '--schemaMap', map],
      { maxBuffer: 64 * 1024 * 1024 },
    ).then(
      (x) => ({ code: 0, out: x.stdout + x.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        out: `${e.stdout ?? ''}${e.stderr ?? ''}`,
      }),
    );
    // 1.3.2 always prints 'Invalid: N': success is exit 0 with N = 0.
    return { ok: r.code === 0 && /Invalid: 0\b/.test(r.out), output: r.out };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
