/**
 * What geotiff.js leaves to the caller about a file's structure: tag numbers, sample types,
 * which IFDs are overviews (not masks), and whether every block lies inside the file.
 */
import type { GeoTIFF, GeoTIFFImage } from 'geotiff';
import type { DType } from '../types.js';

export interface GeoTiffOverview {
  width: number;
  height: number;
  /** Image (IFD) index in the file, as geotiff.js `getImage(index)` takes it. */
  index: number;
}

// TIFF tag numbers (geotiff.js also knows names; numbers avoid its name typing).
export const TAG = {
  NewSubfileType: 254,
  SubfileType: 255,
  Compression: 259,
  Photometric: 262,
  DateTime: 306,
  StripOffsets: 273,
  StripByteCounts: 279,
  TileOffsets: 324,
  TileByteCounts: 325,
  ModelPixelScale: 33550,
  ModelTiepoint: 33922,
  ModelTransformation: 34264,
  GdalMetadata: 42112,
  GdalNodata: 42113,
} as const;

export const PHOTOMETRIC_YCBCR = 6;
const SUBFILE_REDUCED = 1;
const SUBFILE_MASK = 4;

/** Storage type of a sample, or undefined for layouts the readers cannot hold (1-bit, complex, 64-bit ints). */
export function sampleDType(format: number, bits: number): DType | undefined {
  const key = `${format}:${bits}`;
  const map: Record<string, DType> = {
    '1:8': 'u1',
    '2:8': 'i1',
    '1:16': 'u2',
    '2:16': 'i2',
    '1:32': 'u4',
    '2:32': 'i4',
    '3:32': 'f4',
    '3:64': 'f8',
  };
  return map[key];
}

/** A numeric tag value (scalar, array or typed array, bigints included) as numbers. */
export function numberList(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<number | bigint>, Number);
  return undefined;
}

/** An ASCII tag without its NUL terminator. */
export function tagString(value: unknown): string | undefined {
  return typeof value === 'string' ? value.replace(/\0+$/, '') : undefined;
}

/** Reduced-resolution images of the same bands, finest first; GDAL's internal masks are skipped. */
export async function findOverviews(tiff: GeoTIFF, main: GeoTIFFImage): Promise<GeoTiffOverview[]> {
  const count = await tiff.getImageCount();
  const overviews: GeoTiffOverview[] = [];
  for (let index = 1; index < count; index++) {
    const image = await tiff.getImage(index);
    const fd = image.fileDirectory;
    const flags = Number(fd.getValue(TAG.NewSubfileType) ?? 0);
    const reduced = (flags & SUBFILE_REDUCED) !== 0 || fd.getValue(TAG.SubfileType) === 2;
    if (!reduced || (flags & SUBFILE_MASK) !== 0) continue;
    if (image.getSamplesPerPixel() !== main.getSamplesPerPixel()) continue;
    if (image.getWidth() >= main.getWidth() && image.getHeight() >= main.getHeight()) continue;
    overviews.push({ width: image.getWidth(), height: image.getHeight(), index });
  }
  return overviews.sort((a, b) => b.width - a.width);
}

/**
 * Every tile/strip must lie inside the file: a truncated file would otherwise read as zeros
 * (geotiff.js pads short reads) instead of failing.
 */
export async function checkBlockExtents(image: GeoTIFFImage, fileSize: number, index: number): Promise<void> {
  const fd = image.fileDirectory;
  const offsets = numberList(await fd.loadValue(image.isTiled ? TAG.TileOffsets : TAG.StripOffsets));
  const counts = numberList(await fd.loadValue(image.isTiled ? TAG.TileByteCounts : TAG.StripByteCounts));
  if (!offsets || !counts || offsets.length !== counts.length) {
    throw new Error(`image ${index}: missing or inconsistent ${image.isTiled ? 'tile' : 'strip'} offsets`);
  }
  const perPlane =
    Math.ceil(image.getWidth() / image.getTileWidth()) * Math.ceil(image.getHeight() / image.getTileHeight());
  const planes = image.planarConfiguration === 2 ? image.getSamplesPerPixel() : 1;
  if (offsets.length < perPlane * planes)
    throw new Error(`image ${index}: ${offsets.length} blocks listed, ${perPlane * planes} expected`);
  for (let i = 0; i < offsets.length; i++) {
    if (counts[i]! > 0 && offsets[i]! + counts[i]! > fileSize) {
      throw new Error(
        `image ${index}: block ${i} ends at byte ${offsets[i]! + counts[i]!}, past the end of the file (${fileSize} bytes): truncated?`,
      );
    }
  }
}
