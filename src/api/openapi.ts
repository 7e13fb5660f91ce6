import type { FastifyInstance } from 'fastify';
import { esc, page, table } from '../html/page.js';
import { baseUrl, sendText, type ApiContext } from './context.js';

interface OpenApiOperation {
  summary?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; description?: string }>;
}
type OpenApiDoc = { info: { title: string; version: string }; paths: Record<string, Record<string, OpenApiOperation>> };

/** The OpenAPI document (service-desc) and a page a person can read (service-doc). */
export async function openapiRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  app.get(
    '/api',
    {
      schema: {
        summary: 'This API definition (OpenAPI 3.0)',
        tags: ['Common'],
        response: { 200: { description: 'OpenAPI 3.0 document', type: 'object', additionalProperties: true } },
      },
    },
    async (request, reply) => {
      const doc = { ...(app.swagger() as object), servers: [{ url: baseUrl(ctx, request) }] };
      return sendText(reply, 'openapi', JSON.stringify(doc));
    },
  );
  app.get(
    '/api.html',
    {
      schema: {
        summary: 'This API documentation, as a page',
        tags: ['Common'],
        response: { 200: { description: 'HTML page', type: 'string' } },
      },
    },
    async (request, reply) => {
      const base = baseUrl(ctx, request);
      const doc = app.swagger() as unknown as OpenApiDoc;
      const rows: string[][] = [];
      for (const [path, ops] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(ops)) {
          const params = (op.parameters ?? [])
            .filter((p) => p.in === 'query')
            .map((p) => `<code>${esc(p.name)}</code>`)
            .join(' ');
          rows.push([esc(method.toUpperCase()), `<code>${esc(path)}</code>`, esc(op.summary ?? ''), params]);
        }
      }
      return sendText(
        reply,
        'html',
        page(
          `${doc.info.title} ${doc.info.version}`,
          [
            { href: `${base}/?f=html`, label: 'Home' },
            { href: `${base}/api.html`, label: 'API' },
          ],
          `<p>The machine-readable definition is at <a href="${base}/api">${esc(base)}/api</a> (OpenAPI 3.0).</p>${table(['method', 'path', 'what', 'query parameters'], rows)}`,
        ),
      );
    },
  );
}
