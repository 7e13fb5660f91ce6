/**
 * Static files the HTML pages need, served by odas itself (no CDN: pages work offline, on a ship or
 * behind a firewall): Leaflet from its npm package, and the page's own map script.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NotFound } from '../../core/errors.js';
import { MAP_SCRIPT } from '../../html/map-script.js';

const LEAFLET_DIR = join(dirname(createRequire(import.meta.url).resolve('leaflet/package.json')), 'dist');
const LEAFLET_FILES: Record<string, string> = {
  'leaflet.js': 'application/javascript; charset=utf-8',
  'leaflet.css': 'text/css; charset=utf-8',
  'images/marker-icon.png': 'image/png',
  'images/marker-icon-2x.png': 'image/png',
  'images/marker-shadow.png': 'image/png',
  'images/layers.png': 'image/png',
  'images/layers-2x.png': 'image/png',
};

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const hide = { hide: true } as const;
  app.get('/assets/odas-map.js', { schema: hide }, (_request, reply) => reply.type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(MAP_SCRIPT));
  app.get('/assets/leaflet/*', { schema: hide }, async (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    const type = LEAFLET_FILES[file];
    if (!type) throw new NotFound(`No asset '${file}'`);
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(await readFile(join(LEAFLET_DIR, file)));
  });
}
