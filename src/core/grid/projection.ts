/**
 * The few map projections ocean grids come in, forward and inverse, on an ellipsoid: polar
 * stereographic (sea ice grids: EPSG:3411/3413/3031…), transverse Mercator (UTM: bathymetry,
 * Landsat) and spherical Web Mercator (EPSG:3857 tiles). No projection library is available;
 * these are Snyder's formulas ("Map Projections — A Working Manual", USGS PP 1395, 1987),
 * accurate to well below a grid cell, which is all a bbox → index-window transform needs.
 */
import type { Projection } from './types.js';

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;

export interface Ellipsoid {
  /** Semi-major axis, metres. */
  a: number;
  /** First eccentricity squared. */
  es: number;
}

export function ellipsoid(a: number, b?: number, inverseFlattening?: number): Ellipsoid {
  if (b !== undefined && b > 0) return { a, es: 1 - (b * b) / (a * a) };
  if (inverseFlattening !== undefined && inverseFlattening > 0) {
    const f = 1 / inverseFlattening;
    return { a, es: 2 * f - f * f };
  }
  return { a, es: 0 };
}

export const WGS84: Ellipsoid = ellipsoid(6378137, undefined, 298.257223563);
/** Hughes 1980, the NSIDC sea ice grids' ellipsoid (EPSG:7058). */
export const HUGHES_1980: Ellipsoid = ellipsoid(6378273, 6356889.449);

/** Longitude in [-180, 180). */
function wrap(lon: number): number {
  const x = ((((lon + 180) % 360) + 360) % 360) - 180;
  return x;
}

export interface PolarStereographicParams {
  ellipsoid: Ellipsoid;
  /** +90 (north polar aspect) or -90 (south). */
  latitudeOfOrigin: number;
  /** Latitude of true scale (CF standard_parallel), degrees; ±90 means scale factor k0 at the pole. */
  standardParallel?: number;
  /** Scale factor at the pole, used when no standard parallel is given. */
  scaleFactor?: number;
  /** Longitude pointing straight down from the pole in the north aspect (proj's lon_0), degrees. */
  centralMeridian: number;
  falseEasting?: number;
  falseNorthing?: number;
}

/** Polar stereographic, ellipsoidal (Snyder §21, formulas 21-33 to 21-40, 15-9, 14-15). */
export function polarStereographic(p: PolarStereographicParams): Projection {
  const { a, es } = p.ellipsoid;
  const e = Math.sqrt(es);
  const south = p.latitudeOfOrigin < 0;
  const x0 = p.falseEasting ?? 0;
  const y0 = p.falseNorthing ?? 0;
  // Everything is computed in the north aspect; the south aspect mirrors latitudes, longitudes and x/y.
  const lon0 = (south ? -p.centralMeridian : p.centralMeridian) * RAD;
  const tsfn = (phi: number): number => {
    const s = e * Math.sin(phi);
    return Math.tan(Math.PI / 4 - phi / 2) / Math.pow((1 - s) / (1 + s), e / 2);
  };
  const msfn = (phi: number): number => {
    const s = Math.sin(phi);
    return Math.cos(phi) / Math.sqrt(1 - es * s * s);
  };
  const latTs = p.standardParallel === undefined ? 90 : Math.abs(p.standardParallel);
  // rho = factor · t(phi)
  const factor =
    Math.abs(latTs - 90) < 1e-10
      ? (2 * a * (p.scaleFactor ?? 1)) / Math.sqrt(Math.pow(1 + e, 1 + e) * Math.pow(1 - e, 1 - e))
      : (a * msfn(latTs * RAD)) / tsfn(latTs * RAD);
  const sign = south ? -1 : 1;
  return {
    forward(lon, lat) {
      const phi = sign * lat * RAD;
      const lam = sign * lon * RAD;
      if (phi < -Math.PI / 2 + 1e-9) return [NaN, NaN]; // the opposite pole is at infinity
      const rho = factor * tsfn(phi);
      const x = rho * Math.sin(lam - lon0);
      const y = -rho * Math.cos(lam - lon0);
      return [sign * x + x0, sign * y + y0];
    },
    inverse(x, y) {
      const xn = sign * (x - x0);
      const yn = sign * (y - y0);
      const rho = Math.hypot(xn, yn);
      const t = rho / factor;
      let phi = Math.PI / 2 - 2 * Math.atan(t);
      for (let i = 0; i < 20; i++) {
        const s = e * Math.sin(phi);
        const next = Math.PI / 2 - 2 * Math.atan(t * Math.pow((1 - s) / (1 + s), e / 2));
        const done = Math.abs(next - phi) < 1e-13;
        phi = next;
        if (done) break;
      }
      const lam = rho === 0 ? lon0 : lon0 + Math.atan2(xn, -yn);
      return [wrap(sign * lam * DEG), sign * phi * DEG];
    },
    singularities: [[0, south ? -90 : 90]],
  };
}

export interface TransverseMercatorParams {
  ellipsoid: Ellipsoid;
  centralMeridian: number;
  latitudeOfOrigin?: number;
  scaleFactor: number;
  falseEasting: number;
  falseNorthing: number;
}

/** Transverse Mercator, ellipsoidal series (Snyder §8, formulas 8-9 to 8-25); good within a UTM zone and well beyond. */
export function transverseMercator(p: TransverseMercatorParams): Projection {
  const { a, es } = p.ellipsoid;
  const eps = es / (1 - es);
  const k0 = p.scaleFactor;
  const lon0 = p.centralMeridian * RAD;
  const e4 = es * es;
  const e6 = e4 * es;
  const m1 = 1 - es / 4 - (3 * e4) / 64 - (5 * e6) / 256;
  const m2 = (3 * es) / 8 + (3 * e4) / 32 + (45 * e6) / 1024;
  const m3 = (15 * e4) / 256 + (45 * e6) / 1024;
  const m4 = (35 * e6) / 3072;
  const meridional = (phi: number): number =>
    a * (m1 * phi - m2 * Math.sin(2 * phi) + m3 * Math.sin(4 * phi) - m4 * Math.sin(6 * phi));
  const mOrigin = meridional((p.latitudeOfOrigin ?? 0) * RAD);
  const e1 = (1 - Math.sqrt(1 - es)) / (1 + Math.sqrt(1 - es));
  return {
    forward(lon, lat) {
      const phi = lat * RAD;
      let dl = lon * RAD - lon0;
      dl = Math.atan2(Math.sin(dl), Math.cos(dl));
      const sin = Math.sin(phi);
      const cos = Math.cos(phi);
      const n = a / Math.sqrt(1 - es * sin * sin);
      const t = Math.tan(phi) ** 2;
      const c = eps * cos * cos;
      const A = dl * cos;
      const x = k0 * n * (A + ((1 - t + c) * A ** 3) / 6 + ((5 - 18 * t + t * t + 72 * c - 58 * eps) * A ** 5) / 120);
      const y =
        k0 *
        (meridional(phi) -
          mOrigin +
          n *
            Math.tan(phi) *
            ((A * A) / 2 +
              ((5 - t + 9 * c + 4 * c * c) * A ** 4) / 24 +
              ((61 - 58 * t + t * t + 600 * c - 330 * eps) * A ** 6) / 720));
      return [x + p.falseEasting, y + p.falseNorthing];
    },
    inverse(x, y) {
      const xs = x - p.falseEasting;
      const m = mOrigin + (y - p.falseNorthing) / k0;
      const mu = m / (a * m1);
      const phi1 =
        mu +
        ((3 * e1) / 2 - (27 * e1 ** 3) / 32) * Math.sin(2 * mu) +
        ((21 * e1 * e1) / 16 - (55 * e1 ** 4) / 32) * Math.sin(4 * mu) +
        ((151 * e1 ** 3) / 96) * Math.sin(6 * mu) +
        ((1097 * e1 ** 4) / 512) * Math.sin(8 * mu);
      const sin = Math.sin(phi1);
      const cos = Math.cos(phi1);
      const c1 = eps * cos * cos;
      const t1 = Math.tan(phi1) ** 2;
      const n1 = a / Math.sqrt(1 - es * sin * sin);
      const r1 = (a * (1 - es)) / Math.pow(1 - es * sin * sin, 1.5);
      const d = xs / (n1 * k0);
      const phi =
        phi1 -
        ((n1 * Math.tan(phi1)) / r1) *
          ((d * d) / 2 -
            ((5 + 3 * t1 + 10 * c1 - 4 * c1 * c1 - 9 * eps) * d ** 4) / 24 +
            ((61 + 90 * t1 + 298 * c1 + 45 * t1 * t1 - 252 * eps - 3 * c1 * c1) * d ** 6) / 720);
      const lam =
        lon0 +
        (d -
          ((1 + 2 * t1 + c1) * d ** 3) / 6 +
          ((5 - 2 * c1 + 28 * t1 - 3 * c1 * c1 + 8 * eps + 24 * t1 * t1) * d ** 5) / 120) /
          cos;
      return [wrap(lam * DEG), phi * DEG];
    },
  };
}

/** UTM zone 1..60, north or south (EPSG:326zz / 327zz on WGS84). */
export function utm(zone: number, south: boolean, datum: Ellipsoid = WGS84): Projection {
  return transverseMercator({
    ellipsoid: datum,
    centralMeridian: zone * 6 - 183,
    scaleFactor: 0.9996,
    falseEasting: 500000,
    falseNorthing: south ? 10000000 : 0,
  });
}

/** Spherical ("pseudo") Mercator of web maps, EPSG:3857. */
export function webMercator(): Projection {
  const r = 6378137;
  const maxLat = 85.0511287798066;
  return {
    forward(lon, lat) {
      const phi = Math.max(-maxLat, Math.min(maxLat, lat)) * RAD;
      return [r * lon * RAD, r * Math.log(Math.tan(Math.PI / 4 + phi / 2))];
    },
    inverse(x, y) {
      return [wrap((x / r) * DEG), (2 * Math.atan(Math.exp(y / r)) - Math.PI / 2) * DEG];
    },
  };
}
