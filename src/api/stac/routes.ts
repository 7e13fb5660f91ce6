import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidParameterValue, NotFound, UnknownParameter } from '../../core/errors.js';
import { parseBBox, intersectsBox } from '../../core/query/bbox.js';
import { overlaps, parseDatetime } from '../../core/query/datetime.js';
import type { SearchResult } from '../../catalog/store/types.js';
import { MEDIA, STAC_VERSION, type StacLink } from '../../stac/links.js';
import {
  decodeToken,
  encodeToken,
  ITEMS_PARAMETERS,
  parseSearchBody,
  parseSearchQuery,
  SEARCH_PARAMETERS,
  type SearchRequest,
} from '../../stac/search-request.js';
import { CORE_QUERYABLES } from '../../catalog/store/where.js';
import { StacService } from '../../stac/service.js';
import { baseUrl, isVisible, sendText, type ApiContext } from '../context.js';
import type { ApiModule } from '../module.js';
import { negotiate } from '../negotiate.js';
import { STAC_CONFORMANCE } from './conformance.js';
import { collectionDocument, ItemWriter } from './documents.js';
import { sendDataFile } from './files.js';
import {
  jsonResponse,
  itemsResponse,
  searchBody,
  searchQuerystring,
  itemsQuerystring,
  collectionsQuerystring,
  idParams,
  itemParams,
  fileResponse,
} from './schemas.js';

const enc = encodeURIComponent;

/** Services built on first use when the app was given none (tests, the OpenAPI generator). */
const lazy = new WeakMap<ApiContext, Promise<StacService>>();

function stacOf(ctx: ApiContext): Promise<StacService> {
  if (ctx.stac) return Promise.resolve(ctx.stac);
  let p = lazy.get(ctx);
  if (!p) {
    p = StacService.open({ collections: ctx.collections });
    lazy.set(ctx, p);
    // A catalog away for a moment (503) is tried again by the next request, not remembered.
    p.catch(() => lazy.delete(ctx));
  }
  return p;
}

/** STAC endpoints answer JSON only; `f=json`/`f=geojson` are accepted, anything else is a 400 naming `f`. */
function jsonOnly(request: FastifyRequest): void {
  negotiate(request, ['json', 'geojson']);
}

function queryString(request: FastifyRequest, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(request.query as Record<string, unknown>))
    for (const one of [v].flat()) params.append(k, String(one));
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) params.delete(k);
    else params.set(k, v);
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function collectionIds(stac: StacService): string[] {
  return stac.collectionIds();
}

/** Served by STAC: a static collection, or a generated one whose files no static catalog publishes. */
function hasCollection(stac: StacService, id: string): boolean {
  return stac.generated(id) !== undefined || stac.statics.has(id);
}

/** 404 for an id STAC does not serve, naming the static collection that publishes its files if there is one. */
function requireCollection(stac: StacService, id: string): void {
  if (hasCollection(stac, id)) return;
  const c = stac.collections.get(id);
  const owner = c && stac.shadowedBy(c);
  throw new NotFound(
    owner
      ? `'${id}' is served in STAC by the static catalog collection '${owner}' that publishes its files (and as an OGC API coverage at /collections/${id})`
      : `No STAC collection '${id}'`,
  );
}

/** A page of items as a GeoJSON FeatureCollection, written as text from the rows. */
function itemCollection(writer: ItemWriter, result: SearchResult, links: StacLink[]): string {
  const head: Record<string, unknown> = { type: 'FeatureCollection', stac_version: STAC_VERSION };
  if (result.matched !== undefined) head['numberMatched'] = result.matched;
  head['numberReturned'] = result.rows.length;
  head['timeStamp'] = new Date().toISOString();
  head['links'] = links;
  const text = JSON.stringify(head);
  return `${text.slice(0, -1)},"features":[${result.rows.map((r) => writer.json(r)).join(',')}]}`;
}

export const stacApi: ApiModule = {
  name: 'STAC',
  // The STAC API declares its classes at /stac/conformance; the OGC /conformance is not its root.
  conformance: [],
  routes: (app, opts) => stacRoutes(app, opts),
};

/** STAC API 1.0 at /stac: catalog, collections, items, item search (GET/POST), queryables, file downloads. */
async function stacRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  app.addHook('onClose', async () => {
    const p = lazy.get(ctx);
    if (p) await (await p).close();
  });

  app.get(
    '/stac',
    {
      schema: {
        summary: 'STAC API landing page (root Catalog)',
        tags: ['STAC'],
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonResponse('STAC Catalog with conformsTo and links'),
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      const stac = await stacOf(ctx);
      const base = baseUrl(ctx, request);
      const root = `${base}/stac`;
      const links: StacLink[] = [
        { rel: 'self', href: root, type: MEDIA.json, title: 'This catalog' },
        { rel: 'root', href: root, type: MEDIA.json, title: ctx.title },
        { rel: 'service-desc', href: `${base}/api`, type: MEDIA.openapi, title: 'The API definition (OpenAPI 3.0)' },
        { rel: 'service-doc', href: `${base}/api.html`, type: MEDIA.html, title: 'The API documentation' },
        { rel: 'conformance', href: `${root}/conformance`, type: MEDIA.json, title: 'STAC API conformance classes' },
        { rel: 'data', href: `${root}/collections`, type: MEDIA.json, title: 'Collections' },
        { rel: 'search', href: `${root}/search`, type: MEDIA.geojson, method: 'GET', title: 'Item search' },
        { rel: 'search', href: `${root}/search`, type: MEDIA.geojson, method: 'POST', title: 'Item search' },
        {
          rel: 'http://www.opengis.net/def/rel/ogc/1.0/queryables',
          href: `${root}/queryables`,
          type: MEDIA.schema,
          title: 'Queryables of all collections',
        },
        {
          rel: 'related',
          href: `${base}/`,
          type: MEDIA.json,
          title: 'OGC API landing page (Features, Coverages, EDR)',
        },
        ...collectionIds(stac)
          .filter((id) => isVisible(ctx, request, id))
          .map((id) => ({
            rel: 'child',
            href: `${root}/collections/${enc(id)}`,
            type: MEDIA.json,
            title: stac.collections.get(id)?.title ?? String(stac.statics.get(id)?.doc['title'] ?? id),
          })),
      ];
      return sendText(
        reply,
        'json',
        JSON.stringify({
          type: 'Catalog',
          stac_version: STAC_VERSION,
          id: 'odas',
          title: ctx.title,
          description: ctx.description,
          conformsTo: STAC_CONFORMANCE,
          links,
        }),
      );
    },
  );

  app.get(
    '/stac/conformance',
    {
      schema: {
        summary: 'STAC API conformance classes',
        tags: ['STAC'],
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonResponse('Conformance declaration'),
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      return sendText(reply, 'json', JSON.stringify({ conformsTo: STAC_CONFORMANCE }));
    },
  );

  const queryables = async (request: FastifyRequest, reply: FastifyReply, collectionId?: string) => {
    jsonOnly(request);
    const stac = await stacOf(ctx);
    if (collectionId !== undefined) requireCollection(stac, collectionId);
    const base = baseUrl(ctx, request);
    const href =
      collectionId === undefined
        ? `${base}/stac/queryables`
        : `${base}/stac/collections/${enc(collectionId)}/queryables`;
    const properties: Record<string, Record<string, unknown>> = {
      id: { type: 'string', title: 'Item id' },
      collection: { type: 'string', title: 'Collection id' },
      geometry: { $ref: 'https://geojson.org/schema/Geometry.json', title: 'Item geometry (S_INTERSECTS)' },
      datetime: { type: 'string', format: 'date-time', title: 'Observation time (UTC)' },
      start_datetime: { type: 'string', format: 'date-time' },
      end_datetime: { type: 'string', format: 'date-time' },
    };
    for (const [name, type] of Object.entries(
      stac.index.propertyTypes(collectionId === undefined ? undefined : [collectionId]),
    )) {
      if (!(CORE_QUERYABLES as readonly string[]).includes(name))
        properties[name] = { type, title: name.replace(/_/g, ' ') };
    }
    return sendText(
      reply,
      MEDIA.schema,
      JSON.stringify({
        $schema: 'https://json-schema.org/draft/2019-09/schema',
        $id: href,
        type: 'object',
        title: collectionId ?? 'All collections',
        properties,
        additionalProperties: false,
      }),
    );
  };

  app.get(
    '/stac/queryables',
    {
      schema: {
        summary: 'Properties CQL2 filters may use, over all collections',
        tags: ['STAC'],
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonResponse('JSON Schema of the queryables'),
      },
    },
    (request, reply) => queryables(request, reply),
  );
  app.get(
    '/stac/collections/:collectionId/queryables',
    {
      schema: {
        summary: 'Properties CQL2 filters may use in one collection',
        tags: ['STAC'],
        params: idParams,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonResponse('JSON Schema of the queryables'),
      },
    },
    (request, reply) => queryables(request, reply, (request.params as { collectionId: string }).collectionId),
  );

  app.get(
    '/stac/collections',
    {
      schema: {
        summary: 'STAC collections (collection search: q, bbox, datetime, limit)',
        tags: ['STAC'],
        querystring: collectionsQuerystring,
        response: jsonResponse('STAC Collections with links'),
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      const q = request.query as Record<string, unknown>;
      const allowed = ['f', 'q', 'bbox', 'datetime', 'limit', 'token'];
      for (const k of Object.keys(q)) {
        if (!allowed.includes(k)) throw new UnknownParameter(k, allowed);
        if (Array.isArray(q[k])) throw new InvalidParameterValue(k, 'given more than once');
      }
      const stac = await stacOf(ctx);
      const base = baseUrl(ctx, request);
      const bbox = q['bbox'] !== undefined ? parseBBox(String(q['bbox'])) : undefined;
      const dt =
        q['datetime'] !== undefined ? parseDatetime(String(q['datetime']), 'datetime', { rfc3339: true }) : undefined;
      // Free text: comma-separated terms, any may match; the words of one term must all appear.
      const terms =
        q['q'] !== undefined
          ? String(q['q'])
              .split(',')
              .map((t) => t.trim().toLowerCase().split(/\s+/).filter(Boolean))
              .filter((t) => t.length > 0)
          : [];
      let limit = Infinity;
      if (q['limit'] !== undefined) {
        limit = Number(q['limit']);
        if (!/^\d+$/.test(String(q['limit'])) || limit < 1)
          throw new InvalidParameterValue('limit', `expected a whole number ≥ 1, got '${String(q['limit'])}'`);
      }
      const offset = q['token'] !== undefined ? decodeToken(String(q['token'])).offset : 0;
      const docs = collectionIds(stac)
        .filter((id) => isVisible(ctx, request, id))
        .map((id) => collectionDocument(ctx, stac, id, base)!)
        .filter((d) => {
          const extent = d['extent'] as
            { spatial?: { bbox?: number[][] }; temporal?: { interval?: Array<Array<string | null>> } } | undefined;
          const b = extent?.spatial?.bbox?.[0];
          if (bbox && b && !intersectsBox(bbox, b[0]!, b[1]!, b[2]!, b[3]!)) return false;
          const iv = extent?.temporal?.interval?.[0];
          if (dt && iv && !overlaps(dt, iv[0] ? Date.parse(iv[0]) : -Infinity, iv[1] ? Date.parse(iv[1]) : Infinity))
            return false;
          if (terms.length > 0) {
            const text = [d['id'], d['title'], d['description'], ...((d['keywords'] as string[] | undefined) ?? [])]
              .join(' ')
              .toLowerCase();
            if (!terms.some((words) => words.every((w) => text.includes(w)))) return false;
          }
          return true;
        });
      const page = docs.slice(offset, offset + limit);
      const links: StacLink[] = [
        { rel: 'self', href: `${base}/stac/collections${queryString(request, {})}`, type: MEDIA.json },
        { rel: 'root', href: `${base}/stac`, type: MEDIA.json },
        { rel: 'parent', href: `${base}/stac`, type: MEDIA.json },
      ];
      if (offset + page.length < docs.length)
        links.push({
          rel: 'next',
          href: `${base}/stac/collections${queryString(request, { token: encodeToken({ offset: offset + page.length }) })}`,
          type: MEDIA.json,
        });
      return sendText(
        reply,
        'json',
        JSON.stringify({ collections: page, links, numberMatched: docs.length, numberReturned: page.length }),
      );
    },
  );

  app.get(
    '/stac/collections/:collectionId',
    {
      schema: {
        summary: 'One STAC collection',
        tags: ['STAC'],
        params: idParams,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: jsonResponse('STAC Collection'),
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      const { collectionId } = request.params as { collectionId: string };
      const stac = await stacOf(ctx);
      requireCollection(stac, collectionId);
      const doc = collectionDocument(ctx, stac, collectionId, baseUrl(ctx, request));
      if (!doc)
        throw new NotFound(
          `No STAC collection '${collectionId}'. Collections: ${collectionIds(stac)
            .filter((id) => !ctx.access?.restricted(id))
            .slice(0, 20)
            .join(', ')}`,
        );
      return sendText(reply, 'json', JSON.stringify(doc));
    },
  );

  app.get(
    '/stac/collections/:collectionId/items',
    {
      schema: {
        summary: 'Items of a STAC collection (bbox, datetime, filter, sortby, fields, paging by token)',
        tags: ['STAC'],
        params: idParams,
        querystring: itemsQuerystring,
        response: itemsResponse,
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      const { collectionId } = request.params as { collectionId: string };
      const stac = await stacOf(ctx);
      requireCollection(stac, collectionId);
      const req = parseSearchQuery(request.query as Record<string, unknown>, ITEMS_PARAMETERS);
      req.collections = [collectionId];
      const base = baseUrl(ctx, request);
      const url = `${base}/stac/collections/${enc(collectionId)}/items`;
      return search(request, stac, req, base, reply, (next) => [
        { rel: 'self', href: `${url}${queryString(request, {})}`, type: MEDIA.geojson },
        { rel: 'root', href: `${base}/stac`, type: MEDIA.json },
        { rel: 'collection', href: `${base}/stac/collections/${enc(collectionId)}`, type: MEDIA.json },
        ...(next ? [{ rel: 'next', href: `${url}${queryString(request, { token: next })}`, type: MEDIA.geojson }] : []),
      ]);
    },
  );

  app.get(
    '/stac/collections/:collectionId/items/:itemId',
    {
      schema: {
        summary: 'One STAC item',
        tags: ['STAC'],
        params: itemParams,
        querystring: { type: 'object', properties: { f: { type: 'string' } } },
        response: itemsResponse,
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      const { collectionId, itemId } = request.params as { collectionId: string; itemId: string };
      const stac = await stacOf(ctx);
      requireCollection(stac, collectionId);
      const row = await stac.index.get(collectionId, itemId);
      if (!row) throw new NotFound(`No item '${itemId}' in STAC collection '${collectionId}'`);
      return sendText(reply, 'geojson', new ItemWriter(ctx, stac, baseUrl(ctx, request)).json(row));
    },
  );

  app.get(
    '/stac/collections/:collectionId/files/*',
    {
      schema: {
        summary: 'Download a source file of a collection (whole, or one byte range)',
        tags: ['STAC'],
        params: {
          type: 'object',
          required: ['collectionId'],
          properties: {
            collectionId: { type: 'string' },
            '*': { type: 'string', description: 'File path relative to the data root' },
          },
        },
        response: fileResponse,
      },
      compress: false,
    },
    async (request, reply) => {
      const { collectionId, '*': rel } = request.params as { collectionId: string; '*': string };
      const stac = await stacOf(ctx);
      const c = stac.generated(collectionId);
      // A feature collection lists only its first files: membership is the catalog's (any file it indexed for it).
      if (c)
        return sendDataFile(
          request,
          reply,
          c.root,
          rel,
          c.files.includes(rel) || (await stac.index.source(c.id, rel)) !== undefined,
        );
      const s = stac.statics.get(collectionId);
      if (s) return sendDataFile(request, reply, s.root, rel, s.assets.has(rel));
      throw new NotFound(`No STAC collection '${collectionId}'`);
    },
  );

  app.get(
    '/stac/search',
    {
      schema: {
        summary:
          'Item search (GET): bbox, intersects, datetime, ids, collections, filter, sortby, fields, limit, token',
        tags: ['STAC'],
        querystring: searchQuerystring,
        response: itemsResponse,
      },
    },
    async (request, reply) => {
      jsonOnly(request);
      const stac = await stacOf(ctx);
      const req = parseSearchQuery(request.query as Record<string, unknown>, SEARCH_PARAMETERS);
      const base = baseUrl(ctx, request);
      const url = `${base}/stac/search`;
      return search(request, stac, req, base, reply, (next) => [
        { rel: 'self', href: `${url}${queryString(request, {})}`, type: MEDIA.geojson },
        { rel: 'root', href: `${base}/stac`, type: MEDIA.json },
        ...(next
          ? [
              {
                rel: 'next',
                href: `${url}${queryString(request, { token: next })}`,
                type: MEDIA.geojson,
                method: 'GET',
              },
            ]
          : []),
      ]);
    },
  );

  app.post(
    '/stac/search',
    {
      schema: {
        summary: 'Item search (POST, JSON body): the GET parameters as JSON, filter as CQL2 JSON or text',
        tags: ['STAC'],
        body: searchBody,
        response: itemsResponse,
      },
    },
    async (request, reply) => {
      const stac = await stacOf(ctx);
      const req = parseSearchBody(request.body);
      const base = baseUrl(ctx, request);
      const url = `${base}/stac/search`;
      const body = (request.body ?? {}) as Record<string, unknown>;
      return search(request, stac, req, base, reply, (next) => [
        { rel: 'root', href: `${base}/stac`, type: MEDIA.json },
        // The next page is the same request with the token: the whole body, so no merge is needed.
        ...(next
          ? [
              {
                rel: 'next',
                href: url,
                type: MEDIA.geojson,
                method: 'POST',
                body: { ...body, token: next },
                merge: false,
              },
            ]
          : []),
      ]);
    },
  );

  async function search(
    request: FastifyRequest,
    stac: StacService,
    req: SearchRequest,
    base: string,
    reply: FastifyReply,
    links: (next: string | undefined) => StacLink[],
  ): Promise<FastifyReply> {
    for (const id of req.collections ?? [])
      if (stac.collections.has(id) && !hasCollection(stac, id))
        throw new InvalidParameterValue(
          'collections',
          `'${id}' is served in STAC by the static catalog collection '${stac.shadowedBy(stac.collections.get(id)!)}'`,
        );
    const hidden = stac.hiddenCollections();
    // Restricted collections: named ones need their credential (401/403); unnamed ones are left out of the search.
    const access = ctx.access;
    if (access?.anyRestricted) {
      if (req.collections) for (const id of req.collections) access.check(request, id);
      else {
        req.collections = stac.index.collections().filter((id) => access.visible(request, id) && !hidden.includes(id));
        if (req.collections.length === 0)
          return sendText(
            reply,
            'geojson',
            itemCollection(new ItemWriter(ctx, stac, base, req.fields), { rows: [], matched: 0 }, links(undefined)),
          );
      }
    }
    const result = await stac.index.search(
      hidden.length > 0 && !req.collections?.length ? { ...req, excludeCollections: hidden } : req,
    );
    const writer = new ItemWriter(ctx, stac, base, req.fields);
    return sendText(
      reply,
      'geojson',
      itemCollection(writer, result, links(result.next ? encodeToken(result.next) : undefined)),
    );
  }
}
