/**
 * Coordinate reference systems of grids: which CRS a file declares (CF grid_mapping, GeoTIFF
 * EPSG code), its OGC URI, and the projection formulas when this server knows them. Also the
 * CRS names a request may give in crs / bbox-crs / subset-crs.
 */
import { attrNumber, attrString } from '../../cf/read.js';
import type { Attrs } from '../../readers/types.js';
import { InvalidParameterValue } from '../errors.js';
import {
  ellipsoid,
  HUGHES_1980,
  polarStereographic,
  transverseMercator,
  utm,
  webMercator,
  WGS84,
  type Ellipsoid,
} from './projection.js';
import type { GridCrs, Projection } from './types.js';

export const CRS84 = 'http://www.opengis.net/def/crs/OGC/1.3/CRS84';
export const EPSG_4326 = 'http://www.opengis.net/def/crs/EPSG/0/4326';
export const EPSG_3857 = 'http://www.opengis.net/def/crs/EPSG/0/3857';

function epsgUri(code: number): string {
  return `http://www.opengis.net/def/crs/EPSG/0/${code}`;
}

export function geographicCrs(): GridCrs {
  return { uri: CRS84, label: 'CRS84', kind: 'geographic' };
}

/** Geographic 2-D CRSs on (near-)WGS84 datums: served as CRS84, the difference being far below a cell. */
const GEOGRAPHIC_EPSG = new Set([4326, 4258, 4269, 4230, 4283, 4167, 4619, 4617]);

/** Polar stereographic EPSG codes ocean data use (NSIDC sea ice, Antarctic grids). */
const POLAR_STEREO_EPSG: Record<number, { e: Ellipsoid; lat0: number; latTs: number; lon0: number }> = {
  3411: { e: HUGHES_1980, lat0: 90, latTs: 70, lon0: -45 },
  3412: { e: HUGHES_1980, lat0: -90, latTs: -70, lon0: 0 },
  3413: { e: WGS84, lat0: 90, latTs: 70, lon0: -45 },
  3031: { e: WGS84, lat0: -90, latTs: -71, lon0: 0 },
  3976: { e: WGS84, lat0: -90, latTs: -70, lon0: 0 },
  3995: { e: WGS84, lat0: 90, latTs: 71, lon0: 0 },
};

/** The projection of an EPSG code this server can compute, if any. */
export function projectionForEpsg(code: number): Projection | undefined {
  const ps = POLAR_STEREO_EPSG[code];
  if (ps)
    return polarStereographic({
      ellipsoid: ps.e,
      latitudeOfOrigin: ps.lat0,
      standardParallel: ps.latTs,
      centralMeridian: ps.lon0,
    });
  if (code === 3857 || code === 900913) return webMercator();
  if (code >= 32601 && code <= 32660) return utm(code - 32600, false);
  if (code >= 32701 && code <= 32760) return utm(code - 32700, true);
  return undefined;
}

export function crsFromEpsg(code: number, wkt?: string): GridCrs {
  if (GEOGRAPHIC_EPSG.has(code)) return geographicCrs();
  const crs: GridCrs = { uri: epsgUri(code), label: `EPSG:${code}`, kind: 'projected' };
  const projection = projectionForEpsg(code);
  if (projection) crs.projection = projection;
  if (wkt) crs.wkt = wkt;
  return crs;
}

/**
 * An EPSG code named in text: "EPSG:3411", "urn:ogc:def:crs:EPSG::3411", an OGC URI, or the
 * outermost AUTHORITY / ID of a WKT (the last one in the text).
 */
export function epsgFromText(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  const simple =
    /^(?:\[?EPSG:{1,2}(\d+)\]?|urn:ogc:def:crs:EPSG:[\d.]*:(\d+)|https?:\/\/www\.opengis\.net\/def\/crs\/EPSG\/[\d.]+\/(\d+))$/i.exec(
      t,
    );
  if (simple) return Number(simple[1] ?? simple[2] ?? simple[3]);
  const ids = [...t.matchAll(/(?:AUTHORITY|ID)\[\s*"EPSG"\s*,\s*"?(\d+)"?\s*\]/gi)];
  const last = ids[ids.length - 1];
  return last ? Number(last[1]) : undefined;
}

/** Parameters of a PROJ.4 string ("+proj=stere +lat_0=90 …") as key → text. */
function proj4Params(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const m of text.matchAll(/\+([A-Za-z_0-9]+)(?:=(\S+))?/g)) params.set(m[1]!.toLowerCase(), m[2] ?? '');
  return params;
}

function proj4Ellipsoid(p: Map<string, string>): Ellipsoid {
  const num = (k: string) => (p.has(k) ? Number(p.get(k)) : undefined);
  const a = num('a') ?? num('r');
  if (a !== undefined) return ellipsoid(a, num('b') ?? (p.has('r') ? a : undefined), num('rf'));
  const name = (p.get('ellps') ?? p.get('datum') ?? 'WGS84').toUpperCase();
  if (name === 'GRS80' || name === 'WGS84' || name === 'NAD83')
    return name === 'GRS80' || name === 'NAD83' ? ellipsoid(6378137, undefined, 298.257222101) : WGS84;
  return WGS84;
}

/** The projection a PROJ.4 string describes, for the projections this server computes. */
function projectionFromProj4(text: string): Projection | undefined {
  const p = proj4Params(text);
  const num = (k: string, fallback: number) =>
    p.has(k) && Number.isFinite(Number(p.get(k))) ? Number(p.get(k)) : fallback;
  const e = proj4Ellipsoid(p);
  switch (p.get('proj')) {
    case 'stere': {
      const lat0 = num('lat_0', 90);
      if (Math.abs(Math.abs(lat0) - 90) > 1e-9) return undefined; // oblique stereographic: not a polar grid
      return polarStereographic({
        ellipsoid: e,
        latitudeOfOrigin: lat0,
        ...(p.has('lat_ts') ? { standardParallel: num('lat_ts', lat0) } : {}),
        scaleFactor: num('k_0', num('k', 1)),
        centralMeridian: num('lon_0', 0),
        falseEasting: num('x_0', 0),
        falseNorthing: num('y_0', 0),
      });
    }
    case 'utm':
      return p.has('zone') ? utm(num('zone', 0), p.has('south'), e) : undefined;
    case 'tmerc':
      return transverseMercator({
        ellipsoid: e,
        centralMeridian: num('lon_0', 0),
        latitudeOfOrigin: num('lat_0', 0),
        scaleFactor: num('k_0', num('k', 1)),
        falseEasting: num('x_0', 0),
        falseNorthing: num('y_0', 0),
      });
    case 'merc':
      return e.es === 0 && e.a === 6378137 && num('lat_ts', 0) === 0 && num('lon_0', 0) === 0
        ? webMercator()
        : undefined;
    default:
      return undefined;
  }
}

function cfEllipsoid(attrs: Attrs): Ellipsoid {
  const a =
    attrNumber(attrs, 'semi_major_axis') ?? attrNumber(attrs, 'semimajor_radius') ?? attrNumber(attrs, 'earth_radius');
  if (a === undefined) return WGS84;
  const b =
    attrNumber(attrs, 'semi_minor_axis') ??
    attrNumber(attrs, 'semiminor_radius') ??
    (attrs['earth_radius'] !== undefined ? a : undefined);
  return ellipsoid(a, b, attrNumber(attrs, 'inverse_flattening'));
}

/** The projection CF grid_mapping attributes describe (CF §5.6 and Appendix F), for the ones computed here. */
function projectionFromCf(attrs: Attrs): Projection | undefined {
  const e = cfEllipsoid(attrs);
  const fe = attrNumber(attrs, 'false_easting') ?? 0;
  const fn = attrNumber(attrs, 'false_northing') ?? 0;
  switch (attrString(attrs, 'grid_mapping_name')) {
    case 'polar_stereographic': {
      const lat0 = attrNumber(attrs, 'latitude_of_projection_origin') ?? 90;
      const sp = attrNumber(attrs, 'standard_parallel');
      const lon0 =
        attrNumber(attrs, 'straight_vertical_longitude_from_pole') ??
        attrNumber(attrs, 'longitude_of_projection_origin') ??
        0;
      return polarStereographic({
        ellipsoid: e,
        latitudeOfOrigin: lat0,
        ...(sp !== undefined ? { standardParallel: sp } : {}),
        scaleFactor: attrNumber(attrs, 'scale_factor_at_projection_origin') ?? 1,
        centralMeridian: lon0,
        falseEasting: fe,
        falseNorthing: fn,
      });
    }
    case 'transverse_mercator':
      return transverseMercator({
        ellipsoid: e,
        centralMeridian: attrNumber(attrs, 'longitude_of_central_meridian') ?? 0,
        latitudeOfOrigin: attrNumber(attrs, 'latitude_of_projection_origin') ?? 0,
        scaleFactor: attrNumber(attrs, 'scale_factor_at_central_meridian') ?? 1,
        falseEasting: fe,
        falseNorthing: fn,
      });
    default:
      return undefined;
  }
}

/** Whether two projections agree at a few points (metres), to detect contradicting attributes. */
function sameProjection(p: Projection, q: Projection, probes: Array<[number, number]>): boolean {
  return probes.every(([lon, lat]) => {
    const [x1, y1] = p.forward(lon, lat);
    const [x2, y2] = q.forward(lon, lat);
    return Math.hypot(x1 - x2, y1 - y2) < 1;
  });
}

export interface DetectedCrs {
  crs: GridCrs;
  /** Contradictions found in the file's CRS attributes, worth a log line. */
  warnings: string[];
}

/**
 * The CRS of a projected grid from its CF grid_mapping variable. The formulas come from, in
 * order: a PROJ.4 string (proj4text, proj4, proj4_params), the EPSG code (srid, epsg_code,
 * crs_wkt / spatial_ref authority) when this server knows it, then the CF attributes. Files do
 * contradict themselves: NSIDC's sea ice grids say straight_vertical_longitude_from_pole = 135
 * next to "+lon_0=-45" and EPSG:3411, and the data follow -45.
 */
export function crsFromGridMapping(variable: string, attrs: Attrs): DetectedCrs {
  const warnings: string[] = [];
  const mappingName = attrString(attrs, 'grid_mapping_name');
  const wkt = attrString(attrs, 'crs_wkt') ?? attrString(attrs, 'spatial_ref');
  const epsg =
    epsgFromText(attrString(attrs, 'srid')) ?? epsgFromText(attrString(attrs, 'epsg_code')) ?? epsgFromText(wkt);
  if (mappingName === 'latitude_longitude' || (epsg !== undefined && GEOGRAPHIC_EPSG.has(epsg))) {
    return { crs: { ...geographicCrs(), gridMapping: { variable, attrs } }, warnings };
  }
  const proj4 =
    attrString(attrs, 'proj4text') ??
    attrString(attrs, 'proj4') ??
    attrString(attrs, 'proj4_params') ??
    attrString(attrs, 'proj4string');
  const fromProj4 = proj4 ? projectionFromProj4(proj4) : undefined;
  const fromEpsg = epsg !== undefined ? projectionForEpsg(epsg) : undefined;
  const fromCf = projectionFromCf(attrs);
  const projection = fromProj4 ?? fromEpsg ?? fromCf;
  if (projection && fromCf && projection !== fromCf) {
    const probes: Array<[number, number]> =
      mappingName === 'polar_stereographic'
        ? [
            [0, (attrNumber(attrs, 'latitude_of_projection_origin') ?? 90) > 0 ? 70 : -70],
            [90, (attrNumber(attrs, 'latitude_of_projection_origin') ?? 90) > 0 ? 60 : -60],
          ]
        : [
            [0, 0],
            [1, 1],
          ];
    if (!sameProjection(projection, fromCf, probes)) {
      warnings.push(
        `grid_mapping '${variable}': its CF attributes disagree with its ${fromProj4 ? 'PROJ string' : `EPSG code ${epsg}`}; following the latter`,
      );
    }
  }
  const crs: GridCrs = {
    ...(epsg !== undefined ? { uri: epsgUri(epsg) } : {}),
    label: epsg !== undefined ? `EPSG:${epsg}` : (mappingName ?? variable),
    kind: 'projected',
    gridMapping: { variable, attrs },
  };
  if (projection) crs.projection = projection;
  if (wkt) crs.wkt = wkt;
  return { crs, warnings };
}

/** A CRS named in a request (crs, bbox-crs, subset-crs). */
export interface RequestCrs {
  uri: string;
  /** The grid's own CRS: no transformation. */
  native: boolean;
  /** Longitude/latitude (CRS84 or EPSG:4326). */
  geographic: boolean;
  /** EPSG:4326 orders its axes latitude first (bbox=minLat,minLon,maxLat,maxLon). */
  latitudeFirst: boolean;
}

const CRS84_NAMES = new Set([
  CRS84.toLowerCase(),
  'ogc:crs84',
  'crs84',
  '[ogc:crs84]',
  'urn:ogc:def:crs:ogc:1.3:crs84',
  'http://www.opengis.net/def/crs/ogc/0/crs84',
]);

/** Parse a CRS parameter against a grid's CRS; a CRS the server cannot use is a 400 naming the ones it can. */
export function parseRequestCrs(text: string, parameter: string, native: GridCrs): RequestCrs {
  // The OGC definition server answers on https too, and current drafts write its URIs so: same CRS.
  const t = text.trim().replace(/^https:\/\/www\.opengis\.net\//i, 'http://www.opengis.net/');
  const lower = t.toLowerCase();
  const nativeUri = native.uri;
  const accepted = () => [...new Set([CRS84, EPSG_4326, ...(nativeUri ? [nativeUri] : [])])].join(', ');
  if (CRS84_NAMES.has(lower))
    return { uri: CRS84, native: native.kind === 'geographic', geographic: true, latitudeFirst: false };
  const code = epsgFromText(t);
  if (code === 4326) return { uri: EPSG_4326, native: false, geographic: true, latitudeFirst: true };
  if (nativeUri && (t === nativeUri || (code !== undefined && epsgUri(code) === nativeUri))) {
    return { uri: nativeUri, native: true, geographic: native.kind === 'geographic', latitudeFirst: false };
  }
  throw new InvalidParameterValue(
    parameter,
    `CRS '${t}' is not supported for this collection; use one of: ${accepted()}`,
  );
}
