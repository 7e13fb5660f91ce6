/**
 * Static files the HTML pages need, served by odas itself (no CDN: pages work offline, on a ship or
 * behind a firewall): Leaflet and uPlot from their npm packages, and the pages' own scripts (map,
 * time-series chart, subset form).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NotFound } from '../../core/errors.js';
import { CHART_SCRIPT } from '../../html/chart-script.js';
import { MAP_SCRIPT } from '../../html/map-script.js';
import { SUBSET_SCRIPT } from '../../html/subset-script.js';

const packageDirs = new Map<string, string>();
/** Found on first use: a checkout whose node_modules predates a dependency still starts (its pages lack the map or chart). */
function packageFile(pkg: string, file: string): string {
  let dir = packageDirs.get(pkg);
  if (dir === undefined) {
    dir = join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'dist');
    packageDirs.set(pkg, dir);
  }
  return join(dir, file);
}
const LEAFLET_FILES: Record<string, string> = {
  'leaflet.js': 'application/javascript; charset=utf-8',
  'leaflet.css': 'text/css; charset=utf-8',
  'images/marker-icon.png': 'image/png',
  'images/marker-icon-2x.png': 'image/png',
  'images/marker-shadow.png': 'image/png',
  'images/layers.png': 'image/png',
  'images/layers-2x.png': 'image/png',
};
const UPLOT_FILES: Record<string, string> = {
  'uPlot.iife.min.js': 'application/javascript; charset=utf-8',
  'uPlot.min.css': 'text/css; charset=utf-8',
};
const SCRIPTS: Record<string, string> = {
  'odas-map.js': MAP_SCRIPT,
  'odas-chart.js': CHART_SCRIPT,
  'odas-subset.js': SUBSET_SCRIPT,
};

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const hide = { hide: true } as const;
  for (const [name, script] of Object.entries(SCRIPTS))
    app.get(`/assets/${name}`, { schema: hide }, (_request, reply) =>
      reply.type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(script),
    );
  for (const [pkg, files] of [
    ['leaflet', LEAFLET_FILES],
    ['uplot', UPLOT_FILES],
  ] as const)
    app.get(`/assets/${pkg}/*`, { schema: hide }, async (request, reply) => {
      const file = (request.params as { '*': string })['*'];
      const type = files[file];
      if (!type) throw new NotFound(`No asset '${pkg}/${file}'`);
      let body: Buffer;
      try {
        body = await readFile(packageFile(pkg, file));
      } catch {
        throw new NotFound(`Asset '${pkg}/${file}' is not installed: run npm ci (the ${pkg} package)`);
      }
      return reply.type(type).header('cache-control', 'public, max-age=86400').send(body);
    });
}
