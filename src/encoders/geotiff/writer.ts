/**
 * Streaming GeoTIFF writer: tiled, one band per plane (PlanarConfiguration 2), little-endian,
 * classic TIFF or BigTIFF, uncompressed or DEFLATE, GDAL's nodata / metadata tags.
 *
 * Layout: header, IFD, tag values, then the tiles band by band, top to bottom, left to right.
 * The IFD comes first in both modes (what cloud-optimised readers want: one read gets the
 * directory), and the header points at it.
 *
 * - `none`: every tile has the same size, so every offset is known before any pixel arrives. The
 *   header goes out at once and each tile row follows as soon as its rows are in: memory is one
 *   tile row of one band, whatever the raster size.
 * - `deflate`: a TIFF is only readable from its header, and the header (or an IFD it points to at
 *   a fixed place) must hold every tile's offset, i.e. the compressed size of every tile before
 *   it. No single pass can write the header before knowing them: with the IFD at the end, the
 *   header's IFD pointer is the total compressed size; with the IFD first, its TileOffsets are.
 *   So tiles are compressed as their rows arrive (zlib on the libuv thread pool, a few at a
 *   time) into a spool, in memory up to `spoolMemoryBytes` and then in a temporary file; when
 *   the input ends, the header + IFD are emitted, then the spooled tiles. Memory stays bounded;
 *   the first byte waits for the last tile. (Alternatives rejected: two passes over the input,
 *   which needs a re-readable source and compresses twice; reserving compressBound() per tile,
 *   which makes the file as large as an uncompressed one.)
 *
 * Bands go to separate planes because the input arrives band after band (as Reader.read streams
 * variables): with pixel interleaving, a tile could only be written once every band's rows were
 * in, i.e. after buffering whole bands.
 */
import { promisify } from 'node:util';
import { deflate as deflateCallback } from 'node:zlib';
import { resolveDef, type GeoTiffDef, type ResolvedDef } from './def.js';
import { checkValues, encodeHeaderAndIfd, headerSize } from './ifd.js';
import { TileSpool } from './spool.js';
import { geoTiffTags } from './tags.js';
import { tileRows, type RowBand } from './tiler.js';

export type { GeoTiffBandInfo, GeoTiffDef, GeoTiffDType } from './def.js';
export { InputOrderError, type PixelArray, type RowBand } from './tiler.js';

const deflate = promisify(deflateCallback);

/** Where things are in the output, known before its first byte. */
export interface GeoTiffLayout {
  bigTiff: boolean;
  /** Header + IFD + tag values: offset of the first tile. */
  headerBytes: number;
  /** Tile bytes (compressed sizes for DEFLATE). */
  dataBytes: number;
  /** Exact length of the output. */
  totalBytes: number;
}

export interface WriteGeoTiffOptions {
  /** Called once, before the first byte is yielded (e.g. to set Content-Length). */
  onLayout?: (layout: GeoTiffLayout) => void;
}

/** Classic TIFF offsets are 32-bit. */
const CLASSIC_LIMIT = 0xffffffff;

/** DEFLATE jobs in flight: the libuv pool has 4 threads by default, shared with fs. */
const DEFLATE_CONCURRENCY = 4;

/** Header + IFD bytes for a layout whose tile byte counts are `byteCounts`. */
function planLayout(def: ResolvedDef, byteCounts: ArrayLike<number>): { layout: GeoTiffLayout; head: Uint8Array } {
  let dataBytes = 0;
  for (let i = 0; i < byteCounts.length; i++) dataBytes += byteCounts[i]!;
  const zeros = new Array<number>(def.tileCount).fill(0);
  const classicHeader = headerSize(geoTiffTags(def, zeros, zeros, false), false);
  const fitsClassic = classicHeader + dataBytes <= CLASSIC_LIMIT;
  if (def.bigTiff === false && !fitsClassic) {
    throw new RangeError(
      `GeoTIFF output of ${classicHeader + dataBytes} bytes needs BigTIFF (bigTiff: false was requested)`,
    );
  }
  const bigTiff = def.bigTiff === true || !fitsClassic;
  const headerBytes = bigTiff ? headerSize(geoTiffTags(def, zeros, zeros, true), true) : classicHeader;
  const offsets = new Array<number>(def.tileCount);
  let at = headerBytes;
  for (let i = 0; i < def.tileCount; i++) {
    offsets[i] = at;
    at += byteCounts[i]!;
  }
  const head = encodeHeaderAndIfd(geoTiffTags(def, offsets, byteCounts, bigTiff), bigTiff);
  if (head.byteLength !== headerBytes)
    throw new Error(`GeoTIFF header is ${head.byteLength} bytes, ${headerBytes} were planned`);
  return { layout: { bigTiff, headerBytes, dataBytes, totalBytes: headerBytes + dataBytes }, head };
}

function uncompressedCounts(def: ResolvedDef): number[] {
  return new Array<number>(def.tileCount).fill(def.tileSize * def.tileSize * def.itemBytes);
}

/**
 * Exact size of an uncompressed output (known before writing, for Content-Length); undefined
 * for DEFLATE, whose size is known only once every tile is compressed (see `onLayout`).
 */
export function geoTiffSize(def: GeoTiffDef): number | undefined {
  const resolved = resolveDef(def);
  if (resolved.compression !== 'none') return undefined;
  return planLayout(resolved, uncompressedCounts(resolved)).layout.totalBytes;
}

/**
 * The GeoTIFF file as a stream of byte chunks. `rows` delivers every row of every band, band
 * after band (see RowBand); chunks may be any height. The definition is validated before the
 * first row is read; input out of order or incomplete throws InputOrderError.
 */
export async function* writeGeoTiff(
  def: GeoTiffDef,
  rows: AsyncIterable<RowBand> | Iterable<RowBand>,
  options: WriteGeoTiffOptions = {},
): AsyncGenerator<Uint8Array> {
  const resolved = resolveDef(def);
  if (resolved.compression === 'none') yield* writeUncompressed(resolved, rows, options);
  else yield* writeDeflate(resolved, rows, options);
}

async function* writeUncompressed(
  def: ResolvedDef,
  rows: AsyncIterable<RowBand> | Iterable<RowBand>,
  options: WriteGeoTiffOptions,
): AsyncGenerator<Uint8Array> {
  const { layout, head } = planLayout(def, uncompressedCounts(def));
  options.onLayout?.(layout);
  yield head;
  for await (const tileRow of tileRows(def, rows)) {
    for (let col = 0; col < def.tilesAcross; col++) yield tileRow.tile(col);
  }
}

async function* writeDeflate(
  def: ResolvedDef,
  rows: AsyncIterable<RowBand> | Iterable<RowBand>,
  options: WriteGeoTiffOptions,
): AsyncGenerator<Uint8Array> {
  // Tag values are checked now: the header is only encoded after every tile is compressed.
  const zeros = new Array<number>(def.tileCount).fill(0);
  for (const entry of geoTiffTags(def, zeros, zeros, false)) checkValues(entry, false);
  const spool = new TileSpool(def.spoolMemoryBytes, def.tempDir);
  try {
    const zlibOptions = { level: def.deflateLevel };
    for await (const tileRow of tileRows(def, rows)) {
      // Tiles are cut (copied) when queued, so the row buffer may be reused as soon as this loop ends.
      const inFlight: Promise<Uint8Array>[] = [];
      try {
        for (let col = 0; col < def.tilesAcross; col++) {
          inFlight.push(deflate(tileRow.tile(col), zlibOptions));
          if (inFlight.length >= DEFLATE_CONCURRENCY) await spool.append(await inFlight.shift()!);
        }
        while (inFlight.length > 0) await spool.append(await inFlight.shift()!);
      } catch (err) {
        // The jobs still running must not surface later as unhandled rejections.
        for (const pending of inFlight) pending.catch(() => undefined);
        throw err;
      }
    }
    const { layout, head } = planLayout(def, spool.byteCounts);
    options.onLayout?.(layout);
    yield head;
    yield* spool.drain();
  } finally {
    await spool.dispose();
  }
}
