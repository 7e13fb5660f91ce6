import type { FastifyInstance } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { esc, page, table } from '../../html/page.js';
import { baseUrl, getCollection, sendText, type ApiContext } from '../context.js';
import { negotiate } from '../negotiate.js';

/** JSON Schema of each property, by name. */
export type PropertySchemas = Record<string, Record<string, unknown>>;

export interface PropertySchemaRoute {
  /** The path segment after the collection: queryables, sortables. */
  name: string;
  summary: string;
  /** The 200 answer's description in the OpenAPI document. */
  description: string;
  params: object;
  properties: (c: Collection) => Promise<PropertySchemas> | PropertySchemas;
}

/**
 * A collection's properties as a JSON Schema document (OGC API Features Part 3 queryables, Part 8
 * sortables), or as an HTML table of names and types: the two routes differ only in the properties.
 */
export function propertySchemaRoute(app: FastifyInstance, ctx: ApiContext, route: PropertySchemaRoute): void {
  app.get(
    `/collections/:collectionId/${route.name}`,
    {
      schema: {
        summary: route.summary,
        tags: ['Features'],
        params: route.params,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: {
          200: { description: route.description, type: 'object', additionalProperties: true },
          404: { description: 'Unknown collection', $ref: 'exception#' },
        },
      },
    },
    async (request, reply) => {
      const { collectionId } = request.params as { collectionId: string };
      const c = getCollection(ctx, collectionId);
      const properties = await route.properties(c);
      const base = baseUrl(ctx, request);
      const href = `${base}/collections/${encodeURIComponent(c.id)}/${route.name}`;
      if (negotiate(request, ['json', 'html']) === 'html') {
        return sendText(
          reply,
          'html',
          page(
            `${c.title}: ${route.name}`,
            [
              { href: `${base}/?f=html`, label: 'Home' },
              { href: `${base}/collections/${c.id}?f=html`, label: c.id },
            ],
            table(
              ['name', 'type'],
              Object.entries(properties).map(([k, v]) => [esc(k), esc(v['type'] ?? v['$ref'])]),
            ),
            [{ href: `${href}?f=json`, label: 'JSON' }],
          ),
        );
      }
      return sendText(
        reply,
        'application/schema+json',
        JSON.stringify({
          $schema: 'https://json-schema.org/draft/2019-09/schema',
          $id: href,
          type: 'object',
          title: c.title,
          properties,
          additionalProperties: false,
        }),
      );
    },
  );
}
