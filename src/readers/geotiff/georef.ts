/**
 * Georeferencing of a GeoTIFF from its tags, following GDAL's reading so that our geotransform and
 * CRS agree with gdalinfo: ModelTransformation wins over tiepoint + pixel scale, and PixelIsPoint
 * rasters are shifted by half a pixel (GDAL's default, GTIFF_POINT_GEO_IGNORE=FALSE).
 */

/** GDAL order: x = t[0] + col·t[1] + row·t[2]; y = t[3] + col·t[4] + row·t[5] (corner of pixel 0,0). */
export type GeoTransform = [
  originX: number,
  pixelWidth: number,
  rotX: number,
  originY: number,
  rotY: number,
  pixelHeight: number,
];

/** The raw georeferencing tags of the full-resolution image. */
export interface GeoTags {
  /** ModelTiepointTag (33922): (i, j, k, X, Y, Z) per tiepoint. */
  tiepoints?: ArrayLike<number>;
  /** ModelPixelScaleTag (33550): (ScaleX, ScaleY, ScaleZ). */
  pixelScale?: ArrayLike<number>;
  /** ModelTransformationTag (34264): 4×4 row-major matrix. */
  transformation?: ArrayLike<number>;
  /** GeoKeys by name, as geotiff.js parses the GeoKeyDirectory. */
  geoKeys: Record<string, unknown> | null;
}

export interface GeoCrs {
  epsg?: number;
  geographic: boolean;
}

const MODEL_PROJECTED = 1;
const MODEL_GEOGRAPHIC = 2;
const RASTER_PIXEL_IS_POINT = 2;
const USER_DEFINED = 32767;

function keyNumber(keys: Record<string, unknown> | null, name: string): number | undefined {
  const value = keys?.[name];
  const n = Array.isArray(value) ? value[0] : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function isEpsgCode(code: number | undefined): code is number {
  return code !== undefined && Number.isInteger(code) && code > 0 && code < USER_DEFINED;
}

/**
 * The affine geotransform, or undefined when the file has none (no tags, or only ground control
 * points, which need a warp rather than an affine transform).
 */
export function geoTransform(tags: GeoTags): GeoTransform | undefined {
  let t: GeoTransform | undefined;
  const m = tags.transformation;
  if (m && m.length >= 16) {
    t = [m[3]!, m[0]!, m[1]!, m[7]!, m[4]!, m[5]!];
  } else if (tags.tiepoints && tags.tiepoints.length >= 6 && tags.pixelScale && tags.pixelScale.length >= 2) {
    const [i, j, , x, y] = Array.from(tags.tiepoints);
    const [sx, sy] = Array.from(tags.pixelScale);
    t = [x! - i! * sx!, sx!, 0, y! + j! * sy!, 0, -sy!];
  }
  if (!t || !t.every(Number.isFinite)) return undefined;
  if (keyNumber(tags.geoKeys, 'GTRasterTypeGeoKey') === RASTER_PIXEL_IS_POINT) {
    // The tiepoint names a pixel centre; the geotransform is anchored on pixel corners.
    t[0] -= 0.5 * (t[1] + t[2]);
    t[3] -= 0.5 * (t[4] + t[5]);
  }
  return t;
}

/** EPSG code and kind of the CRS. User-defined CRSs (code 32767) have no EPSG code. */
export function geoCrs(geoKeys: Record<string, unknown> | null): GeoCrs {
  const model = keyNumber(geoKeys, 'GTModelTypeGeoKey');
  const projected = keyNumber(geoKeys, 'ProjectedCSTypeGeoKey');
  const geographicCode = keyNumber(geoKeys, 'GeographicTypeGeoKey');
  const geographic =
    model === MODEL_GEOGRAPHIC || (model === undefined && projected === undefined && geographicCode !== undefined);
  const code = geographic ? geographicCode : model === MODEL_PROJECTED || model === undefined ? projected : undefined;
  return isEpsgCode(code) ? { epsg: code, geographic } : { geographic };
}

/** Centres of `count` cells from `start` along one axis of a rotation-free transform. */
export function cellCentres(origin: number, step: number, start: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = origin + (start + i + 0.5) * step;
  return out;
}
