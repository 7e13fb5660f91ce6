/**
 * The TIFF tags of a GeoTIFF output: image structure, tiling, GeoTIFF georeferencing (GeoTIFF 1.0
 * §2.6: ModelPixelScale + ModelTiepoint, or ModelTransformation for rotated grids; GeoKeys naming
 * an EPSG code) and GDAL's private tags (GDAL_NODATA as text, GDAL_METADATA as XML).
 */
import { Buffer } from 'node:buffer';
import { DTYPE_INFO, type ResolvedDef } from './def.js';
import { FieldType, type TagEntry } from './ifd.js';

const TAG = {
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  SamplesPerPixel: 277,
  PlanarConfiguration: 284,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  ExtraSamples: 338,
  SampleFormat: 339,
  ModelPixelScale: 33550,
  ModelTiepoint: 33922,
  ModelTransformation: 34264,
  GeoKeyDirectory: 34735,
  GdalMetadata: 42112,
  GdalNodata: 42113,
} as const;

const COMPRESSION_NONE = 1;
const COMPRESSION_DEFLATE = 8; // Adobe-style code, what GDAL writes for COMPRESS=DEFLATE
const PHOTOMETRIC_MINISBLACK = 1;
const PLANAR_CONTIGUOUS = 1;
const PLANAR_SEPARATE = 2;

const GEOKEY = { GTModelType: 1024, GTRasterType: 1025, GeographicType: 2048, ProjectedCSType: 3072 } as const;
const MODEL_PROJECTED = 1;
const MODEL_GEOGRAPHIC = 2;
const RASTER_PIXEL_IS_AREA = 1;

function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** Non-finite and integral values as GDAL prints them (it parses "nan", "inf" and any %g form). */
function numberText(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/**
 * GDAL_METADATA XML, or undefined when there is nothing to say. Item text is escaped twice: GDAL
 * escapes values itself before its XML serialiser escapes them again, and unescapes twice on read.
 */
function gdalMetadataXml(def: ResolvedDef): string | undefined {
  const lines: string[] = [];
  const item = (name: string, value: string, sample?: number, role?: string) => {
    const attrs = [`name="${escapeXml(name)}"`];
    if (sample !== undefined) attrs.push(`sample="${sample}"`);
    if (role !== undefined) attrs.push(`role="${role}"`);
    lines.push(`  <Item ${attrs.join(' ')}>${escapeXml(escapeXml(value))}</Item>`);
  };
  for (const [name, value] of Object.entries(def.metadata ?? {})) item(name, value);
  (def.bandInfo ?? []).forEach((band, sample) => {
    for (const [name, value] of Object.entries(band.metadata ?? {})) item(name, value, sample);
    // GDAL always writes both of a pair, as it reads them as a pair.
    if (band.scale !== undefined || band.offset !== undefined) {
      item('OFFSET', numberText(band.offset ?? 0), sample, 'offset');
      item('SCALE', numberText(band.scale ?? 1), sample, 'scale');
    }
    if (band.description !== undefined) item('DESCRIPTION', band.description, sample, 'description');
    if (band.units !== undefined) item('UNITTYPE', band.units, sample, 'unittype');
  });
  if (lines.length === 0) return undefined;
  return `<GDALMetadata>\n${lines.join('\n')}\n</GDALMetadata>\n`;
}

/** GDAL_NODATA text; float32 nodata is rounded to float32 first so it equals the stored pixels. */
function gdalNodataText(def: ResolvedDef): string | undefined {
  if (def.nodata === undefined) return undefined;
  return numberText(def.dtype === 'f4' ? Math.fround(def.nodata) : def.nodata);
}

/** UTF-8 bytes carried in a TIFF ASCII field (one byte per character), as GDAL does. */
function asciiField(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function georeferencing(def: ResolvedDef): TagEntry[] {
  const [x0, pw, rx, y0, ry, ph] = def.transform;
  const keys: number[] = [
    GEOKEY.GTModelType,
    0,
    1,
    def.geographic ? MODEL_GEOGRAPHIC : MODEL_PROJECTED,
    GEOKEY.GTRasterType,
    0,
    1,
    RASTER_PIXEL_IS_AREA,
    def.geographic ? GEOKEY.GeographicType : GEOKEY.ProjectedCSType,
    0,
    1,
    def.epsg,
  ];
  const geoKeys: TagEntry = {
    tag: TAG.GeoKeyDirectory,
    type: FieldType.SHORT,
    values: [1, 1, 0, keys.length / 4, ...keys],
  };
  if (rx !== 0 || ry !== 0) {
    // X = x0 + col·pw + row·rx; Y = y0 + col·ry + row·ph, as a 4×4 row-major matrix.
    const matrix = [pw, rx, 0, x0, ry, ph, 0, y0, 0, 0, 0, 0, 0, 0, 0, 1];
    return [{ tag: TAG.ModelTransformation, type: FieldType.DOUBLE, values: matrix }, geoKeys];
  }
  return [
    { tag: TAG.ModelPixelScale, type: FieldType.DOUBLE, values: [pw, -ph, 0] },
    { tag: TAG.ModelTiepoint, type: FieldType.DOUBLE, values: [0, 0, 0, x0, y0, 0] },
    geoKeys,
  ];
}

/**
 * Every tag of the image. `offsets` and `byteCounts` hold one entry per tile, band-major
 * (PlanarConfiguration 2 order); their values do not change the encoded size.
 */
export function geoTiffTags(
  def: ResolvedDef,
  offsets: ArrayLike<number>,
  byteCounts: ArrayLike<number>,
  bigTiff: boolean,
): TagEntry[] {
  const { sampleFormat } = DTYPE_INFO[def.dtype];
  const bands = def.bands;
  const repeat = (value: number, n: number) => new Array<number>(n).fill(value);
  const entries: TagEntry[] = [
    { tag: TAG.ImageWidth, type: FieldType.LONG, values: [def.width] },
    { tag: TAG.ImageLength, type: FieldType.LONG, values: [def.height] },
    { tag: TAG.BitsPerSample, type: FieldType.SHORT, values: repeat(def.itemBytes * 8, bands) },
    {
      tag: TAG.Compression,
      type: FieldType.SHORT,
      values: [def.compression === 'deflate' ? COMPRESSION_DEFLATE : COMPRESSION_NONE],
    },
    { tag: TAG.Photometric, type: FieldType.SHORT, values: [PHOTOMETRIC_MINISBLACK] },
    { tag: TAG.SamplesPerPixel, type: FieldType.SHORT, values: [bands] },
    { tag: TAG.PlanarConfiguration, type: FieldType.SHORT, values: [bands > 1 ? PLANAR_SEPARATE : PLANAR_CONTIGUOUS] },
    { tag: TAG.TileWidth, type: FieldType.LONG, values: [def.tileSize] },
    { tag: TAG.TileLength, type: FieldType.LONG, values: [def.tileSize] },
    { tag: TAG.TileOffsets, type: bigTiff ? FieldType.LONG8 : FieldType.LONG, values: offsets },
    { tag: TAG.TileByteCounts, type: bigTiff ? FieldType.LONG8 : FieldType.LONG, values: byteCounts },
    { tag: TAG.SampleFormat, type: FieldType.SHORT, values: repeat(sampleFormat, bands) },
    ...georeferencing(def),
  ];
  // MinIsBlack has one colour sample; the others must be declared extra (unspecified) samples.
  if (bands > 1) entries.push({ tag: TAG.ExtraSamples, type: FieldType.SHORT, values: repeat(0, bands - 1) });
  const xml = gdalMetadataXml(def);
  if (xml !== undefined) entries.push({ tag: TAG.GdalMetadata, type: FieldType.ASCII, values: asciiField(xml) });
  const nodata = gdalNodataText(def);
  if (nodata !== undefined) entries.push({ tag: TAG.GdalNodata, type: FieldType.ASCII, values: nodata });
  return entries;
}
