/**
 * WMS 1.3.0 at /wms (OGC 06-042), for QGIS, portals and ncWMS clients: GetCapabilities, GetMap,
 * GetFeatureInfo and GetLegendGraphic, with ncWMS's COLORSCALERANGE, NUMCOLORBANDS and LOGSCALE.
 * A thin parser over the shared map renderer; every error is a WMS ServiceExceptionReport.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrorWithHeaders, InvalidParameterValue } from '../../core/errors.js';
import { viewCoordinates } from '../../core/grid/view.js';
import { baseUrl, visibleCollections, type ApiContext } from '../context.js';
import type { ApiModule } from '../module.js';
import {
  abortOnClose,
  imageFormatOf,
  layerOf,
  pointValue,
  renderLegend,
  renderMap,
  resolveStyle,
  type Layer,
  type ParameterNames,
  type PointValue,
  type RenderedImage,
} from '../maps/render.js';
import { capabilities } from './capabilities.js';
import { asWmsException, exceptionReport, WmsException } from './exceptions.js';
import { parseStep, parseStyle, parseView, required, splitLayerName, wmsQuery, type WmsQuery } from './params.js';
import { xmlEscape } from './xml.js';

const MAP_NAMES: ParameterNames = {
  layer: 'LAYERS',
  style: 'STYLES',
  range: 'COLORSCALERANGE',
  bands: 'NUMCOLORBANDS',
};
const LEGEND_NAMES: ParameterNames = {
  layer: 'LAYER',
  style: 'STYLE',
  range: 'COLORSCALERANGE',
  bands: 'NUMCOLORBANDS',
};

async function layerNamed(
  ctx: ApiContext,
  q: WmsQuery,
  parameter: 'LAYERS' | 'LAYER' | 'QUERY_LAYERS',
  request: FastifyRequest,
): Promise<Layer> {
  const names = required(q, parameter).split(',');
  if (names.length > 1)
    throw new WmsException(
      'OperationNotSupported',
      `one layer per request (LayerLimit 1); ${parameter} names ${names.length}`,
    );
  const { collection, field } = splitLayerName(names[0]!.trim());
  ctx.access?.check(request, collection);
  return layerOf(ctx, collection, field, { ...MAP_NAMES, layer: parameter }, request.log);
}

function sendPng(request: FastifyRequest, reply: FastifyReply, image: RenderedImage): FastifyReply {
  const etag = `"${createHash('sha1').update(image.key).digest('base64url').slice(0, 20)}"`;
  reply
    .header('etag', etag)
    .header('cache-control', 'public, max-age=300')
    .header('x-odas-cache', image.cached ? 'hit' : 'miss');
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  return reply.type(image.type).send(image.body);
}

function checkFormat(q: WmsQuery, parameter: string, offered: string[]): string {
  const f = (q.get(parameter) ?? offered[0]!).trim().toLowerCase();
  const hit = offered.find((o) => f === o || f.startsWith(`${o};`));
  if (!hit)
    throw new WmsException(
      'InvalidFormat',
      `${parameter} '${q.get(parameter)}' is not offered; use one of ${offered.join(', ')}`,
    );
  return hit;
}

async function getMap(
  ctx: ApiContext,
  q: WmsQuery,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const format = imageFormatOf(checkFormat(q, 'FORMAT', ['image/png', 'image/jpeg', 'image/webp']))!;
  const layer = await layerNamed(ctx, q, 'LAYERS', request);
  const view = parseView(q);
  const step = parseStep(q);
  const { background, ...styleReq } = parseStyle(q, 'STYLES');
  const style = await resolveStyle(layer, styleReq, MAP_NAMES);
  if (background) style.background = background;
  return sendPng(request, reply, await renderMap(layer, view, step, style, abortOnClose(reply), format));
}

async function getLegend(
  ctx: ApiContext,
  q: WmsQuery,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  checkFormat(q, 'FORMAT', ['image/png']);
  const layer = await layerNamed(ctx, q, 'LAYER', request);
  const style = await resolveStyle(layer, parseStyle(q, 'STYLE'), LEGEND_NAMES);
  const size = (p: string): number | undefined => {
    const v = q.get(p);
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 40 || n > 1024)
      throw new InvalidParameterValue(p, `expected a whole number of pixels from 40 to 1024, got '${v}'`);
    return n;
  };
  return sendPng(request, reply, renderLegend(layer, style, size('WIDTH'), size('HEIGHT')));
}

function featureInfoText(layerName: string, p: PointValue, format: string): string {
  const value = p.value === null ? 'none' : String(Math.round(p.value * 1e6) / 1e6);
  const rows: Array<[string, string]> = [
    ['Layer', layerName],
    ['Longitude', String(p.lon)],
    ['Latitude', String(p.lat)],
    ...Object.entries(p.cell).map(([k, v]) => [`Cell ${k}`, String(v)] as [string, string]),
    ['Value', `${value}${p.value !== null && p.units ? ` ${p.units}` : ''}`],
  ];
  if (format === 'text/html') {
    return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${xmlEscape(layerName)}</title></head><body><table>${rows.map(([k, v]) => `<tr><th>${xmlEscape(k)}</th><td>${xmlEscape(v)}</td></tr>`).join('')}</table></body></html>`;
  }
  if (format === 'text/xml') {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<FeatureInfoResponse><FeatureInfo layer="${xmlEscape(layerName)}" longitude="${p.lon}" latitude="${p.lat}" units="${xmlEscape(p.units ?? '')}">${value}</FeatureInfo></FeatureInfoResponse>\n`;
  }
  return `${rows.map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
}

async function getFeatureInfo(
  ctx: ApiContext,
  q: WmsQuery,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const format = checkFormat(q, 'INFO_FORMAT', ['text/plain', 'application/json', 'text/html', 'text/xml']);
  const layerName = required(q, 'QUERY_LAYERS').split(',')[0]!.trim();
  const layer = await layerNamed(ctx, q, 'QUERY_LAYERS', request);
  const view = parseView(q);
  const i = Number(q.get('I') ?? q.get('X'));
  const j = Number(q.get('J') ?? q.get('Y'));
  if (!Number.isInteger(i) || !Number.isInteger(j) || i < 0 || j < 0 || i >= view.width || j >= view.height) {
    throw new WmsException(
      'InvalidPoint',
      `I and J must be whole pixel numbers inside the ${view.width} × ${view.height} map, got I=${q.get('I') ?? q.get('X')}, J=${q.get('J') ?? q.get('Y')}`,
    );
  }
  const { lons, lats } = viewCoordinates(view);
  const p = await pointValue(layer, lons[i]!, lats[j]!, parseStep(q));
  if (format === 'application/json') {
    const doc = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [p.lon, p.lat] },
          properties: { layer: layerName, value: p.value, ...(p.units ? { units: p.units } : {}), cell: p.cell },
        },
      ],
    };
    return reply.type('application/json').send(JSON.stringify(doc));
  }
  return reply.type(`${format}; charset=utf-8`).send(featureInfoText(layerName, p, format));
}

async function wms(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const q = wmsQuery(request.query as Record<string, unknown>);
  try {
    const service = q.get('SERVICE');
    if (service !== undefined && service.toUpperCase() !== 'WMS')
      throw new InvalidParameterValue('SERVICE', `this endpoint is a WMS, not '${service}'`);
    const req = required(q, 'REQUEST');
    switch (req.toLowerCase()) {
      case 'getcapabilities': {
        const base = baseUrl(ctx, request);
        const xml = await capabilities(base, ctx.title, ctx.description, visibleCollections(ctx, request), request.log);
        return reply.type('text/xml; charset=utf-8').send(xml);
      }
      case 'getmap':
        return await getMap(ctx, q, request, reply);
      case 'getlegendgraphic':
        return await getLegend(ctx, q, request, reply);
      case 'getfeatureinfo':
        return await getFeatureInfo(ctx, q, request, reply);
      default:
        throw new WmsException(
          'OperationNotSupported',
          `REQUEST '${req}' is not offered; use GetCapabilities, GetMap, GetFeatureInfo or GetLegendGraphic`,
        );
    }
  } catch (err) {
    const e = asWmsException(err);
    if (!e) throw err;
    if (e.status >= 500) request.log.error({ err }, e.message);
    if (err instanceof ApiErrorWithHeaders) void reply.headers(err.headers);
    return reply.status(e.status).type('application/vnd.ogc.se_xml; charset=utf-8').send(exceptionReport(e));
  }
}

async function wmsRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  app.get(
    '/wms',
    {
      // GetMap renders from the grids: a data request; images carry their own validators.
      config: {
        workClass: 'data',
        cacheKind: 'none',
        // Refusals before the handler (401, 429, 503 from access and admission control) in the WMS form too.
        renderError: (err: Error) => {
          const e = asWmsException(err);
          return e
            ? { status: e.status, type: 'application/vnd.ogc.se_xml; charset=utf-8', body: exceptionReport(e) }
            : undefined;
        },
      },
      schema: {
        summary:
          'WMS 1.3.0: GetCapabilities, GetMap (PNG), GetFeatureInfo (text, JSON, HTML), GetLegendGraphic; ncWMS COLORSCALERANGE, NUMCOLORBANDS, LOGSCALE',
        tags: ['WMS'],
        querystring: {
          type: 'object',
          additionalProperties: true,
          properties: {
            SERVICE: { type: 'string', description: 'WMS' },
            VERSION: { type: 'string', description: '1.3.0' },
            REQUEST: { type: 'string', description: 'GetCapabilities, GetMap, GetFeatureInfo or GetLegendGraphic' },
            LAYERS: { type: 'string', description: 'One layer: COLLECTION/FIELD' },
            STYLES: {
              type: 'string',
              description: "viridis, thermal, haline, diverging or greys (empty: the field's default)",
            },
            CRS: { type: 'string', description: 'CRS:84, EPSG:4326 (latitude first) or EPSG:3857' },
            BBOX: { type: 'string', description: "minx,miny,maxx,maxy in the CRS's axis order" },
            WIDTH: { type: 'string' },
            HEIGHT: { type: 'string' },
            FORMAT: { type: 'string', description: 'image/png, image/jpeg or image/webp' },
            ABOVEMAXCOLOR: {
              type: 'string',
              description: 'Values above COLORSCALERANGE: extend (default), transparent or 0xRRGGBB (ncWMS)',
            },
            BELOWMINCOLOR: {
              type: 'string',
              description: 'Values below COLORSCALERANGE: extend (default), transparent or 0xRRGGBB (ncWMS)',
            },
            INTERPOLATION: {
              type: 'string',
              description: 'nearest (default) or bilinear (an odas vendor parameter)',
            },
            TIME: { type: 'string', description: 'ISO 8601 instant (nearest step)' },
            ELEVATION: { type: 'string', description: 'A level of the vertical axis (nearest)' },
            COLORSCALERANGE: {
              type: 'string',
              description: "min,max of the colour scale (ncWMS); default: valid range, else the data's",
            },
            NUMCOLORBANDS: { type: 'string', description: 'Colour bands, 1..254 (ncWMS)' },
            LOGSCALE: { type: 'string', description: 'true: logarithmic colour scale (ncWMS)' },
            QUERY_LAYERS: { type: 'string' },
            INFO_FORMAT: { type: 'string', description: 'text/plain, application/json, text/html or text/xml' },
            I: { type: 'string' },
            J: { type: 'string' },
          },
        },
        response: {
          200: { description: 'Capabilities XML, a PNG, or feature info', type: 'string' },
          400: { description: 'WMS ServiceExceptionReport (XML)', type: 'string' },
        },
      },
    },
    (request, reply) => wms(ctx, request, reply),
  );
}

export const wmsApi: ApiModule = {
  name: 'WMS',
  conformance: [],
  routes: (app, opts) => wmsRoutes(app, opts),
};
