/**
 * Drawing a grid field, shared by WMS, OGC API - Maps and Tiles: a layer (collection + field), a
 * view, a step (time, level) and a style → a PNG (or JPEG, WebP), through the one grid pipeline (planView on the
 * planner, readField through the reader registry, CF decoding) and the render encoders. Value
 * ranges default to the field's valid range, else to the extremes of a coarse read of the field
 * at its default step (kept per field, so every tile of a layer shares its colours).
 */
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { physicalValidRange } from '../../cf/decode.js';
import { attrString } from '../../cf/read.js';
import { ClientClosedRequest, InvalidParameterValue, NotFound } from '../../core/errors.js';
import { planGrid, type GridPlan } from '../../core/grid/plan.js';
import type { GridField, GridModel } from '../../core/grid/types.js';
import {
  indexView,
  interpolateView,
  overviewRequest,
  planView,
  type MapView,
  type ViewSelection,
} from '../../core/grid/view.js';
import { decodedField } from '../../encoders/grid/payload.js';
import { COLOUR_MAPS, COLOUR_MAP_NAMES, defaultColourMap } from '../../encoders/render/colormaps.js';
import { legendPng } from '../../encoders/render/legend.js';
import { imageInPool } from '../../encoders/offload/offload.js';
import type { IndexedImage } from '../../encoders/render/png.js';
import {
  colourPixels,
  emptyImage,
  MAX_BANDS,
  type OutOfRange,
  type RenderStyle,
} from '../../encoders/render/raster.js';
import type { ApiContext } from '../context.js';
import { gridPayload } from '../grid-answer.js';
import { imageCache } from './cache.js';

/** Largest image side and pixel count drawn (a 400 beyond). */
export const MAX_SIDE = 4096;
const MAX_PIXELS = 4096 * 4096;

export interface Layer {
  c: Collection;
  model: GridModel;
  field: GridField;
}

/** What a request may say about the style; everything is optional. */
export interface StyleRequest {
  /** A colour map name (viridis, thermal, haline, diverging, greys), also as ncWMS `default-scalar/NAME`. */
  name?: string;
  range?: [number, number];
  bands?: number;
  log?: boolean;
  /** ncWMS ABOVEMAXCOLOR / BELOWMINCOLOR: extend (default), transparent or 0xRRGGBB. */
  above?: OutOfRange;
  below?: OutOfRange;
  interpolation?: 'nearest' | 'bilinear';
}

/** Image formats of maps and tiles, by the names requests give them. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';
const IMAGE_TYPES: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** png, jpeg (jpg) or webp, bare or as a media type; undefined for anything else. */
export function imageFormatOf(text: string): ImageFormat | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/^image\//, '')
    .split(';')[0]!;
  return t === 'png' ? 'png' : t === 'jpeg' || t === 'jpg' ? 'jpeg' : t === 'webp' ? 'webp' : undefined;
}

/** An ABOVEMAXCOLOR / BELOWMINCOLOR value: extend, transparent or 0xRRGGBB (also #RRGGBB). */
export function parseOutOfRange(text: string | undefined, parameter: string): OutOfRange | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim().toLowerCase();
  if (t === 'extend' || t === 'transparent') return t;
  const m = /^(?:0x|#)?([0-9a-f]{6})$/i.exec(t);
  if (!m) throw new InvalidParameterValue(parameter, `expected extend, transparent or 0xRRGGBB, got '${text}'`);
  const n = parseInt(m[1]!, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** nearest (default) or bilinear. */
export function parseInterpolation(text: string | undefined, parameter: string): 'nearest' | 'bilinear' | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const t = text.trim().toLowerCase();
  if (t === 'nearest' || t === 'bilinear') return t;
  throw new InvalidParameterValue(parameter, `expected nearest or bilinear, got '${text}'`);
}

/** The names of the parameters a protocol uses, for its error messages. */
export interface ParameterNames {
  layer: string;
  style: string;
  range: string;
  bands: string;
}

const modelIds = new WeakMap<GridModel, number>();
let nextModelId = 1;
/** A number naming a grid model for as long as it is served (cache keys). */
function modelId(model: GridModel): number {
  let id = modelIds.get(model);
  if (id === undefined) modelIds.set(model, (id = nextModelId++));
  return id;
}

/** Fields a map can be drawn of: numeric, over x and y. */
export function drawableFields(model: GridModel): GridField[] {
  const hasXY = model.axes.some((a) => a.role === 'x') && model.axes.some((a) => a.role === 'y');
  return hasXY ? model.fields.filter((f) => f.dtype !== 'char' && f.dtype !== 'string') : [];
}

/** The collection and field of a layer; unknown ones are a 400 (WMS LayerNotDefined) or 404 naming what exists. */
export async function layerOf(
  ctx: ApiContext,
  collectionId: string,
  fieldName: string | undefined,
  names: ParameterNames,
  log?: FastifyBaseLogger,
  notFound = false,
): Promise<Layer> {
  const c = ctx.collections.get(collectionId);
  if (!c || c.kind !== 'grid') {
    const grids = [...ctx.collections.values()].filter((x) => x.kind === 'grid').map((x) => x.id);
    const text = `no grid collection '${collectionId}'; grids: ${grids.slice(0, 20).join(', ')}`;
    throw notFound ? new NotFound(text) : new InvalidParameterValue(names.layer, text);
  }
  const model = await collectionGrid(c, log);
  const fields = drawableFields(model);
  const field = fieldName === undefined ? fields[0] : fields.find((f) => f.name === fieldName);
  if (!field)
    throw new InvalidParameterValue(
      names.layer,
      `collection '${c.id}' has no field '${fieldName ?? ''}' to draw; fields: ${fields.map((f) => f.name).join(', ')}`,
    );
  return { c, model, field };
}

export function styleNames(): string[] {
  return COLOUR_MAP_NAMES;
}

export function defaultStyle(field: GridField): string {
  return defaultColourMap(field.name, field.attrs);
}

/** A style name as requests give it: NAME, default-scalar/NAME, raster/NAME; empty = the field's default. */
function resolveStyleName(text: string | undefined, field: GridField, parameter: string): string {
  const name = (text ?? '')
    .trim()
    .replace(/^(default-scalar|raster|default)\//i, '')
    .toLowerCase();
  if (name === '' || name === 'default' || name === 'default-scalar') return defaultStyle(field);
  if (!COLOUR_MAPS.has(name))
    throw new InvalidParameterValue(
      parameter,
      `unknown style '${text}'; styles: ${COLOUR_MAP_NAMES.join(', ')} (also as default-scalar/NAME)`,
    );
  return name;
}

/**
 * Decoded values of a plan, float32 for images (half the memory of a 4096² map's cells), float64
 * where a value is reported (GetFeatureInfo).
 */
async function readValues(
  layer: Layer,
  plan: GridPlan,
  signal?: AbortSignal,
  exact = false,
): Promise<Float32Array | Float64Array> {
  const payload = gridPayload(layer.c, plan, {
    request: `map ${layer.c.id}/${layer.field.name}`,
    ...(signal ? { signal } : {}),
  });
  const values = exact ? new Float64Array(plan.cells) : new Float32Array(plan.cells);
  let k = 0;
  for await (const block of decodedField(payload, layer.field)) {
    values.set(block, k);
    k += block.length;
  }
  return values;
}

const autoRanges = new WeakMap<GridModel, Map<string, Promise<[number, number]>>>();

/** Extremes of the field at its default step on a coarse (≤ 720 × 360) read; [0, 1] for an empty field. */
function autoRange(layer: Layer): Promise<[number, number]> {
  let byField = autoRanges.get(layer.model);
  if (!byField) autoRanges.set(layer.model, (byField = new Map()));
  let p = byField.get(layer.field.name);
  if (!p) {
    p = (async () => {
      const view: MapView = { crs: 'CRS84', bbox: [-180, -90, 180, 90], width: 720, height: 360 };
      const vp = planView(layer.model, view, { field: layer.field.name });
      // A projected grid may not be global: its own box, decimated.
      const plan = vp.plan;
      if (!plan) return [0, 1] as [number, number];
      // The overview of the default step when it fits the memory bound: the tiles of that step
      // (the step a map shows first) are then drawn from the same decode.
      const overview = stepOverview(layer, plan);
      const values = overview ? (await overview).values : await readValues(layer, plan);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!(lo <= hi)) return [0, 1] as [number, number];
      return (lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi]) as [number, number];
    })();
    p.catch(() => byField.delete(layer.field.name));
    byField.set(layer.field.name, p);
  }
  return p;
}

/** The style of a request on a layer: colour map, range (request, valid range, data), bands, scale. */
export async function resolveStyle(layer: Layer, req: StyleRequest, names: ParameterNames): Promise<RenderStyle> {
  const colourMap = COLOUR_MAPS.get(resolveStyleName(req.name, layer.field, names.style))!;
  const bands = req.bands ?? MAX_BANDS;
  if (!Number.isInteger(bands) || bands < 1 || bands > MAX_BANDS)
    throw new InvalidParameterValue(
      names.bands,
      `expected a whole number of colour bands from 1 to ${MAX_BANDS}, got '${req.bands}'`,
    );
  const range =
    req.range ??
    physicalValidRange(layer.field.dtype, layer.field.attrs, layer.field.attrTypes) ??
    (await autoRange(layer));
  const log = req.log ?? false;
  if (log && !(range[0] > 0))
    throw new InvalidParameterValue(names.range, `a logarithmic scale needs a range above 0, got ${range.join(',')}`);
  // A palette has 256 entries: transparent, the bands, and a colour each for values above and below.
  const extra = (Array.isArray(req.above) ? 1 : 0) + (Array.isArray(req.below) ? 1 : 0);
  return {
    colourMap,
    range,
    bands: Math.min(bands, 255 - extra),
    log,
    ...(req.above ? { above: req.above } : {}),
    ...(req.below ? { below: req.below } : {}),
    ...(req.interpolation ? { interpolation: req.interpolation } : {}),
  };
}

/** Parses "min,max" (ncWMS COLORSCALERANGE; "auto" / "default" = the default range). */
export function parseRange(text: string | undefined, parameter: string): [number, number] | undefined {
  if (text === undefined || text === '' || /^(auto|default)$/i.test(text.trim())) return undefined;
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v)) || parts[0]! >= parts[1]!)
    throw new InvalidParameterValue(parameter, `expected min,max with min < max, got '${text}'`);
  return [parts[0]!, parts[1]!];
}

/** Checks the image size against the limits (400 beyond). */
export function checkSize(width: number, height: number, names: { width: string; height: string }): void {
  for (const [v, p] of [
    [width, names.width],
    [height, names.height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE)
      throw new InvalidParameterValue(p, `expected a whole number of pixels from 1 to ${MAX_SIDE}, got '${v}'`);
  }
  if (width * height > MAX_PIXELS)
    throw new InvalidParameterValue(names.width, `${width} × ${height} pixels is over the limit of ${MAX_PIXELS}`);
}

function styleKey(style: RenderStyle): string {
  const out = (o: OutOfRange | undefined) => (Array.isArray(o) ? o.join(',') : (o ?? ''));
  return `${style.colourMap.name}|${style.range.join(',')}|${style.bands}|${style.log ? 1 : 0}|${style.background?.join(',') ?? ''}|${out(style.above)}|${out(style.below)}|${style.interpolation ?? ''}`;
}

export interface RenderedImage {
  body: Buffer;
  /** Media type of the body. */
  type: string;
  /** Cache key (also the ETag's source). */
  key: string;
  cached: boolean;
}

/**
 * An image (PNG by default, JPEG or WebP) of a layer over a view at a step, from the cache when it
 * was drawn before. A client that goes away aborts `signal`: the reads in flight stop.
 */
export async function renderMap(
  layer: Layer,
  view: MapView,
  selection: Omit<ViewSelection, 'field'>,
  style: RenderStyle,
  signal?: AbortSignal,
  format: ImageFormat = 'png',
): Promise<RenderedImage> {
  const dt = selection.datetime ? `${selection.datetime.start}/${selection.datetime.end}` : '';
  const key = `map|${modelId(layer.model)}|${layer.c.id}|${layer.field.name}|${view.crs}|${view.bbox.join(',')}|${view.width}x${view.height}|${dt}|${selection.elevation ?? ''}|${styleKey(style)}|${format}`;
  const type = IMAGE_TYPES[format];
  const hit = imageCache.get(key);
  if (hit) return { body: hit, type, key, cached: true };
  const vp = planView(layer.model, view, { ...selection, field: layer.field.name });
  let image: IndexedImage;
  if (!vp.plan)
    image = style.background
      ? colourPixels(new Float32Array(0), vp.index, view.width, view.height, style)
      : emptyImage(view.width, view.height);
  else {
    const overview = overviewFor(layer, vp.plan, view);
    const read = overview ? await overview : { values: await readValues(layer, vp.plan, signal), plan: vp.plan };
    const index = overview ? indexView(layer.model, view, read.plan) : vp.index;
    if (style.interpolation === 'bilinear') {
      // Each pixel its own interpolated value: the index becomes the identity where a cell answers.
      const values = interpolateView(layer.model, view, read.plan, read.values, index);
      for (let p = 0; p < index.length; p++) if (index[p]! >= 0) index[p] = p;
      image = colourPixels(values, index, view.width, view.height, style);
    } else image = colourPixels(read.values, index, view.width, view.height, style);
  }
  const body = await imageInPool(image, format, {
    ...(signal ? { signal } : {}),
    ...(style.background ? { background: style.background } : {}),
  });
  imageCache.set(key, body);
  return { body, type, key, cached: false };
}

/** Views with at least this many source cells per pixel along x and y are drawn from an overview. */
const OVERVIEW_FACTOR = 4;
/** A view covering at least this share of the grid's cells builds the overview of its step; smaller ones use it once it exists. */
const OVERVIEW_SHARE = 0.2;

interface Overview {
  plan: GridPlan;
  values: Float32Array | Float64Array;
}

function overviewMegabytes(): number {
  const v = Number(process.env['ODAS_OVERVIEW_CACHE_MB']);
  return Number.isFinite(v) && v >= 0 ? v : 64;
}

/**
 * Overviews: a field at one step, the whole grid every 4th cell along x and y, read once through
 * the pipeline and kept (least recently used out, bounded by ODAS_OVERVIEW_CACHE_MB, default 64).
 * Low-zoom tiles and small-scale maps are drawn from them: a zoom-0 tile of a 0.05° grid must
 * otherwise inflate every chunk of the step, and so must each of the 4 tiles of zoom 1.
 */
const overviews = new Map<string, { promise: Promise<Overview>; bytes: number }>();
let overviewBytes = 0;

function overviewFor(layer: Layer, plan: GridPlan, view: MapView): Promise<Overview> | undefined {
  // Source cells per pixel on average (Web Mercator views plan more rows than pixels near the poles).
  const cellsAcross = (role: 'x' | 'y') => {
    const picks = plan.axes.find((a) => a.axis.role === role)!.picks;
    return Math.abs(picks[picks.length - 1]! - picks[0]!) + 1;
  };
  if (cellsAcross('x') / view.width < OVERVIEW_FACTOR || cellsAcross('y') / view.height < OVERVIEW_FACTOR)
    return undefined;
  const span = (role: 'x' | 'y') => {
    const a = plan.axes.find((x) => x.axis.role === role)!;
    return (Math.abs(a.picks[a.picks.length - 1]! - a.picks[0]!) + 1) / a.axis.values.length;
  };
  return stepOverview(layer, plan, span('x') * span('y') >= OVERVIEW_SHARE);
}

/**
 * The overview of the step `plan` picked: kept, or read now when `build` (and it fits the bound).
 */
function stepOverview(layer: Layer, plan: GridPlan, build = true): Promise<Overview> | undefined {
  const step = plan.axes
    .filter((a) => a.axis.role !== 'x' && a.axis.role !== 'y')
    .map((a) => `${a.axis.label}=${a.picks[0]}`)
    .join(',');
  const key = `${modelId(layer.model)}|${layer.c.id}|${layer.field.name}|${step}`;
  const hit = overviews.get(key);
  if (hit) {
    overviews.delete(key);
    overviews.set(key, hit);
    return hit.promise;
  }
  if (!build) return undefined;
  const overviewPlan = planGrid(layer.model, overviewRequest(plan, layer.field.name, OVERVIEW_FACTOR));
  const bytes = overviewPlan.cells * 4;
  const max = overviewMegabytes() * 1024 * 1024;
  if (bytes > max / 2) return undefined;
  const promise = readValues(layer, overviewPlan).then((values) => ({ plan: overviewPlan, values }));
  const entry = { promise, bytes };
  promise.catch(() => {
    if (overviews.get(key) === entry) {
      overviews.delete(key);
      overviewBytes -= bytes;
    }
  });
  overviews.set(key, entry);
  overviewBytes += bytes;
  while (overviewBytes > max) {
    const [k, v] = overviews.entries().next().value as [string, { bytes: number }];
    overviews.delete(k);
    overviewBytes -= v.bytes;
  }
  return promise;
}

export function renderLegend(layer: Layer, style: RenderStyle, width?: number, height?: number): RenderedImage {
  const key = `legend|${modelId(layer.model)}|${layer.c.id}|${layer.field.name}|${styleKey(style)}|${width ?? ''}x${height ?? ''}`;
  const hit = imageCache.get(key);
  if (hit) return { body: hit, type: 'image/png', key, cached: true };
  const png = legendPng(style, width, height);
  imageCache.set(key, png);
  return { body: png, type: 'image/png', key, cached: false };
}

export interface PointValue {
  value: number | null;
  /** Longitude/latitude asked for. */
  lon: number;
  lat: number;
  /** Coordinates of the cell answering (native x/y, time ISO, z) by axis label. */
  cell: Record<string, number | string>;
  units?: string;
}

/** The value of a layer at a longitude/latitude and step (the nearest cell; null off the grid or missing). */
export async function pointValue(
  layer: Layer,
  lon: number,
  lat: number,
  selection: Omit<ViewSelection, 'field'>,
  signal?: AbortSignal,
): Promise<PointValue> {
  const e = 1e-7;
  const vp = planView(
    layer.model,
    { crs: 'CRS84', bbox: [lon - e, lat - e, lon + e, lat + e], width: 1, height: 1 },
    { ...selection, field: layer.field.name },
  );
  const units = attrString(layer.field.attrs, 'units');
  const base: PointValue = { value: null, lon, lat, cell: {}, ...(units ? { units } : {}) };
  if (!vp.plan || vp.index[0]! < 0) return base;
  const values = await readValues(layer, vp.plan, signal, true);
  const v = values[vp.index[0]!]!;
  const cell: Record<string, number | string> = {};
  // Output index → per-axis position (every axis but x and y has one cell).
  let rest = vp.index[0]!;
  const shape = vp.plan.shape;
  const pos = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    pos[d] = rest % shape[d]!;
    rest = Math.floor(rest / shape[d]!);
  }
  vp.plan.axes.forEach((a, d) => {
    const value = a.values[pos[d]!]!;
    cell[a.axis.label] = a.axis.role === 't' ? new Date(value).toISOString() : value;
  });
  return { ...base, value: Number.isNaN(v) ? null : v, cell };
}

/**
 * A signal aborted when the client closes the connection before the answer is sent: the grid
 * reads of a map or tile nobody waits for any more (a map panned away, a cancelled tile) stop.
 */
export function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const gone = () => controller.abort(new ClientClosedRequest());
  // Gone already (closed while the request waited or was being parsed): 'close' will not come again.
  const socket = reply.raw.socket;
  if (!socket || socket.destroyed) gone();
  else
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone();
    });
  return controller.signal;
}
