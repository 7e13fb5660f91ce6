import type { FastifyInstance } from 'fastify';
import type { CatalogStatus } from '../../catalog/catalog.js';
import { definitionTable, esc, page, table } from '../../html/page.js';
import { baseUrl, sendText, type ApiContext } from '../context.js';
import { negotiate } from '../negotiate.js';

/** What the catalog holds, without where it lives on the server (an absolute path is nobody's business outside). */
function publicCatalog(s: CatalogStatus): Omit<CatalogStatus['catalog'], 'file'> {
  const { file: _file, ...rest } = s.catalog;
  return rest;
}

/** The indexer's progress and the catalog's content: for operators, and for clients waiting for a first index. */
export async function statusRoutes(
  app: FastifyInstance,
  opts: { ctx: ApiContext; status: () => CatalogStatus | Promise<CatalogStatus> },
): Promise<void> {
  const { ctx } = opts;
  app.get(
    '/status',
    {
      schema: {
        summary: 'Indexing status: files done/total, rate, errors; what the catalog holds',
        tags: ['Common'],
        querystring: { type: 'object', properties: { f: { type: 'string', description: 'json or html' } } },
        response: { 200: { description: 'Indexing and catalog status', type: 'object', additionalProperties: true } },
      },
    },
    async (request, reply) => {
      const s = await opts.status();
      reply.header('cache-control', 'no-store');
      if (negotiate(request, ['json', 'html']) === 'html') {
        const base = baseUrl(ctx, request);
        const i = s.indexing;
        const body = `${definitionTable([
          ['State', esc(i.state)],
          [
            'Files up to date',
            esc(
              `${i.files.indexed + i.files.failed} / ${i.files.total} (${i.files.failed} failed, ${i.files.pending} waiting to settle)`,
            ),
          ],
          ['Rate', esc(`${i.rate} files/s`)],
          [
            'Last scan',
            esc(
              i.lastScan
                ? `${i.lastScan.started} → ${i.lastScan.finished ?? 'running'} (${i.lastScan.read} read, ${i.lastScan.removed} removed${i.lastScan.full ? ', full' : ''})`
                : 'none yet',
            ),
          ],
          [
            'Catalog',
            esc(
              `${s.catalog.collections} collections, ${s.catalog.features} features, ${s.catalog.files.ok} files served, ${s.catalog.files.skipped} skipped, ${s.catalog.files.failed} failed`,
            ),
          ],
        ])}<h2>Files that could not be read</h2>${table(
          ['file', 'error', 'when'],
          s.errors.map((e) => [esc(e.file), esc(e.error), esc(e.at)]),
        )}`;
        return sendText(
          reply,
          'html',
          page(
            'Status',
            [
              { href: `${base}/?f=html`, label: 'Home' },
              { href: `${base}/status?f=html`, label: 'Status' },
            ],
            body,
            [{ href: `${base}/status?f=json`, label: 'JSON' }],
          ),
        );
      }
      return sendText(
        reply,
        'json',
        JSON.stringify({
          state: s.indexing.state,
          files: s.indexing.files,
          rate: s.indexing.rate,
          scans: s.indexing.scans,
          lastScan: s.indexing.lastScan,
          catalog: publicCatalog(s),
          errors: s.errors.map(({ file, error, at }) => ({ file, error, at })),
        }),
      );
    },
  );
}
