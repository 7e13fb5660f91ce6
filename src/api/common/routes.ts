import type { FastifyInstance } from 'fastify';
import { esc, page, table, definitionTable, svgMap } from '../../html/page.js';
import { shapesOf } from '../../html/shapes.js';
import { mapPanel } from '../../html/map-panel.js';
import { subsetForm } from '../../html/subset-form.js';
import type { Collection } from '../../catalog/collection.js';
import { baseUrl, getCollection, sendText, visibleCollections, type ApiContext } from '../context.js';
import { isoTime, type Link } from '../link.js';
import { negotiate } from '../negotiate.js';
import { collectionDoc, type CollectionDoc } from './collection-doc.js';

export const COMMON_CONFORMANCE = [
  'http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core',
  'http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page',
  'http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json',
  'http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html',
  'http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30',
  'http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections',
];

const fOnly = {
  type: 'object',
  properties: { f: { type: 'string', description: 'Output format: json or html (beats the Accept header).' } },
} as const;

const jsonResponse = (description: string) => ({ 200: { description, type: 'object', additionalProperties: true } });
const errorResponses = {
  400: { description: 'Invalid parameter (OGC exception JSON)', $ref: 'exception#' },
  404: { description: 'Not found (OGC exception JSON)', $ref: 'exception#' },
};

function collectionsHtml(docs: CollectionDoc[], base: string): string {
  const rows = docs.map((d) => [
    `<a href="${esc(`${base}/collections/${d.id}?f=html`)}"><img class="odas-thumb" loading="lazy" alt="${esc(`${d.id} thumbnail`)}" src="${esc(`${base}/collections/${encodeURIComponent(d.id)}/thumbnail`)}" style="max-width:240px;max-height:160px;background:#dbe9f4"></a>`,
    `<a href="${esc(`${base}/collections/${d.id}?f=html`)}">${esc(d.id)}</a>`,
    esc(d.title),
    esc(d.itemType),
    esc(d.extent.spatial.bbox[0]!.map((v) => Number(v.toFixed(3))).join(', ')),
    esc(d.extent.temporal.interval[0]!.map((t) => t ?? '..').join(' / ')),
  ]);
  return table(['', 'id', 'title', 'type', 'bbox (CRS84)', 'time'], rows);
}

/** What the landing page tells a person the server offers, with a link for each way in. */
function landingHtml(base: string, description: string, count: number): string {
  const li = (href: string, label: string, text: string) => `<li><a href="${esc(href)}">${label}</a> — ${text}</li>`;
  return `<p>${esc(description)}</p>
<p>Every collection is served from its files as they are; each page below has a map, a time-series chart and a form that builds download URLs.</p>
<ul>
${li(`${base}/collections?f=html`, `Collections (${count})`, 'observations as OGC API - Features, grids as OGC API - Coverages (NetCDF, CoverageJSON, GeoTIFF); both through OGC API - EDR (position, area, cube, trajectory…)')}
${li(`${base}/stac`, 'STAC API', 'a catalog of the files with item search (bbox, datetime, CQL2)')}
${li(`${base}/tileMatrixSets`, 'OGC API - Maps and Tiles', 'PNG maps and tiles of every grid field (WebMercatorQuad, WorldCRS84Quad)')}
${li(`${base}/wms?SERVICE=WMS&REQUEST=GetCapabilities`, 'WMS 1.3.0', 'a layer per grid field, for QGIS and catalogue portals (ncWMS parameters accepted)')}
${li(`${base}/opendap`, 'OPeNDAP (DAP2 and DAP4)', 'every collection for netCDF-C, xarray, Panoply and Ferret: grids as Grids, profiles, trajectories and time series as CF DSG arrays')}
${li(`${base}/erddap`, 'ERDDAP griddap and tabledap', 'URLs as ERDDAP clients write them')}
${li(`${base}/conformance?f=html`, 'Conformance', 'the OGC conformance classes implemented')}
${li(`${base}/status?f=html`, 'Indexing status', 'files read, rate, errors')}
${li(`${base}/api.html`, 'API documentation', `every route and parameter (<a href="${esc(`${base}/api`)}">OpenAPI 3.0 definition</a>)`)}
</ul>`;
}

/** OGC API - Common: landing page, conformance, collections, one collection. */
export async function commonRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;

  app.get(
    '/',
    {
      schema: {
        summary: 'Landing page',
        tags: ['Common'],
        querystring: fOnly,
        response: {
          ...jsonResponse('Landing page with links to the API definition, conformance and collections'),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const base = baseUrl(ctx, request);
      const links: Link[] = [
        { href: `${base}/`, rel: 'self', type: 'application/json', title: 'This document' },
        { href: `${base}/?f=html`, rel: 'alternate', type: 'text/html', title: 'This document as HTML' },
        {
          href: `${base}/api`,
          rel: 'service-desc',
          type: 'application/vnd.oai.openapi+json;version=3.0',
          title: 'The API definition (OpenAPI 3.0)',
        },
        { href: `${base}/api.html`, rel: 'service-doc', type: 'text/html', title: 'The API documentation' },
        { href: `${base}/conformance`, rel: 'conformance', type: 'application/json', title: 'Conformance classes' },
        { href: `${base}/collections`, rel: 'data', type: 'application/json', title: 'Collections' },
        // The STAC API is a different resource (its own catalog and search), hence 'related', not 'alternate'.
        {
          href: `${base}/stac`,
          rel: 'related',
          type: 'application/json',
          title: 'STAC API (SpatioTemporal Asset Catalog): catalog and item search',
        },
        {
          href: `${base}/tileMatrixSets`,
          rel: 'http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes',
          type: 'application/json',
          title: 'Tile matrix sets of the map tiles (WebMercatorQuad, WorldCRS84Quad)',
        },
        {
          href: `${base}/wms?SERVICE=WMS&REQUEST=GetCapabilities`,
          rel: 'related',
          type: 'text/xml',
          title: 'WMS 1.3.0 capabilities (a layer per grid field, for QGIS and portals)',
        },
        {
          href: `${base}/status`,
          rel: 'monitor',
          type: 'application/json',
          title: 'Indexing status: files done/total, rate, errors',
        },
      ];
      const format = negotiate(request, ['json', 'html']);
      if (format === 'html') {
        const docs = visibleCollections(ctx, request).map((c) => collectionDoc(c, base, ctx.describers));
        return sendText(
          reply,
          'html',
          page(
            ctx.title,
            [{ href: `${base}/?f=html`, label: 'Home' }],
            `${landingHtml(base, ctx.description, docs.length)}
<h2>Collections</h2>${collectionsHtml(docs, base)}`,
            [{ href: `${base}/?f=json`, label: 'JSON' }],
          ),
        );
      }
      return sendText(reply, 'json', JSON.stringify({ title: ctx.title, description: ctx.description, links }));
    },
  );

  app.get(
    '/conformance',
    {
      schema: {
        summary: 'Conformance classes implemented by this server',
        tags: ['Common'],
        querystring: fOnly,
        response: { ...jsonResponse('Conformance declaration'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const base = baseUrl(ctx, request);
      if (negotiate(request, ['json', 'html']) === 'html') {
        return sendText(
          reply,
          'html',
          page(
            'Conformance',
            [
              { href: `${base}/?f=html`, label: 'Home' },
              { href: `${base}/conformance?f=html`, label: 'Conformance' },
            ],
            `<ul>${ctx.conformance.map((u) => `<li><code>${esc(u)}</code></li>`).join('')}</ul>`,
            [{ href: `${base}/conformance?f=json`, label: 'JSON' }],
          ),
        );
      }
      return sendText(reply, 'json', JSON.stringify({ conformsTo: ctx.conformance }));
    },
  );

  app.get(
    '/collections',
    {
      schema: {
        summary: 'The collections',
        tags: ['Common'],
        querystring: fOnly,
        response: { ...jsonResponse('Collections with their extents and links'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const base = baseUrl(ctx, request);
      const docs = visibleCollections(ctx, request).map((c) => collectionDoc(c, base, ctx.describers));
      if (negotiate(request, ['json', 'html']) === 'html') {
        return sendText(
          reply,
          'html',
          page(
            'Collections',
            [
              { href: `${base}/?f=html`, label: 'Home' },
              { href: `${base}/collections?f=html`, label: 'Collections' },
            ],
            collectionsHtml(docs, base),
            [{ href: `${base}/collections?f=json`, label: 'JSON' }],
          ),
        );
      }
      const links: Link[] = [
        { href: `${base}/collections`, rel: 'self', type: 'application/json', title: 'This document' },
        { href: `${base}/collections?f=html`, rel: 'alternate', type: 'text/html', title: 'This document as HTML' },
      ];
      // While files are being read the listing is not final: say so, with the progress as of now.
      const progress = ctx.progress?.();
      const indexing =
        progress && progress.state === 'indexing'
          ? {
              indexing: {
                filesTotal: progress.files.total,
                filesDone: progress.files.indexed + progress.files.failed,
                asOf: new Date().toISOString(),
                status: `${base}/status`,
              },
            }
          : {};
      return sendText(reply, 'json', JSON.stringify({ collections: docs, links, ...indexing }));
    },
  );

  app.get(
    '/collections/:collectionId',
    {
      schema: {
        summary: 'One collection',
        tags: ['Common'],
        params: {
          type: 'object',
          required: ['collectionId'],
          properties: { collectionId: { type: 'string', description: 'Collection id' } },
        },
        querystring: fOnly,
        response: { ...jsonResponse('Collection description with extent, parameters and links'), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { collectionId } = request.params as { collectionId: string };
      const c = getCollection(ctx, collectionId);
      const base = baseUrl(ctx, request);
      const doc = collectionDoc(c, base, ctx.describers);
      if (negotiate(request, ['json', 'html']) === 'html') {
        const href = `${base}/collections/${c.id}`;
        const shapes = c.features
          ? shapesOf(await c.features.sample(2000), (r) => `${href}/items/${encodeURIComponent(r.id)}?f=html`)
          : [];
        const body = `<p>${esc(c.description)}</p>
${definitionTable([
  ['Kind', esc(c.kind)],
  ['Extent (CRS84)', esc(doc.extent.spatial.bbox[0]!.join(', '))],
  ['Time', esc(`${isoTime(c.timeSpan?.[0]) ?? '..'} / ${isoTime(c.timeSpan?.[1]) ?? '..'}`)],
  ['Keywords', esc(c.keywords.join(', '))],
  ['Licence', esc(c.license ?? 'not stated')],
  [
    'Files',
    esc(
      c.fileCount > c.files.slice(0, 5).length
        ? `${c.files.slice(0, 5).join(', ')} … (${c.fileCount} files)`
        : c.files.join(', '),
    ),
  ],
  ...(c.indexing ? [['Status', 'still being indexed: more features may appear'] as [string, string]] : []),
  ...(c.features
    ? [
        [
          'Features',
          `<a href="${esc(`${href}/items?f=html`)}">${c.features.size} features</a> — <a href="${esc(`${href}/queryables?f=html`)}">queryables</a>`,
        ] as [string, string],
      ]
    : []),
])}
${collectionMap(c, base, href) ?? ''}<noscript>${svgMap(c.bbox, shapes)}</noscript>
${collectionSubset(c, base)}
<h2>Parameters</h2>${table(
          ['name', 'units', 'standard_name', 'long_name'],
          c.parameters.map((p) => [esc(p.name), esc(p.units ?? ''), esc(p.standardName ?? ''), esc(p.longName ?? '')]),
        )}`;
        return sendText(
          reply,
          'html',
          page(
            c.title,
            [
              { href: `${base}/?f=html`, label: 'Home' },
              { href: `${base}/collections?f=html`, label: 'Collections' },
              { href: `${href}?f=html`, label: c.id },
            ],
            body,
            [{ href: `${href}?f=json`, label: 'JSON' }],
          ),
        );
      }
      return sendText(reply, 'json', JSON.stringify(doc));
    },
  );
}

/** The subset form of a collection page, after its map (the form's script reaches the map). */
function collectionSubset(c: Collection, base: string): string {
  if (c.kind !== 'grid' && !c.features) return '';
  const start = isoTime(c.timeSpan?.[0]);
  const end = isoTime(c.timeSpan?.[1]);
  return `${subsetForm({
    base,
    id: c.id,
    kind: c.kind === 'grid' ? 'grid' : 'features',
    ...(c.bbox ? { bbox: c.bbox } : {}),
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    fields:
      c.kind === 'grid'
        ? c.parameters.map((p) => ({ name: p.name, title: `${p.longName ?? p.name}${p.units ? ` (${p.units})` : ''}` }))
        : [],
  })}
<script src="${esc(base)}/assets/odas-subset.js"></script>`;
}

/** The interactive map of a collection page: a grid's tiles with a time slider, or the features with popups. */
function collectionMap(c: Collection, base: string, href: string): string | undefined {
  if (c.kind === 'grid') {
    const times = [...new Set((c.grid ?? []).flatMap((f) => f.summary.time?.values ?? []))]
      .sort((a, b) => a - b)
      .slice(-5000);
    const fields = c.parameters.map((p) => ({
      name: p.name,
      title: `${p.longName ?? p.name}${p.units ? ` (${p.units})` : ''}`,
    }));
    if (fields.length === 0) return undefined;
    return mapPanel({
      base,
      id: c.id,
      ...(c.bbox ? { bbox: c.bbox } : {}),
      grid: { fields, times: times.map((t) => isoTime(t)!) },
    });
  }
  if (!c.features) return undefined;
  return mapPanel({ base, id: c.id, ...(c.bbox ? { bbox: c.bbox } : {}), items: `${href}/items?f=json&limit=1000` });
}
