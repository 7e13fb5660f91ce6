/**
 * What a GeoTIFF output is (size, bands, type, georeferencing, metadata) and its validation.
 * Everything the writer needs is checked here, before the first byte, so a bad request fails
 * with a message instead of a truncated file.
 */
import type { GeoTransform } from '../../readers/geotiff/georef.js';

export type GeoTiffDType = 'u1' | 'i1' | 'u2' | 'i2' | 'u4' | 'i4' | 'f4' | 'f8';

/** Per-band metadata, stored in GDAL_METADATA where GDAL (and rasterio, QGIS) find it. */
export interface GeoTiffBandInfo {
  description?: string;
  /** physical = stored · scale + offset. */
  scale?: number;
  offset?: number;
  units?: string;
  /** Free-form items (e.g. CF attributes), as strings. */
  metadata?: Record<string, string>;
}

export interface GeoTiffDef {
  width: number;
  height: number;
  bands: number;
  dtype: GeoTiffDType;
  /** Square tiles of this many pixels; a multiple of 16 as TIFF requires (default 256). */
  tileSize?: number;
  compression?: 'none' | 'deflate';
  /** zlib level 1..9 (default 6). */
  deflateLevel?: number;
  /** Written as GDAL_NODATA; edge tiles are padded with it. NaN only for float types. */
  nodata?: number;
  /** GDAL order: [originX, pixelWidth, rotX, originY, rotY, pixelHeight]; pixel corners. */
  transform: GeoTransform;
  epsg: number;
  geographic: boolean;
  /** Dataset-level GDAL metadata items. */
  metadata?: Record<string, string>;
  bandInfo?: GeoTiffBandInfo[];
  /** 'auto' (default): BigTIFF only when the file would not fit 32-bit offsets. */
  bigTiff?: 'auto' | boolean;
  /** DEFLATE only: compressed tiles kept in memory up to this size, then spilled to a temp file (default 64 MiB). */
  spoolMemoryBytes?: number;
  /** DEFLATE only: directory for the spill file (default os.tmpdir()). */
  tempDir?: string;
}

/** The definition with defaults applied and derived sizes. */
export interface ResolvedDef extends GeoTiffDef {
  tileSize: number;
  compression: 'none' | 'deflate';
  deflateLevel: number;
  bigTiff: 'auto' | boolean;
  spoolMemoryBytes: number;
  itemBytes: number;
  tilesAcross: number;
  tilesDown: number;
  /** Tiles in the whole file (all bands). */
  tileCount: number;
}

export const DTYPE_INFO: Record<GeoTiffDType, { bytes: number; sampleFormat: 1 | 2 | 3; min: number; max: number }> = {
  u1: { bytes: 1, sampleFormat: 1, min: 0, max: 255 },
  i1: { bytes: 1, sampleFormat: 2, min: -128, max: 127 },
  u2: { bytes: 2, sampleFormat: 1, min: 0, max: 65535 },
  i2: { bytes: 2, sampleFormat: 2, min: -32768, max: 32767 },
  u4: { bytes: 4, sampleFormat: 1, min: 0, max: 4294967295 },
  i4: { bytes: 4, sampleFormat: 2, min: -2147483648, max: 2147483647 },
  f4: { bytes: 4, sampleFormat: 3, min: -Infinity, max: Infinity },
  f8: { bytes: 8, sampleFormat: 3, min: -Infinity, max: Infinity },
};

function positiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`GeoTIFF ${name} must be an integer in 1..${max}, got ${String(value)}`);
  }
}

export function resolveDef(def: GeoTiffDef): ResolvedDef {
  positiveInteger('width', def.width, 0xffffffff);
  positiveInteger('height', def.height, 0xffffffff);
  positiveInteger('bands', def.bands, 0xffff);
  const info = DTYPE_INFO[def.dtype];
  if (!info)
    throw new RangeError(
      `GeoTIFF dtype must be one of ${Object.keys(DTYPE_INFO).join(', ')}, got ${String(def.dtype)}`,
    );
  const tileSize = def.tileSize ?? 256;
  positiveInteger('tileSize', tileSize, 65536);
  if (tileSize % 16 !== 0)
    throw new RangeError(`GeoTIFF tileSize must be a multiple of 16 (TIFF 6.0 §15), got ${tileSize}`);
  const compression = def.compression ?? 'none';
  if (compression !== 'none' && compression !== 'deflate')
    throw new RangeError(`GeoTIFF compression must be none or deflate, got ${String(compression)}`);
  const deflateLevel = def.deflateLevel ?? 6;
  positiveInteger('deflateLevel', deflateLevel, 9);
  if (!Array.isArray(def.transform) || def.transform.length !== 6 || !def.transform.every(Number.isFinite)) {
    throw new RangeError(
      'GeoTIFF transform must be 6 finite numbers [originX, pixelWidth, rotX, originY, rotY, pixelHeight]',
    );
  }
  if (def.transform[1] === 0 || def.transform[5] === 0) throw new RangeError('GeoTIFF transform has a zero pixel size');
  positiveInteger('epsg', def.epsg, 32766);
  if (def.nodata !== undefined) {
    const n = def.nodata;
    if (info.sampleFormat === 3) {
      if (typeof n !== 'number') throw new RangeError('GeoTIFF nodata must be a number');
    } else if (!Number.isInteger(n) || n < info.min || n > info.max) {
      throw new RangeError(`GeoTIFF nodata ${n} is not a ${def.dtype} value (${info.min}..${info.max})`);
    }
  }
  if (def.bandInfo && def.bandInfo.length > def.bands)
    throw new RangeError(`GeoTIFF bandInfo has ${def.bandInfo.length} entries for ${def.bands} bands`);
  const spoolMemoryBytes = def.spoolMemoryBytes ?? 64 * 1024 * 1024;
  if (!Number.isFinite(spoolMemoryBytes) || spoolMemoryBytes < 0)
    throw new RangeError('GeoTIFF spoolMemoryBytes must be a non-negative number');
  const tilesAcross = Math.ceil(def.width / tileSize);
  const tilesDown = Math.ceil(def.height / tileSize);
  return {
    ...def,
    tileSize,
    compression,
    deflateLevel,
    bigTiff: def.bigTiff ?? 'auto',
    spoolMemoryBytes,
    itemBytes: info.bytes,
    tilesAcross,
    tilesDown,
    tileCount: tilesAcross * tilesDown * def.bands,
  };
}
