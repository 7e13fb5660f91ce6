/**
 * WMS request parameters: names are case-insensitive (OGC 06-042 §6.8.1); CRS and BBOX come as
 * CRS:84 (longitude first), EPSG:4326 (latitude first in 1.3.0, longitude first in 1.1.1's SRS)
 * or EPSG:3857 (metres), and become a map view; TIME and ELEVATION become a step.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import { parseDatetime } from '../../core/query/datetime.js';
import { MERCATOR_HALF_WORLD, type MapView } from '../../core/grid/view.js';
import type { ViewSelection } from '../../core/grid/view.js';
import { checkSize, parseInterpolation, parseOutOfRange, parseRange, type StyleRequest } from '../maps/render.js';
import { WmsException } from './exceptions.js';

export type WmsQuery = Map<string, string>;

/** The query with upper-cased names; a repeated name keeps its last value. */
export function wmsQuery(query: Record<string, unknown>): WmsQuery {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(query)) out.set(k.toUpperCase(), String(Array.isArray(v) ? v[v.length - 1] : v));
  return out;
}

export function required(q: WmsQuery, name: string): string {
  const v = q.get(name);
  if (v === undefined || v.trim() === '')
    throw new WmsException('MissingParameterValue', `parameter ${name} is required`);
  return v.trim();
}

export const WMS_CRS = ['CRS:84', 'EPSG:4326', 'EPSG:3857'] as const;

/** The view of CRS (SRS), BBOX, WIDTH and HEIGHT. */
export function parseView(q: WmsQuery): MapView {
  const version = q.get('VERSION') ?? '1.3.0';
  const crsText = (q.get('CRS') ?? q.get('SRS') ?? '').trim().toUpperCase();
  if (crsText === '') throw new WmsException('MissingParameterValue', 'parameter CRS is required');
  const width = Number(required(q, 'WIDTH'));
  const height = Number(required(q, 'HEIGHT'));
  checkSize(width, height, { width: 'WIDTH', height: 'HEIGHT' });
  const parts = required(q, 'BBOX')
    .split(',')
    .map((s) => Number(s.trim()));
  if (parts.length !== 4 || parts.some((v) => !Number.isFinite(v)))
    throw new InvalidParameterValue('BBOX', `expected minx,miny,maxx,maxy, got '${q.get('BBOX')}'`);
  let [a, b, c, d] = parts as [number, number, number, number];
  let crs: MapView['crs'];
  if (crsText === 'CRS:84' || crsText === 'OGC:CRS84' || crsText === 'EPSG:4326') {
    // 1.3.0: EPSG:4326 is latitude first; 1.1.1's SRS=EPSG:4326 is longitude first.
    if (crsText === 'EPSG:4326' && version !== '1.1.1' && version !== '1.1.0') [a, b, c, d] = [b, a, d, c];
    crs = 'CRS84';
    if (b < -90 || d > 90 || a < -360 || c > 360)
      throw new InvalidParameterValue(
        'BBOX',
        `${q.get('BBOX')} lies outside ${crsText} (longitudes -180..360, latitudes -90..90, in the CRS's axis order)`,
      );
  } else if (crsText === 'EPSG:3857' || crsText === 'EPSG:900913' || crsText === 'EPSG:102100') {
    crs = 'EPSG:3857';
    const lim = MERCATOR_HALF_WORLD * 1.001;
    if (Math.abs(a) > lim || Math.abs(c) > lim || Math.abs(b) > lim || Math.abs(d) > lim)
      throw new InvalidParameterValue(
        'BBOX',
        `${q.get('BBOX')} lies outside EPSG:3857 (±${MERCATOR_HALF_WORLD.toFixed(2)} m)`,
      );
  } else {
    throw new WmsException('InvalidCRS', `CRS '${crsText}' is not offered; use one of ${WMS_CRS.join(', ')}`);
  }
  if (!(a < c && b < d)) throw new InvalidParameterValue('BBOX', `minimum not below maximum in '${q.get('BBOX')}'`);
  return { crs, bbox: [a, b, c, d], width, height };
}

/** TIME (an instant, or the end of a range; "current" = the default) and ELEVATION. */
export function parseStep(q: WmsQuery): Omit<ViewSelection, 'field'> {
  const out: Omit<ViewSelection, 'field'> = {};
  const time = q.get('TIME')?.trim();
  if (time && time.toLowerCase() !== 'current') {
    const interval = parseDatetime(time.split(',')[0]!, 'time');
    const end = Number.isFinite(interval.end) ? interval.end : interval.start;
    out.datetime = { start: end, end };
  }
  const elevation = q.get('ELEVATION')?.trim();
  if (elevation) {
    const v = Number(elevation.split(',')[0]);
    if (!Number.isFinite(v)) throw new InvalidParameterValue('elevation', `expected a number, got '${elevation}'`);
    out.elevation = v;
  }
  return out;
}

/** STYLES/STYLE, COLORSCALERANGE, NUMCOLORBANDS, LOGSCALE, ABOVEMAXCOLOR, BELOWMINCOLOR (ncWMS), INTERPOLATION, TRANSPARENT and BGCOLOR. */
export function parseStyle(
  q: WmsQuery,
  styleParameter: 'STYLES' | 'STYLE',
): StyleRequest & { background?: [number, number, number] } {
  const out: StyleRequest & { background?: [number, number, number] } = {};
  const name = q.get(styleParameter)?.split(',')[0]?.trim();
  if (name) out.name = name;
  const range = parseRange(q.get('COLORSCALERANGE'), 'COLORSCALERANGE');
  if (range) out.range = range;
  const bands = q.get('NUMCOLORBANDS');
  if (bands !== undefined && bands !== '') out.bands = Number(bands);
  const log = q.get('LOGSCALE');
  if (log !== undefined && log !== '') {
    if (!/^(true|false)$/i.test(log))
      throw new InvalidParameterValue('LOGSCALE', `expected true or false, got '${log}'`);
    out.log = log.toLowerCase() === 'true';
  }
  const above = parseOutOfRange(q.get('ABOVEMAXCOLOR'), 'ABOVEMAXCOLOR');
  if (above) out.above = above;
  const below = parseOutOfRange(q.get('BELOWMINCOLOR'), 'BELOWMINCOLOR');
  if (below) out.below = below;
  const interpolation = parseInterpolation(q.get('INTERPOLATION'), 'INTERPOLATION');
  if (interpolation) out.interpolation = interpolation;
  if ((q.get('TRANSPARENT') ?? 'TRUE').toUpperCase() === 'FALSE') {
    const bg = q.get('BGCOLOR') ?? '0xFFFFFF';
    const m = /^(?:0x|#)?([0-9a-f]{6})$/i.exec(bg.trim());
    if (!m) throw new InvalidParameterValue('BGCOLOR', `expected 0xRRGGBB, got '${bg}'`);
    const n = parseInt(m[1]!, 16);
    out.background = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  return out;
}

/** A layer name: COLLECTION/FIELD (the collection alone means its first field). */
export function splitLayerName(name: string): { collection: string; field: string | undefined } {
  const i = name.lastIndexOf('/');
  return i < 0 ? { collection: name, field: undefined } : { collection: name.slice(0, i), field: name.slice(i + 1) };
}
