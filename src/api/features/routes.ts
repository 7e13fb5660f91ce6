import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { readFeatureData } from '../../catalog/feature-data.js';
import type { FeatureStore } from '../../catalog/feature-store.js';
import { NotFound } from '../../core/errors.js';
import { esc, page, table, svgMap } from '../../html/page.js';
import { shapeOf, shapesOf } from '../../html/shapes.js';
import { baseUrl, getCollection, sendText, type ApiContext } from '../context.js';
import type { Link } from '../link.js';
import type { ApiModule } from '../module.js';
import { negotiate } from '../negotiate.js';
import { featureDataCsv, featuresCsv } from './csv.js';
import { CRS84, parseVectorCrs, VECTOR_CRS, mapGeometry, type VectorCrs } from '../../core/query/vector-crs.js';
import type { FeatureRecord } from '../../catalog/feature.js';
import type { CollectionDoc } from '../common/collection-doc.js';
import { queryValidatorCompiler } from '../query-validator.js';
import { itemsQuerystring, parseItemsQuery, type ItemsQuery } from './query.js';
import { propertySchemaRoute, type PropertySchemas } from './property-schema.js';

const FEATURES_CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html',
  'http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson',
  'http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
  'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter',
  'http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2',
  'http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json',
];

const collectionParams = {
  type: 'object',
  required: ['collectionId'],
  properties: { collectionId: { type: 'string', description: 'Collection id' } },
} as const;

const geojsonResponse = (description: string) => ({
  200: {
    description,
    content: {
      'application/geo+json': { schema: { type: 'object', additionalProperties: true } },
      'text/html': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
    },
  },
  400: { description: 'Invalid parameter (OGC exception JSON)', $ref: 'exception#' },
  404: { description: 'Unknown collection or feature (OGC exception JSON)', $ref: 'exception#' },
  502: { description: 'A data file of the collection could not be read (OGC exception JSON)', $ref: 'exception#' },
});

function featuresOf(c: Collection): FeatureStore {
  if (!c.features)
    throw new NotFound(`Collection '${c.id}' is gridded data, not features: use its coverage or EDR endpoints`);
  return c.features;
}

/** The request's query string with some parameters replaced, for next/prev/alternate links. */
function withQuery(request: FastifyRequest, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(request.query as Record<string, unknown>)) {
    // bbox and sortby arrive as arrays (style form, explode false): one comma-separated value again.
    if (
      Array.isArray(v) &&
      itemsQuerystring.properties[k as keyof typeof itemsQuerystring.properties]?.type === 'array'
    )
      params.append(k, v.join(','));
    else for (const one of [v].flat()) params.append(k, String(one));
  }
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) params.delete(k);
    else params.set(k, v);
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** self, alternates, collection, and next/prev links that keep every parameter of the request. */
function itemsLinks(
  request: FastifyRequest,
  base: string,
  itemsUrl: string,
  c: Collection,
  q: ItemsQuery,
  matched: number,
): Link[] {
  const links: Link[] = [
    { href: `${itemsUrl}${withQuery(request, {})}`, rel: 'self', type: 'application/geo+json', title: 'This page' },
    {
      href: `${itemsUrl}${withQuery(request, { f: 'html' })}`,
      rel: 'alternate',
      type: 'text/html',
      title: 'This page as HTML',
    },
    {
      href: `${itemsUrl}${withQuery(request, { f: 'csv' })}`,
      rel: 'alternate',
      type: 'text/csv',
      title: 'This page as CSV',
    },
    {
      href: `${base}/collections/${encodeURIComponent(c.id)}`,
      rel: 'collection',
      type: 'application/json',
      title: c.title,
    },
  ];
  if (q.offset + q.limit < matched) {
    links.push({
      href: `${itemsUrl}${withQuery(request, { offset: String(q.offset + q.limit), limit: String(q.limit) })}`,
      rel: 'next',
      type: 'application/geo+json',
      title: 'Next page',
    });
  }
  if (q.offset > 0) {
    const prev = Math.max(0, q.offset - q.limit);
    links.push({
      href: `${itemsUrl}${withQuery(request, { offset: prev === 0 ? undefined : String(prev), limit: String(q.limit) })}`,
      rel: 'prev',
      type: 'application/geo+json',
      title: 'Previous page',
    });
  }
  return links;
}

/** Part 2: the CRS a feature collection's geometries can be asked in (stored in CRS84). */
function describeFeatures(c: Collection, doc: CollectionDoc): void {
  if (!c.features) return;
  for (const crs of VECTOR_CRS) if (!doc.crs.includes(crs.uri)) doc.crs.push(crs.uri);
  doc.storageCrs = CRS84.uri;
}

export const featuresApi: ApiModule = {
  name: 'Features',
  conformance: FEATURES_CONFORMANCE,
  routes: (app, opts) => featuresRoutes(app, opts),
  describeCollection: (c, doc) => describeFeatures(c, doc),
};

/** A feature's geometry in the answer's CRS (stored in CRS84). */
function geometryIn(r: FeatureRecord, crs: VectorCrs): FeatureRecord['geometry'] {
  return r.geometry && crs !== CRS84 ? mapGeometry(r.geometry, crs.fromCrs84) : r.geometry;
}

/** OGC API - Features Part 1 items and items/{id}, Part 3 queryables, for profile, trajectory and time-series collections. */
async function featuresRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  // Query strings typed by their schemas (integers, comma-separated arrays): the ones /api publishes.
  app.setValidatorCompiler(queryValidatorCompiler);

  app.get(
    '/collections/:collectionId/items',
    {
      schema: {
        summary: 'Features of a collection (one per profile, trajectory or station)',
        tags: ['Features'],
        params: collectionParams,
        querystring: itemsQuerystring,
        response: geojsonResponse('GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev links'),
      },
    },
    async (request, reply) => {
      const { collectionId } = request.params as { collectionId: string };
      const c = getCollection(ctx, collectionId);
      const index = featuresOf(c);
      const format = negotiate(request, ['geojson', 'html', 'csv']);
      const q = parseItemsQuery(c, request.query as Record<string, unknown>);
      const base = baseUrl(ctx, request);
      const itemsUrl = `${base}/collections/${encodeURIComponent(c.id)}/items`;
      q.filter.queryablesHref = `${base}/collections/${encodeURIComponent(c.id)}/queryables`;
      reply.header('content-crs', `<${q.crs.uri}>`);
      if (format === 'geojson') {
        const { matched, features } =
          q.crs === CRS84
            ? await index.pageGeojson(q.filter, q.offset, q.limit)
            : (({ matched: m, records }) => ({
                matched: m,
                features: records.map((r) =>
                  JSON.stringify({
                    type: 'Feature',
                    id: r.id,
                    geometry: geometryIn(r, q.crs),
                    properties: r.properties,
                  }),
                ),
              }))(await index.page(q.filter, q.offset, q.limit));
        const head = JSON.stringify({
          type: 'FeatureCollection',
          numberMatched: matched,
          numberReturned: features.length,
          timeStamp: new Date().toISOString(),
          links: itemsLinks(request, base, itemsUrl, c, q, matched),
        });
        return sendText(reply, 'geojson', `${head.slice(0, -1)},"features":[${features.join(',')}]}`);
      }
      const { matched, records: page_ } = await index.page(q.filter, q.offset, q.limit);
      if (format === 'csv') return sendText(reply, 'csv', featuresCsv(index, page_, q.crs));
      const names = [...index.propertyTypes().keys()].slice(0, 10);
      const rows = page_.map((r) => {
        return [
          `<a href="${esc(`${itemsUrl}/${r.id}?f=html`)}">${esc(r.id)}</a>`,
          ...names.map((n) => esc(r.properties[n])),
        ];
      });
      const shapes = shapesOf(page_, (r) => `${itemsUrl}/${encodeURIComponent(r.id)}?f=html`);
      const pageLink = (offset: number, text: string) =>
        `<a href="${esc(`${itemsUrl}${withQuery(request, { offset: offset === 0 ? undefined : String(offset), limit: String(q.limit), f: 'html' })}`)}">${text}</a>`;
      const nav = [
        q.offset > 0 ? pageLink(Math.max(0, q.offset - q.limit), '← previous page') : '',
        q.offset + q.limit < matched ? pageLink(q.offset + q.limit, 'next page →') : '',
      ].join(' ');
      const body = `<p>${q.offset + 1}–${q.offset + page_.length} of ${matched} matching features.${c.indexing ? ' (The collection is still being indexed.)' : ''} ${nav}</p>${svgMap(c.bbox, shapes)}${table(['id', ...names], rows)}<p>${nav}</p>`;
      return sendText(
        reply,
        'html',
        page(
          `${c.title}: features`,
          [
            { href: `${base}/?f=html`, label: 'Home' },
            { href: `${base}/collections?f=html`, label: 'Collections' },
            { href: `${base}/collections/${c.id}?f=html`, label: c.id },
            { href: `${itemsUrl}?f=html`, label: 'items' },
          ],
          body,
          [
            { href: `${itemsUrl}${withQuery(request, { f: 'json' })}`, label: 'GeoJSON' },
            { href: `${itemsUrl}${withQuery(request, { f: 'csv' })}`, label: 'CSV' },
          ],
        ),
      );
    },
  );

  app.get(
    '/collections/:collectionId/items/:featureId',
    {
      schema: {
        summary: 'One feature, with its levels or observations',
        tags: ['Features'],
        params: {
          type: 'object',
          required: ['collectionId', 'featureId'],
          properties: { collectionId: { type: 'string' }, featureId: { type: 'string' } },
        },
        querystring: {
          type: 'object',
          properties: {
            f: { type: 'string', description: 'json (GeoJSON), html or csv' },
            crs: itemsQuerystring.properties.crs,
          },
        },
        response: geojsonResponse(
          'GeoJSON Feature; its properties carry the data arrays (levels of a profile, observations of a trajectory or station)',
        ),
      },
    },
    async (request, reply) => {
      const { collectionId, featureId } = request.params as { collectionId: string; featureId: string };
      const c = getCollection(ctx, collectionId);
      const index = featuresOf(c);
      const r = await index.get(featureId);
      if (!r) throw new NotFound(`No feature '${featureId}' in collection '${c.id}'`);
      const format = negotiate(request, ['geojson', 'html', 'csv']);
      const crsText = (request.query as Record<string, unknown>)['crs'];
      const crs = typeof crsText === 'string' ? parseVectorCrs(crsText, 'crs') : CRS84;
      reply.header('content-crs', `<${crs.uri}>`);
      const data = await readFeatureData(c, r);
      if (format === 'csv') return sendText(reply, 'csv', featureDataCsv(r, data, crs));
      const base = baseUrl(ctx, request);
      const href = `${base}/collections/${encodeURIComponent(c.id)}/items/${encodeURIComponent(r.id)}`;
      if (format === 'html') {
        const n = Math.max(0, ...data.columns.map((col) => col.values.length));
        const shown = Math.min(n, 500);
        const rows = Array.from({ length: shown }, (_, k) => data.columns.map((col) => esc(col.values[k] ?? '')));
        const props = Object.entries(r.properties).map(([k, v]) => [esc(k), esc(v)]);
        // The feature in red over its collection's other features in grey: where it is, and among what.
        const others = shapesOf(
          (await index.sample(2000)).filter((o) => o.id !== r.id),
          (o) => `${base}/collections/${encodeURIComponent(c.id)}/items/${encodeURIComponent(o.id)}?f=html`,
          true,
        );
        const body = `${svgMap(c.bbox, [...others, ...(shapeOf(r) ? [shapeOf(r)!] : [])])}
${table(['property', 'value'], props)}<h2>${data.rowKind === 'level' ? 'Levels' : 'Observations'} (${n}${shown < n ? `, first ${shown} shown — <a href="${esc(href)}?f=csv">all as CSV</a>` : ''})</h2>
${table(
  data.columns.map((col) => (col.units ? `${col.name} [${col.units}]` : col.name)),
  rows,
)}`;
        return sendText(
          reply,
          'html',
          page(
            r.id,
            [
              { href: `${base}/?f=html`, label: 'Home' },
              { href: `${base}/collections?f=html`, label: 'Collections' },
              { href: `${base}/collections/${c.id}?f=html`, label: c.id },
              { href: `${base}/collections/${c.id}/items?f=html`, label: 'items' },
              { href: `${href}?f=html`, label: r.id },
            ],
            body,
            [
              { href: `${href}?f=json`, label: 'GeoJSON' },
              { href: `${href}?f=csv`, label: 'CSV' },
            ],
          ),
        );
      }
      const links: Link[] = [
        { href, rel: 'self', type: 'application/geo+json', title: 'This feature' },
        { href: `${href}?f=html`, rel: 'alternate', type: 'text/html', title: 'This feature as HTML' },
        { href: `${href}?f=csv`, rel: 'alternate', type: 'text/csv', title: `This feature's ${data.rowKind}s as CSV` },
        {
          href: `${base}/collections/${encodeURIComponent(c.id)}`,
          rel: 'collection',
          type: 'application/json',
          title: c.title,
        },
      ];
      const units: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      for (const col of data.columns) {
        values[col.name] = col.values;
        if (col.units) units[col.name] = col.units;
      }
      const feature = {
        type: 'Feature',
        id: r.id,
        geometry: geometryIn(r, crs),
        properties: { ...r.properties, [data.rowKind === 'level' ? 'levels' : 'observations']: values, units },
        links,
      };
      return sendText(reply, 'geojson', JSON.stringify(feature));
    },
  );

  propertySchemaRoute(app, ctx, {
    name: 'queryables',
    summary: 'Properties that filter items as query parameters',
    description: 'JSON Schema of the queryable properties',
    params: collectionParams,
    properties: async (c) => {
      const index = featuresOf(c);
      const properties: PropertySchemas = {
        geometry: {
          $ref: (await index.hasLines())
            ? 'https://geojson.org/schema/LineString.json'
            : 'https://geojson.org/schema/Point.json',
        },
      };
      for (const [name, type] of index.propertyTypes()) {
        properties[name] =
          name === 'datetime'
            ? { type: 'string', format: 'date-time', title: 'Observation time (UTC)' }
            : { type, title: name.replace(/_/g, ' ') };
      }
      return properties;
    },
  });

  propertySchemaRoute(app, ctx, {
    name: 'sortables',
    summary: 'Properties the items can be sorted by (sortby)',
    description: 'JSON Schema of the sortable properties',
    params: collectionParams,
    properties: (c) => {
      const index = featuresOf(c);
      const properties: PropertySchemas = {
        id: { type: 'string', title: 'Feature id' },
        datetime: { type: 'string', format: 'date-time', title: 'Observation time (UTC)' },
      };
      for (const [name, type] of index.propertyTypes())
        if (name !== 'datetime') properties[name] = { type, title: name.replace(/_/g, ' ') };
      return properties;
    },
  });
}
