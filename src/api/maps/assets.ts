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

let leafletDir: string | undefined;
/** Found on first use: a checkout whose node_modules predates the dependency still starts (its pages lack the map). */
function leafletFile(file: string): string {
  leafletDir ??= join(dirname(createRequire(import.meta.url).resolve('leaflet/package.json')), 'dist');
  return join(leafletDir, file);
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

export async function assetRoutes(app: FastifyInstance): Promise<void> {
  const hide = { hide: true } as const;
  app.get('/assets/odas-map.js', { schema: hide }, (_request, reply) =>
    reply
      .type('application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(MAP_SCRIPT),
  );
  app.get('/assets/leaflet/*', { schema: hide }, async (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    const type = LEAFLET_FILES[file];
    if (!type) throw new NotFound(`No asset '${file}'`);
    let body: Buffer;
    try {
      body = await readFile(leafletFile(file));
    } catch {
      throw new NotFound(`Asset '${file}' is not installed: run npm ci (the leaflet package)`);
    }
    return reply.type(type).header('cache-control', 'public, max-age=86400').send(body);
  });
}
