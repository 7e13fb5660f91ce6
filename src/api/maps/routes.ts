/**
 * OGC API - Maps (a collection's map: bbox, bbox-crs, crs, width, height, datetime, subset, style)
 * and OGC API - Tiles (map tiles of every grid collection in WebMercatorQuad and WorldCRS84Quad,
 * tileset metadata, tile matrix sets), as PNG through the shared map renderer. Tiles and maps are
 * kept in the in-process image cache and carry an ETag.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { CRS84, epsgFromText, EPSG_3857, EPSG_4326 } from '../../core/grid/crs.js';
import { webMercator } from '../../core/grid/projection.js';
import { MERCATOR_HALF_WORLD, type MapView, type ViewSelection } from '../../core/grid/view.js';
import { InvalidParameterValue, UnknownParameter } from '../../core/errors.js';
import { parseBBox } from '../../core/query/bbox.js';
import { parseDatetime } from '../../core/query/datetime.js';
import { parseSubset } from '../../core/query/subset.js';
import type { CollectionDoc } from '../common/collection-doc.js';
import { baseUrl, sendText, type ApiContext } from '../context.js';
import type { ApiModule } from '../module.js';
import { assetRoutes } from './assets.js';
import {
  abortOnClose,
  checkSize,
  imageFormatOf,
  layerOf,
  parseInterpolation,
  parseOutOfRange,
  type ImageFormat,
  parseRange,
  renderMap,
  resolveStyle,
  type Layer,
  type ParameterNames,
  type RenderedImage,
  type StyleRequest,
} from './render.js';
import { shapesOf, thumbnailSvg } from '../../html/shapes.js';
import { getCollection } from '../context.js';
import { TILE_MATRIX_SETS, tileMatrixSet, tileMatrixSetDoc, tileView } from './tms.js';

const MAPS = 'http://www.opengis.net/spec/ogcapi-maps-1/1.0/conf/';
const TILES = 'http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/';
const MAPS_CONFORMANCE = [
  ...[
    'core',
    'scaling',
    'spatial-subsetting',
    'datetime',
    'general-subsetting',
    'crs',
    'collection-map',
    'png',
    'jpeg',
  ].map((c) => `${MAPS}${c}`),
  ...['core', 'tileset', 'tilesets-list', 'geodata-tilesets', 'png', 'jpeg', 'oas30'].map((c) => `${TILES}${c}`),
  'http://www.opengis.net/spec/tms/2.0/conf/tilematrixset',
  'http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset',
];

const REL_MAP = 'http://www.opengis.net/def/rel/ogc/1.0/map';
const REL_TILESETS_MAP = 'http://www.opengis.net/def/rel/ogc/1.0/tilesets-map';
const REL_TILING_SCHEME = 'http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme';
const NAMES: ParameterNames = { layer: 'properties', style: 'style', range: 'range', bands: 'bands' };
const MAP_PARAMETERS = [
  'f',
  'bbox',
  'bbox-crs',
  'crs',
  'width',
  'height',
  'datetime',
  'subset',
  'style',
  'properties',
  'range',
  'bands',
  'transparent',
  'bgcolor',
  'interpolation',
  'abovemaxcolor',
  'belowmincolor',
];
const TILE_PARAMETERS = [
  'f',
  'datetime',
  'style',
  'properties',
  'range',
  'bands',
  'subset',
  'interpolation',
  'abovemaxcolor',
  'belowmincolor',
];
const mercator = webMercator();

type Query = Record<string, unknown>;

function one(query: Query, key: string): string | undefined {
  const v = query[key];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new InvalidParameterValue(key, 'given more than once');
  return String(v);
}

function checkParameters(query: Query, allowed: string[]): void {
  for (const k of Object.keys(query)) if (!allowed.includes(k)) throw new UnknownParameter(k, allowed);
}

type MapCrs = 'CRS84' | 'EPSG:4326' | 'EPSG:3857';

function mapCrs(text: string | undefined, parameter: string): MapCrs {
  if (text === undefined) return 'CRS84';
  const t = text.trim().replace(/^\[|\]$/g, '');
  if (/^(ogc:)?crs84$/i.test(t) || t === CRS84 || /crs84$/i.test(t)) return 'CRS84';
  const code = epsgFromText(t);
  if (code === 4326) return 'EPSG:4326';
  if (code === 3857 || code === 900913) return 'EPSG:3857';
  throw new InvalidParameterValue(
    parameter,
    `CRS '${text}' is not offered; use ${CRS84}, ${EPSG_4326} or ${EPSG_3857}`,
  );
}

function crsUri(crs: MapCrs): string {
  return crs === 'CRS84' ? CRS84 : crs === 'EPSG:4326' ? EPSG_4326 : EPSG_3857;
}

/** A box in a request CRS as [west, south, east, north] CRS84, or as metres for EPSG:3857. */
function parseMapBox(text: string, crs: MapCrs): [number, number, number, number] {
  const nums = text.split(',').map((s) => Number(s.trim()));
  if (nums.length !== 4 || nums.some((n) => !Number.isFinite(n)))
    throw new InvalidParameterValue('bbox', `expected 4 comma-separated numbers, got '${text}'`);
  if (crs === 'EPSG:3857') {
    const [x0, y0, x1, y1] = nums as [number, number, number, number];
    const lim = MERCATOR_HALF_WORLD * 1.001;
    if (!(x0 < x1 && y0 < y1)) throw new InvalidParameterValue('bbox', `minimum not below maximum in '${text}'`);
    if ([x0, y0, x1, y1].some((v) => Math.abs(v) > lim))
      throw new InvalidParameterValue(
        'bbox',
        `'${text}' lies outside EPSG:3857 (±${MERCATOR_HALF_WORLD.toFixed(2)} m)`,
      );
    return [x0, y0, x1, y1];
  }
  const [a, b, c, d] = nums as [number, number, number, number];
  const box = parseBBox(crs === 'EPSG:4326' ? `${b},${a},${d},${c}` : `${a},${b},${c},${d}`);
  return [box.west, box.south, box.east, box.north];
}

function toMercator(box: [number, number, number, number]): [number, number, number, number] {
  const east = box[2] < box[0] ? box[2] + 360 : box[2];
  const [x0, y0] = mercator.forward(box[0], Math.max(box[1], -85.0511));
  const [x1, y1] = mercator.forward(east, Math.min(box[3], 85.0511));
  return [x0, y0, x1, y1];
}

function toLonLat(box: [number, number, number, number]): [number, number, number, number] {
  const [w, s] = mercator.inverse(box[0], box[1]);
  const [e, n] = mercator.inverse(box[2], box[3]);
  return [box[0] <= -MERCATOR_HALF_WORLD ? -180 : w, s, box[2] >= MERCATOR_HALF_WORLD ? 180 : e, n];
}

function positiveInt(text: string | undefined, parameter: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || n < 1)
    throw new InvalidParameterValue(parameter, `expected a whole number of pixels ≥ 1, got '${text}'`);
  return n;
}

function styleRequest(query: Query): StyleRequest {
  const out: StyleRequest = {};
  const style = one(query, 'style');
  if (style !== undefined) out.name = style;
  const range = parseRange(one(query, 'range'), 'range');
  if (range) out.range = range;
  const bands = one(query, 'bands');
  if (bands !== undefined) out.bands = Number(bands);
  const above = parseOutOfRange(one(query, 'abovemaxcolor'), 'abovemaxcolor');
  if (above) out.above = above;
  const below = parseOutOfRange(one(query, 'belowmincolor'), 'belowmincolor');
  if (below) out.below = below;
  const interpolation = parseInterpolation(one(query, 'interpolation'), 'interpolation');
  if (interpolation) out.interpolation = interpolation;
  return out;
}

/** datetime, and subset's time, level and Lat/Lon terms (the latter narrow the box). */
function stepOf(
  query: Query,
  layer: Layer,
): { step: Omit<ViewSelection, 'field'>; lonLat?: Partial<Record<'west' | 'south' | 'east' | 'north', number>> } {
  const step: Omit<ViewSelection, 'field'> = {};
  const datetime = one(query, 'datetime');
  if (datetime !== undefined) {
    const i = parseDatetime(datetime);
    // A date alone (a whole day) means its first instant: the step nearest to it.
    if (i.start !== i.end && !/^\d{4}-\d{2}-\d{2}$/.test(datetime.trim()))
      throw new InvalidParameterValue('datetime', 'a map shows one time step: give an instant (or a date)');
    step.datetime = { start: i.start, end: i.start };
  }
  const subsetText = query['subset'];
  if (subsetText === undefined) return { step };
  const lonLat: Partial<Record<'west' | 'south' | 'east' | 'north', number>> = {};
  for (const s of parseSubset((Array.isArray(subsetText) ? subsetText : [subsetText]).map(String))) {
    const name = s.axis.toLowerCase();
    const axis = layer.model.axes.find((a) => a.names.some((n) => n.toLowerCase() === name));
    const num = (b: typeof s.low) => (b.kind === 'number' ? b.value : undefined);
    if (
      ['lon', 'long', 'longitude', 'x', 'e'].includes(name) ||
      (axis?.role === 'x' && layer.model.crs.kind === 'geographic')
    ) {
      if (s.kind !== 'trim') throw new InvalidParameterValue('subset', `'${s.text}': give a longitude range lo:hi`);
      lonLat.west = num(s.low) ?? -180;
      lonLat.east = num(s.high) ?? 180;
    } else if (
      ['lat', 'latitude', 'y', 'n'].includes(name) ||
      (axis?.role === 'y' && layer.model.crs.kind === 'geographic')
    ) {
      if (s.kind !== 'trim') throw new InvalidParameterValue('subset', `'${s.text}': give a latitude range lo:hi`);
      lonLat.south = num(s.low) ?? -90;
      lonLat.north = num(s.high) ?? 90;
    } else if (axis?.role === 't' || name === 'time') {
      if (s.kind !== 'slice' || s.low.kind !== 'text')
        throw new InvalidParameterValue(
          'subset',
          `'${s.text}': a map shows one time step: time("2000-01-01T00:00:00Z")`,
        );
      const t = parseDatetime(s.low.value, 'subset');
      step.datetime = { start: t.start, end: t.start };
    } else if (axis?.role === 'z') {
      if (s.kind !== 'slice' || s.low.kind !== 'number')
        throw new InvalidParameterValue('subset', `'${s.text}': a map shows one level: ${axis.label}(value)`);
      step.elevation = s.low.value;
    } else {
      throw new InvalidParameterValue(
        'subset',
        `unknown axis '${s.axis}' in '${s.text}'; axes: Lon, Lat, ${layer.model.axes
          .filter((a) => a.role === 't' || a.role === 'z')
          .map((a) => a.label)
          .join(', ')}`,
      );
    }
  }
  return { step, lonLat };
}

function etagOf(image: RenderedImage): string {
  return `"${createHash('sha1').update(image.key).digest('base64url').slice(0, 20)}"`;
}

function sendPng(
  request: FastifyRequest,
  reply: FastifyReply,
  image: RenderedImage,
  headers: Record<string, string>,
): FastifyReply {
  const etag = etagOf(image);
  reply
    .header('etag', etag)
    .header('cache-control', 'public, max-age=300')
    .header('x-odas-cache', image.cached ? 'hit' : 'miss');
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  return reply.type(image.type).send(image.body);
}

/** f: png (default), jpeg or webp, by name or media type. */
function formatOf(query: Query): ImageFormat {
  const f = one(query, 'f');
  if (f === undefined) return 'png';
  const format = imageFormatOf(f);
  if (!format)
    throw new InvalidParameterValue('f', `format '${f}' is not offered; maps and tiles are png, jpeg or webp`);
  return format;
}

async function layerFrom(ctx: ApiContext, request: FastifyRequest, query: Query): Promise<Layer> {
  const { collectionId } = request.params as { collectionId: string };
  const props = one(query, 'properties');
  if (props !== undefined && props.includes(','))
    throw new InvalidParameterValue('properties', 'a map shows one field');
  return layerOf(ctx, collectionId, props, NAMES, request.log, true);
}

async function map(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const query = request.query as Query;
  checkParameters(query, MAP_PARAMETERS);
  const format = formatOf(query);
  const layer = await layerFrom(ctx, request, query);
  const crs = mapCrs(one(query, 'crs'), 'crs');
  const bboxCrs = mapCrs(one(query, 'bbox-crs'), 'bbox-crs');
  const { step, lonLat } = stepOf(query, layer);
  const bboxText = one(query, 'bbox');
  let box: [number, number, number, number];
  if (bboxText !== undefined) {
    const parsed = parseMapBox(bboxText, bboxCrs);
    box =
      bboxCrs === 'EPSG:3857'
        ? crs === 'EPSG:3857'
          ? parsed
          : toLonLat(parsed)
        : crs === 'EPSG:3857'
          ? toMercator(parsed)
          : parsed;
  } else {
    const ll = layer.c.bbox ?? [-180, -90, 180, 90];
    const withSubset: [number, number, number, number] = [
      lonLat?.west ?? ll[0],
      lonLat?.south ?? ll[1],
      lonLat?.east ?? ll[2],
      lonLat?.north ?? ll[3],
    ];
    if (withSubset[1] < -90 || withSubset[3] > 90 || withSubset[1] >= withSubset[3])
      throw new InvalidParameterValue(
        'subset',
        `latitudes ${withSubset[1]}..${withSubset[3]} are not a range inside -90..90`,
      );
    box = crs === 'EPSG:3857' ? toMercator(withSubset) : withSubset;
  }
  if (box[2] < box[0] && crs !== 'EPSG:3857') box = [box[0], box[1], box[2] + 360, box[3]];
  const aspect = (box[2] - box[0]) / (box[3] - box[1]);
  let width = positiveInt(one(query, 'width'), 'width');
  let height = positiveInt(one(query, 'height'), 'height');
  if (width === undefined && height === undefined) width = 1024;
  width ??= Math.max(1, Math.round(height! * aspect));
  height ??= Math.max(1, Math.round(width / aspect));
  checkSize(width, height, { width: 'width', height: 'height' });
  const style = await resolveStyle(layer, styleRequest(query), NAMES);
  if ((one(query, 'transparent') ?? 'true').toLowerCase() === 'false') {
    const bg = one(query, 'bgcolor') ?? '0xFFFFFF';
    const m = /^(?:0x|#)?([0-9a-f]{6})$/i.exec(bg.trim());
    if (!m) throw new InvalidParameterValue('bgcolor', `expected 0xRRGGBB, got '${bg}'`);
    const n = parseInt(m[1]!, 16);
    style.background = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const view: MapView = { crs: crs === 'EPSG:3857' ? 'EPSG:3857' : 'CRS84', bbox: box, width, height };
  const image = await renderMap(layer, view, step, style, abortOnClose(reply), format);
  const shown = crs === 'EPSG:4326' ? [box[1], box[0], box[3], box[2]] : box;
  return sendPng(request, reply, image, {
    'content-crs': `<${crsUri(crs)}>`,
    'content-bbox': shown.map((v) => Math.round(v * 1e6) / 1e6).join(','),
  });
}

async function tile(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const query = request.query as Query;
  checkParameters(query, TILE_PARAMETERS);
  const format = formatOf(query);
  const { tileMatrixSetId, tileMatrix, tileRow, tileCol } = request.params as Record<string, string>;
  const tms = tileMatrixSet(tileMatrixSetId!);
  const view = tileView(tms, tileMatrix!, tileRow!, tileCol!);
  const layer = await layerFrom(ctx, request, query);
  const { step } = stepOf(query, layer);
  const style = await resolveStyle(layer, styleRequest(query), NAMES);
  const image = await renderMap(layer, view, step, style, abortOnClose(reply), format);
  return sendPng(request, reply, image, { 'content-crs': `<${tms.crs}>` });
}

function tilesetDoc(base: string, c: Collection, tmsId: string): object {
  const tms = tileMatrixSet(tmsId);
  const href = `${base}/collections/${encodeURIComponent(c.id)}/map/tiles/${tms.id}`;
  const [w, s, e, n] = c.bbox ?? [-180, -90, 180, 90];
  return {
    title: `${c.title} — map tiles (${tms.id})`,
    dataType: 'map',
    crs: tms.crs,
    tileMatrixSetURI: tms.uri,
    boundingBox: { lowerLeft: [w, s], upperRight: [e, n], crs: CRS84 },
    links: [
      { rel: 'self', type: 'application/json', href },
      { rel: REL_TILING_SCHEME, type: 'application/json', href: `${base}/tileMatrixSets/${tms.id}`, title: tms.title },
      {
        rel: 'item',
        type: 'image/png',
        templated: true,
        href: `${href}/{tileMatrix}/{tileRow}/{tileCol}`,
        title: 'A map tile (PNG); datetime=, style=, properties= may follow',
      },
    ],
  };
}

/** Thumbnail width in pixels; the height follows the collection's box (40 to 240). */
const THUMB_WIDTH = 240;

/**
 * A collection's thumbnail for the landing page: a grid's default field at its last step drawn by
 * the map renderer (PNG), or a feature collection's points and tracks (SVG).
 */
async function thumbnail(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { collectionId } = request.params as { collectionId: string };
  const c = getCollection(ctx, collectionId);
  const [w, s, e, n] = c.bbox ?? [-180, -90, 180, 90];
  const east = e < w ? e + 360 : e;
  const height = Math.max(40, Math.min(THUMB_WIDTH, Math.round((THUMB_WIDTH * (n - s)) / Math.max(east - w, 1e-9))));
  if (c.kind === 'grid') {
    const layer = await layerOf(ctx, c.id, undefined, NAMES, request.log, true);
    const style = await resolveStyle(layer, {}, NAMES);
    const view: MapView = { crs: 'CRS84', bbox: [w, s, east, n], width: THUMB_WIDTH, height };
    return sendPng(request, reply, await renderMap(layer, view, {}, style, abortOnClose(reply)), {});
  }
  const shapes = c.features ? shapesOf(await c.features.sample(500), () => '') : [];
  return reply
    .type('image/svg+xml')
    .header('cache-control', 'public, max-age=300')
    .send(thumbnailSvg([w, s, east, n], shapes, THUMB_WIDTH));
}

function gridCollectionOf(ctx: ApiContext, request: FastifyRequest): Collection {
  const { collectionId } = request.params as { collectionId: string };
  const c = ctx.collections.get(collectionId);
  if (!c || c.kind !== 'grid')
    throw new InvalidParameterValue('collectionId', `no grid collection '${collectionId}' (maps and tiles draw grids)`);
  return c;
}

const json = (description: string) => ({
  200: { description, type: 'object', additionalProperties: true },
  400: { description: 'Invalid parameter (OGC exception JSON)', $ref: 'exception#' },
  404: { description: 'Not found (OGC exception JSON)', $ref: 'exception#' },
});
const png = (description: string) => ({
  200: {
    description,
    content: Object.fromEntries(
      ['image/png', 'image/jpeg', 'image/webp'].map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
    ),
  },
  400: { description: 'Invalid parameter (OGC exception JSON)', $ref: 'exception#' },
  404: { description: 'Unknown collection (OGC exception JSON)', $ref: 'exception#' },
});
const strings = (names: string[], docs: Record<string, string>) => ({
  type: 'object',
  additionalProperties: true,
  properties: Object.fromEntries(
    names.map((n) => [n, { type: 'string', ...(docs[n] ? { description: docs[n] } : {}) }]),
  ),
});
const DOCS: Record<string, string> = {
  bbox: 'minx,miny,maxx,maxy in bbox-crs (CRS84 by default; EPSG:4326 latitude first)',
  'bbox-crs': 'CRS84, EPSG:4326 or EPSG:3857 (URIs or EPSG:n)',
  crs: 'Output CRS: CRS84 (default), EPSG:4326 or EPSG:3857',
  width: "Pixels across (default 1024, or from height and the box's aspect)",
  height: "Pixels down (default from width and the box's aspect)",
  datetime: 'An instant: the nearest time step (default: the last)',
  subset: 'Lon(a:b), Lat(a:b), time("…") and a level of the vertical axis, e.g. depth(10)',
  style: "viridis, thermal, haline, diverging or greys (default: by the field's name)",
  properties: 'The field to draw (default: the first)',
  range: "min,max of the colour scale (default: valid_min/valid_max, else the data's extremes)",
  bands: 'Colour bands, 1..254',
  transparent: 'false: paint missing values with bgcolor',
  bgcolor: '0xRRGGBB (default white)',
  f: 'png (default), jpeg or webp (also as media types)',
  interpolation: 'nearest (default) or bilinear between the four cells around a pixel',
  abovemaxcolor: 'Values above the range: extend (the top colour, default), transparent or 0xRRGGBB',
  belowmincolor: 'Values below the range: extend (the bottom colour, default), transparent or 0xRRGGBB',
};

async function mapsRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  await assetRoutes(app);
  const params = { type: 'object', required: ['collectionId'], properties: { collectionId: { type: 'string' } } };
  app.get(
    '/collections/:collectionId/map',
    {
      schema: {
        summary: 'A map of a grid collection (PNG)',
        tags: ['Maps'],
        params,
        querystring: strings(MAP_PARAMETERS, DOCS),
        response: png('The map'),
      },
    },
    (request, reply) => map(ctx, request, reply),
  );
  app.get(
    '/collections/:collectionId/map/tiles',
    {
      schema: { summary: 'Map tilesets of a grid collection', tags: ['Tiles'], params, response: json('Tilesets') },
    },
    (request, reply) => {
      const c = gridCollectionOf(ctx, request);
      const base = baseUrl(ctx, request);
      const tilesets = Object.keys(TILE_MATRIX_SETS).map((id) => {
        const doc = tilesetDoc(base, c, id) as { links: object[] };
        return { ...doc, links: doc.links.slice(0, 2) };
      });
      return sendText(
        reply,
        'json',
        JSON.stringify({
          tilesets,
          links: [
            {
              rel: 'self',
              type: 'application/json',
              href: `${base}/collections/${encodeURIComponent(c.id)}/map/tiles`,
            },
          ],
        }),
      );
    },
  );
  app.get(
    '/collections/:collectionId/map/tiles/:tileMatrixSetId',
    {
      schema: {
        summary: 'Tileset metadata',
        tags: ['Tiles'],
        params: { ...params, properties: { ...params.properties, tileMatrixSetId: { type: 'string' } } },
        response: json('Tileset'),
      },
    },
    (request, reply) => {
      const c = gridCollectionOf(ctx, request);
      const { tileMatrixSetId } = request.params as { tileMatrixSetId: string };
      return sendText(reply, 'json', JSON.stringify(tilesetDoc(baseUrl(ctx, request), c, tileMatrixSetId)));
    },
  );
  app.get(
    '/collections/:collectionId/map/tiles/:tileMatrixSetId/:tileMatrix/:tileRow/:tileCol',
    {
      schema: {
        summary: 'A map tile (PNG)',
        tags: ['Tiles'],
        params: {
          type: 'object',
          properties: Object.fromEntries(
            ['collectionId', 'tileMatrixSetId', 'tileMatrix', 'tileRow', 'tileCol'].map((p) => [p, { type: 'string' }]),
          ),
        },
        querystring: strings(TILE_PARAMETERS, DOCS),
        response: png('The tile'),
      },
    },
    (request, reply) => tile(ctx, request, reply),
  );
  app.get(
    '/collections/:collectionId/thumbnail',
    {
      schema: {
        summary: "A collection's thumbnail: a grid's map (PNG) or a feature collection's points and tracks (SVG)",
        tags: ['Maps'],
        params,
        response: {
          200: {
            description: 'The thumbnail',
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/svg+xml': { schema: { type: 'string' } },
            },
          },
          404: { description: 'Unknown collection (OGC exception JSON)', $ref: 'exception#' },
        },
      },
    },
    (request, reply) => thumbnail(ctx, request, reply),
  );
  app.get(
    '/tileMatrixSets',
    {
      schema: { summary: 'Tile matrix sets offered', tags: ['Tiles'], response: json('Tile matrix sets') },
    },
    (request, reply) => {
      const base = baseUrl(ctx, request);
      const list = Object.values(TILE_MATRIX_SETS).map((t) => ({
        id: t.id,
        title: t.title,
        uri: t.uri,
        crs: t.crs,
        links: [{ rel: 'self', type: 'application/json', href: `${base}/tileMatrixSets/${t.id}` }],
      }));
      return sendText(
        reply,
        'json',
        JSON.stringify({
          tileMatrixSets: list,
          links: [{ rel: 'self', type: 'application/json', href: `${base}/tileMatrixSets` }],
        }),
      );
    },
  );
  app.get(
    '/tileMatrixSets/:tileMatrixSetId',
    {
      schema: {
        summary: 'A tile matrix set definition (OGC TMS 2.0 JSON)',
        tags: ['Tiles'],
        params: { type: 'object', properties: { tileMatrixSetId: { type: 'string' } } },
        response: json('Tile matrix set'),
      },
    },
    (request, reply) => {
      const { tileMatrixSetId } = request.params as { tileMatrixSetId: string };
      return sendText(reply, 'json', JSON.stringify(tileMatrixSetDoc(tileMatrixSet(tileMatrixSetId))));
    },
  );
}

/** Map and tiles links on a grid collection's description. */
function describeMapCollection(c: Collection, doc: CollectionDoc, base: string): void {
  if (c.kind !== 'grid') return;
  const href = `${base}/collections/${encodeURIComponent(c.id)}`;
  doc.links.push(
    { href: `${href}/map?f=png`, rel: REL_MAP, type: 'image/png', title: 'A map of the collection (PNG)' },
    {
      href: `${href}/map/tiles`,
      rel: REL_TILESETS_MAP,
      type: 'application/json',
      title: 'Map tilesets (WebMercatorQuad, WorldCRS84Quad)',
    },
  );
}

export const mapsApi: ApiModule = {
  name: 'Maps',
  conformance: MAPS_CONFORMANCE,
  routes: (app, opts) => mapsRoutes(app, opts),
  describeCollection: describeMapCollection,
};
