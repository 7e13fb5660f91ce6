/**
 * GeoTIFF / COG reader over geotiff.js. `fromFile` fetches only the tiles or strips a window
 * touches; geotiff.js decodes on the calling thread, so streamed reads come in pieces of at most
 * `maxChunkBytes` (each piece is a handful of tiles, each decoded in its own I/O callback) and the
 * signal is checked between pieces.
 *
 * Variables: one per band (`band1..bandN`, or the GDAL band descriptions when the file has unique
 * ones), dims ['y', 'x']; plus 1-D coordinate variables `x` and `y` (cell centres, float64) computed
 * from the geotransform. Values are the stored ones: scale/offset/nodata are attributes for src/cf/.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fromFile, type GeoTIFF, type GeoTIFFImage, type TypedArray } from 'geotiff';
import type {
  Attrs,
  Chunk,
  DatasetInfo,
  DType,
  NumericArray,
  RawArray,
  ReadRequest,
  Reader,
  VariableInfo,
  Window,
} from '../types.js';
import { CorruptFileError, ReaderRequestError } from '../types.js';
import { newTypedArray, type NumericDType } from '../dtype.js';
import { checkPicks, checkWindow } from '../window.js';
import { axisAttrs, bandAttrs, globalAttrs } from './attrs.js';
import { parseGdalMetadata, parseGdalNodata, utf8FromTiffAscii, type GdalMetadataItem } from './gdal-metadata.js';
import { cellCentres, geoCrs, geoTransform, type GeoTransform } from './georef.js';
import { JPEG_COMPRESSION, useLibjpegForTiff } from './jpeg.js';
import { nearestIndices, planPieces, type BlockGrid, type PixelBox } from './plan.js';
import {
  checkBlockExtents,
  findOverviews,
  numberList,
  PHOTOMETRIC_YCBCR,
  sampleDType,
  TAG,
  tagString,
  type GeoTiffOverview,
} from './structure.js';

export interface GeoTiffGeoref {
  epsg?: number;
  /** Only when the file carries one; GeoTIFF keys rarely do, and no WKT is synthesised. */
  crsWkt?: string;
  geographic: boolean;
  /** False when the file has no affine georeferencing: the transform is then GDAL's default (pixel grid). */
  georeferenced: boolean;
  transform: GeoTransform;
  width: number;
  height: number;
  /** Reduced-resolution images, largest first (internal masks excluded). */
  overviews: GeoTiffOverview[];
}

export interface GeoTiffReaderOptions {
  /** Upper bound of one streamed chunk's values, in bytes (default 8 MiB). */
  maxChunkBytes?: number;
}

const DEFAULT_MAX_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * Pieces read so far per image (IFD) index, over every reader of the process (0 = full resolution,
 * higher = overviews): which resolution the views were drawn from, for /metrics and tests.
 */
export const geotiffImageReads: number[] = [];

interface BandMeta {
  name: string;
  sample: number;
  dtype: DType;
  itemBytes: number;
  attrs: Attrs;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** Node system errors (ENOENT, EACCES…) say what is wrong better than a "corrupt file" would. */
function isSystemError(err: unknown): boolean {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!)
  );
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class GeoTiffReader implements Reader {
  private readonly bands: BandMeta[];
  private readonly byName: Map<string, BandMeta>;
  private readonly publicInfo: DatasetInfo;
  private readonly maxChunkBytes: number;
  private readonly grid: BlockGrid;
  private readonly ycbcr: boolean;
  /** IFD index of each overview image opened (the full-resolution image is 0). */
  private readonly ifd = new WeakMap<GeoTIFFImage, number>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly tiff: GeoTIFF,
    private readonly image: GeoTIFFImage,
    private readonly geo: GeoTiffGeoref,
    items: GdalMetadataItem[],
    options: GeoTiffReaderOptions,
  ) {
    this.maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
    this.grid = { blockWidth: image.getTileWidth(), blockHeight: image.getTileHeight(), tiled: image.isTiled };
    // YCbCr samples to convert: JPEG tiles are converted by their decoder already (jpeg.ts).
    this.ycbcr =
      image.fileDirectory.getValue(TAG.Photometric) === PHOTOMETRIC_YCBCR &&
      image.fileDirectory.getValue(TAG.Compression) !== JPEG_COMPRESSION;
    this.bands = this.describeBands(items);
    this.byName = new Map(this.bands.map((b) => [b.name, b]));
    // `bandN` stays valid when bands are named from descriptions: configs written against either work.
    for (const b of this.bands) if (!this.byName.has(`band${b.sample + 1}`)) this.byName.set(`band${b.sample + 1}`, b);
    this.publicInfo = this.describeDataset(items);
  }

  /** Opens and validates a file (tag sanity, tile/strip extents within the file size). */
  static async open(filePath: string, options: GeoTiffReaderOptions = {}): Promise<GeoTiffReader> {
    useLibjpegForTiff();
    const absolute = path.resolve(filePath);
    const { size } = await stat(absolute);
    let tiff: GeoTIFF | undefined;
    try {
      tiff = await fromFile(absolute);
      const image = await tiff.getImage(0);
      const fd = image.fileDirectory;
      const geoKeys = image.getGeoKeys();
      const transform = geoTransform({
        tiepoints: numberList(await fd.loadValue(TAG.ModelTiepoint)),
        pixelScale: numberList(await fd.loadValue(TAG.ModelPixelScale)),
        transformation: numberList(await fd.loadValue(TAG.ModelTransformation)),
        geoKeys,
      });
      const overviews = await findOverviews(tiff, image);
      for (const index of [0, ...overviews.map((o) => o.index)]) {
        await checkBlockExtents(await tiff.getImage(index), size, index);
      }
      const text = tagString(await fd.loadValue(TAG.GdalMetadata));
      const xml = text === undefined ? undefined : utf8FromTiffAscii(text);
      const geo: GeoTiffGeoref = {
        ...geoCrs(geoKeys),
        georeferenced: transform !== undefined,
        transform: transform ?? [0, 1, 0, 0, 0, 1],
        width: image.getWidth(),
        height: image.getHeight(),
        overviews,
      };
      const items = xml ? parseGdalMetadata(xml) : [];
      // TIFF 6.0 DateTime ("YYYY:MM:DD HH:MM:SS"), a dataset item under the name gdalinfo shows it with.
      const dateTime = tagString(await fd.loadValue(TAG.DateTime))?.trim();
      if (dateTime) items.push({ name: 'TIFFTAG_DATETIME', value: dateTime });
      return new GeoTiffReader(absolute, tiff, image, geo, items, options);
    } catch (err) {
      await tiff?.close();
      if (err instanceof CorruptFileError || isSystemError(err)) throw err;
      throw new CorruptFileError(absolute, `not a readable GeoTIFF: ${message(err)}`);
    }
  }

  async info(): Promise<DatasetInfo> {
    this.assertOpen();
    return this.publicInfo;
  }

  georef(): GeoTiffGeoref {
    return this.geo;
  }

  async readRaw(variable: string, window?: Window, signal?: AbortSignal): Promise<RawArray> {
    this.assertOpen();
    throwIfAborted(signal);
    if (variable === 'x' || variable === 'y') {
      const [start, stop] = this.axisRange(variable, window);
      return { dtype: 'f8', shape: [stop - start], data: this.coordinates(variable, start, stop) };
    }
    const band = this.band(variable);
    const box = this.box(window);
    const data = await this.readBox(this.image, band, box, signal);
    return { dtype: band.dtype, shape: [box[3] - box[1], box[2] - box[0]], data };
  }

  /**
   * Streams each variable in pieces of at most `maxChunkBytes`, aligned to the tile/strip grid
   * (see planPieces). Everything is validated before the first read; a window selecting nothing
   * yields no chunk; the signal is checked between chunks.
   */
  async *read(req: ReadRequest): AsyncGenerator<Chunk> {
    this.assertOpen();
    const planned = req.variables.map((name) => {
      if (name === 'x' || name === 'y') return { name, axis: this.axisRange(name, req.window) } as const;
      return { name, band: this.band(name), box: this.box(req.window) } as const;
    });
    for (const p of planned) {
      throwIfAborted(req.signal);
      if (p.axis) {
        const [start, stop] = p.axis;
        if (stop === start) continue;
        const data = this.coordinates(p.name, start, stop);
        yield { variable: p.name, window: { [p.name]: [start, stop] }, dtype: 'f8', shape: [stop - start], data };
        continue;
      }
      const { band, box } = p;
      for (const piece of planPieces(box, this.grid, band.itemBytes, this.maxChunkBytes)) {
        throwIfAborted(req.signal);
        this.assertOpen();
        const data = await this.readBox(this.image, band, piece, req.signal);
        const [x0, y0, x1, y1] = piece;
        yield {
          variable: p.name,
          window: { y: [y0, y1], x: [x0, x1] },
          dtype: band.dtype,
          shape: [y1 - y0, x1 - x0],
          data,
        };
      }
    }
  }

  /**
   * `window` of a band resampled to outHeight × outWidth by nearest neighbour (no averaging, so
   * nodata and categorical values survive), read from the coarsest overview whose pixels are
   * still at least as fine as the requested ones. Only the block rows holding sampled rows are
   * decoded, in bounded pieces.
   */
  async readResampled(
    variable: string,
    window: Window | undefined,
    outWidth: number,
    outHeight: number,
    signal?: AbortSignal,
  ): Promise<RawArray> {
    this.assertOpen();
    const band = this.band(variable);
    const box = this.box(window);
    for (const [what, n] of [
      ['outWidth', outWidth],
      ['outHeight', outHeight],
    ] as const) {
      if (!Number.isInteger(n) || n <= 0) throw new ReaderRequestError(`${what} must be a positive integer, got ${n}`);
    }
    const [x0, y0, x1, y1] = box;
    if (x1 <= x0 || y1 <= y0)
      throw new ReaderRequestError(`cannot resample an empty window of ${variable} in ${this.path}`);
    const { image, width, height } = await this.pickImage((x1 - x0) / outWidth, (y1 - y0) / outHeight);
    const cols = nearestIndices(x0, x1, outWidth, this.geo.width / width, width);
    const rows = nearestIndices(y0, y1, outHeight, this.geo.height / height, height);
    return {
      dtype: band.dtype,
      shape: [outHeight, outWidth],
      data: await this.readCells(image, band, rows, cols, signal),
    };
  }

  /**
   * A decimated read (see Reader.readPicks), dims [y, x]: from the coarsest overview whose cells
   * are no larger than the typical spacing of the picks, the overview cell holding each picked
   * cell's centre; from the full-resolution image when the picks are closer than any overview's cells.
   */
  async readPicks(variable: string, picks: Int32Array[], signal?: AbortSignal): Promise<RawArray> {
    this.assertOpen();
    const band = this.band(variable);
    checkPicks(this.path, variable, picks, [this.geo.height, this.geo.width]);
    const [ys, xs] = picks as [Int32Array, Int32Array];
    // The typical (median) spacing: a view's picks are regular but for a cell added at an edge.
    const spacing = (list: Int32Array) => {
      if (list.length < 2) return Infinity;
      const steps = Int32Array.from({ length: list.length - 1 }, (_, k) => list[k + 1]! - list[k]!).sort();
      return steps[steps.length >> 1]!;
    };
    const shape = [ys.length, xs.length];
    if (ys.length === 0 || xs.length === 0)
      return { dtype: band.dtype, shape, data: newTypedArray(band.dtype as NumericDType, 0) };
    const { image, width, height } = await this.pickImage(spacing(xs), spacing(ys));
    // Ascending still (picks closer than an overview cell, at an edge, may share one).
    const toImage = (list: Int32Array, full: number, reduced: number) =>
      list.map((p) => Math.min(reduced - 1, Math.floor(((p + 0.5) * reduced) / full)));
    const rows = toImage(ys, this.geo.height, height);
    const cols = toImage(xs, this.geo.width, width);
    return { dtype: band.dtype, shape, data: await this.readCells(image, band, rows, cols, signal) };
  }

  /**
   * The cells of `image` at rows × cols (both ascending), row-major. Only the block rows holding
   * wanted rows are decoded, in bounded pieces.
   */
  private async readCells(
    image: GeoTIFFImage,
    band: BandMeta,
    rows: Int32Array,
    cols: Int32Array,
    signal: AbortSignal | undefined,
  ): Promise<NumericArray> {
    const outWidth = cols.length;
    const outHeight = rows.length;
    const colMin = cols[0]!;
    const colMax = cols[outWidth - 1]!;
    const out = newTypedArray(band.dtype as NumericDType, outWidth * outHeight);
    const blockHeight = image.getTileHeight();
    const grid: BlockGrid = { blockWidth: image.getTileWidth(), blockHeight, tiled: image.isTiled };
    // Output rows whose source rows lie in the same or adjacent block rows share one read (split in
    // bounded pieces): one geotiff.js call per thin strip costs more than decoding a skipped strip.
    // Block rows two or more apart are not read at all, so a strong decimation decodes little.
    for (let first = 0; first < outHeight;) {
      let last = first;
      while (
        last + 1 < outHeight &&
        Math.floor(rows[last + 1]! / blockHeight) - Math.floor(rows[last]! / blockHeight) <= 1
      )
        last++;
      const span: PixelBox = [colMin, rows[first]!, colMax + 1, rows[last]! + 1];
      for (const piece of planPieces(span, grid, band.itemBytes, this.maxChunkBytes)) {
        throwIfAborted(signal);
        const data = await this.readBox(image, band, piece, signal);
        const pieceWidth = piece[2] - piece[0];
        for (let r = first; r <= last; r++) {
          const row = rows[r]!;
          if (row < piece[1] || row >= piece[3]) continue;
          const base = (row - piece[1]) * pieceWidth - piece[0];
          for (let c = 0; c < outWidth; c++) {
            const col = cols[c]!;
            if (col >= piece[0] && col < piece[2]) out[r * outWidth + c] = data[base + col]!;
          }
        }
      }
      first = last + 1;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tiff.close();
  }

  // ---- metadata --------------------------------------------------------------------------

  private describeBands(items: GdalMetadataItem[]): BandMeta[] {
    const count = this.image.getSamplesPerPixel();
    const nodata = parseGdalNodata(tagString(this.image.fileDirectory.getValue(TAG.GdalNodata)));
    const bandItems = (sample: number) => items.filter((i) => i.sample === sample && i.domain === undefined);
    const descriptions = Array.from(
      { length: count },
      (_, s) =>
        bandItems(s)
          .find((i) => i.role === 'description')
          ?.value.trim() ?? '',
    );
    // Descriptions become names only if every band has one, unique and not clashing with x / y.
    const useDescriptions =
      descriptions.every((d) => d !== '' && d !== 'x' && d !== 'y') && new Set(descriptions).size === count;
    return Array.from({ length: count }, (_, sample) => {
      const format = this.image.getSampleFormat(sample);
      const bits = this.image.getBitsPerSample(sample);
      const dtype = sampleDType(format, bits);
      if (!dtype)
        throw new CorruptFileError(
          this.path,
          `band ${sample + 1}: unsupported sample type (SampleFormat ${format}, ${bits} bits)`,
        );
      const attrs = bandAttrs(bandItems(sample), nodata);
      const name = useDescriptions ? descriptions[sample]! : `band${sample + 1}`;
      if (useDescriptions && attrs['long_name'] === undefined) attrs['long_name'] = descriptions[sample]!;
      return { name, sample, dtype, itemBytes: bits / 8, attrs };
    });
  }

  private describeDataset(items: GdalMetadataItem[]): DatasetInfo {
    const { width, height, geographic, georeferenced } = this.geo;
    const chunks = [this.grid.blockHeight, this.grid.blockWidth];
    const variables: VariableInfo[] = [
      ...this.bands.map((b) => ({
        name: b.name,
        dtype: b.dtype,
        dims: ['y', 'x'],
        shape: [height, width],
        chunks,
        attrs: b.attrs,
      })),
      { name: 'x', dtype: 'f8', dims: ['x'], shape: [width], attrs: axisAttrs('x', geographic, georeferenced) },
      { name: 'y', dtype: 'f8', dims: ['y'], shape: [height], attrs: axisAttrs('y', geographic, georeferenced) },
    ];
    return { format: 'geotiff', dims: { y: height, x: width }, variables, attrs: globalAttrs(items) };
  }

  // ---- requests --------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new Error(`${this.path}: reader is closed`);
  }

  private band(name: string): BandMeta {
    const band = this.byName.get(name);
    if (!band) {
      const known = [...this.bands.map((b) => b.name), 'x', 'y'].join(', ');
      throw new ReaderRequestError(`unknown variable "${name}" in ${this.path} (variables: ${known})`);
    }
    return band;
  }

  private checkWindow(window: Window | undefined): void {
    checkWindow(
      this.path,
      window,
      (d) => (d === 'x' ? this.geo.width : d === 'y' ? this.geo.height : undefined),
      () => ['y', 'x'],
    );
  }

  private box(window: Window | undefined): PixelBox {
    this.checkWindow(window);
    const [x0, x1] = window?.['x'] ?? [0, this.geo.width];
    const [y0, y1] = window?.['y'] ?? [0, this.geo.height];
    return [x0, y0, x1, y1];
  }

  private axisRange(axis: 'x' | 'y', window: Window | undefined): [number, number] {
    this.checkWindow(window);
    return window?.[axis] ?? [0, axis === 'x' ? this.geo.width : this.geo.height];
  }

  private coordinates(axis: 'x' | 'y', start: number, stop: number): Float64Array {
    const t = this.geo.transform;
    // Rotated grids have no separable axes; the values are those along row 0 / column 0.
    return axis === 'x' ? cellCentres(t[0], t[1], start, stop - start) : cellCentres(t[3], t[5], start, stop - start);
  }

  /** The coarsest image whose pixels are no larger than the requested ones (full resolution if none). */
  private async pickImage(
    pixelsPerOutX: number,
    pixelsPerOutY: number,
  ): Promise<{ image: GeoTIFFImage; width: number; height: number }> {
    const tolerance = 1e-9;
    let chosen = { image: this.image, width: this.geo.width, height: this.geo.height };
    for (const o of this.geo.overviews) {
      const fits =
        this.geo.width / o.width <= pixelsPerOutX * (1 + tolerance) &&
        this.geo.height / o.height <= pixelsPerOutY * (1 + tolerance);
      if (!fits) break; // overviews are sorted from finest to coarsest
      chosen = { image: await this.tiff.getImage(o.index), width: o.width, height: o.height };
      this.ifd.set(chosen.image, o.index);
    }
    return chosen;
  }

  private async readBox(
    image: GeoTIFFImage,
    band: BandMeta,
    box: PixelBox,
    signal: AbortSignal | undefined,
  ): Promise<NumericArray> {
    if (box[2] <= box[0] || box[3] <= box[1]) return newTypedArray(band.dtype as NumericDType, 0);
    const ifd = this.ifd.get(image) ?? 0;
    geotiffImageReads[ifd] = (geotiffImageReads[ifd] ?? 0) + 1;
    try {
      let arrays: TypedArray[];
      if (this.ycbcr) {
        // Uncompressed YCbCr samples: readRGB converts, as GDAL does.
        arrays = await image.readRGB({ window: box, interleave: false, signal });
      } else {
        // JPEG tiles of YCbCr images come out of libjpeg-turbo as RGB (jpeg.ts), as GDAL reads them.
        arrays = await image.readRasters({ window: box, samples: [band.sample], interleave: false, signal });
      }
      const data = arrays[this.ycbcr ? band.sample : 0];
      if (!data) throw new Error(`no data for sample ${band.sample}`);
      return data;
    } catch (err) {
      if (isAbort(err) || signal?.aborted) throw signal?.reason ?? err;
      throw new CorruptFileError(this.path, `cannot decode ${band.name} [${box.join(', ')}]: ${message(err)}`);
    }
  }
}

/** Opens a GeoTIFF / COG; the caller owns the reader and must close it. */
export function openGeoTiff(filePath: string, options?: GeoTiffReaderOptions): Promise<GeoTiffReader> {
  return GeoTiffReader.open(filePath, options);
}
