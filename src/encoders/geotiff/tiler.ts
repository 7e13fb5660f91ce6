/**
 * Turns row bands (any height, full width, band after band) into tile rows: the only buffer is
 * one tile row of one band (tileSize × width values), handed out as soon as it is complete.
 */
import { endianness } from 'node:os';
import { newTypedArray } from '../../readers/dtype.js';
import type { GeoTiffDType, ResolvedDef } from './def.js';

export type PixelArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | readonly number[];

/**
 * Rows `rows[0]..rows[1]` (half-open) of one band, row-major over the full width. Bands are
 * 0-based and come one after the other (all rows of band 0, then band 1…), rows in order: the
 * order in which Reader.read streams a window variable by variable. Values are converted to the
 * output type as typed arrays convert (wrapping, no clamping).
 */
export interface RowBand {
  band: number;
  rows: [start: number, stop: number];
  data: PixelArray;
}

type OutArray =
  Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** GeoTIFF sample types are never 64-bit integers, so the array is never a BigInt one. */
function outArray(dtype: GeoTiffDType, length: number): OutArray {
  return newTypedArray(dtype, length) as OutArray;
}

const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

/** The array's bytes in little-endian order (a view on little-endian hosts, a swapped copy otherwise). */
function littleEndianBytes(array: OutArray): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || array.BYTES_PER_ELEMENT === 1) return bytes;
  const size = array.BYTES_PER_ELEMENT;
  const swapped = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let j = 0; j < size; j++) swapped[i + j] = bytes[i + size - 1 - j]!;
  }
  return swapped;
}

/** One complete tile row of one band. Tiles are cut on demand, each a fresh buffer. */
export interface TileRow {
  band: number;
  /** Tile row index (0 = top). */
  row: number;
  /** Tile `col` as tileSize² values, little-endian bytes; edge tiles padded with nodata (or 0). */
  tile(col: number): Uint8Array;
}

export class InputOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputOrderError';
  }
}

/**
 * Tile rows in file order (band-major, top to bottom). The TileRow handed out is valid until the
 * next one is requested: its buffer is reused.
 */
export async function* tileRows(
  def: ResolvedDef,
  input: AsyncIterable<RowBand> | Iterable<RowBand>,
): AsyncGenerator<TileRow> {
  const { width, height, tileSize: T, dtype, bands } = def;
  const buffer = outArray(dtype, T * width);
  const pad = def.nodata ?? 0;
  let band = 0;
  let next = 0; // next row expected in `band`
  let tileRow = 0;

  const emit = (): TileRow => {
    const rowsInTile = Math.min(T, height - tileRow * T);
    const current = { band, row: tileRow };
    return {
      ...current,
      tile(col: number): Uint8Array {
        const tile = outArray(dtype, T * T);
        const x0 = col * T;
        const cols = Math.min(T, width - x0);
        if (cols < T || rowsInTile < T) tile.fill(pad);
        for (let r = 0; r < rowsInTile; r++) {
          tile.set(buffer.subarray(r * width + x0, r * width + x0 + cols), r * T);
        }
        return littleEndianBytes(tile);
      },
    };
  };

  for await (const chunk of input) {
    const [start, stop] = chunk.rows;
    if (chunk.band !== band) {
      if (chunk.band === band + 1 && next === height && band + 1 < bands) {
        band++;
        next = 0;
        tileRow = 0;
      } else {
        throw new InputOrderError(
          `GeoTIFF input: got band ${chunk.band} rows ${start}..${stop} while band ${band} is at row ${next} of ${height} (bands come in order, each complete)`,
        );
      }
    }
    if (!Number.isInteger(start) || !Number.isInteger(stop) || start !== next || stop < start || stop > height) {
      throw new InputOrderError(
        `GeoTIFF input: band ${band} expected rows from ${next}, got ${start}..${stop} (height ${height})`,
      );
    }
    if (chunk.data.length !== (stop - start) * width) {
      throw new InputOrderError(
        `GeoTIFF input: band ${band} rows ${start}..${stop} need ${(stop - start) * width} values, got ${chunk.data.length}`,
      );
    }
    let row = start;
    while (row < stop) {
      const tileEnd = Math.min(height, (tileRow + 1) * T);
      const upTo = Math.min(stop, tileEnd);
      const from = (row - start) * width;
      const values = chunk.data;
      const part = ArrayBuffer.isView(values)
        ? values.subarray(from, from + (upTo - row) * width)
        : values.slice(from, from + (upTo - row) * width);
      buffer.set(part, (row - tileRow * T) * width);
      row = upTo;
      next = upTo;
      if (upTo === tileEnd) {
        yield emit();
        tileRow++;
      }
    }
  }
  if (band !== bands - 1 || next !== height) {
    throw new InputOrderError(
      `GeoTIFF input ended at band ${band} row ${next}; ${bands} band(s) of ${height} rows were declared`,
    );
  }
}
