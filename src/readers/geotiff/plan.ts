/**
 * Read planning for block-organised rasters (tiles or strips): streamed pieces aligned to the block
 * grid with a byte bound, and nearest-neighbour index maps for resampled reads.
 */

/** Pixel rectangle, half-open: columns x0..x1, rows y0..y1 (geotiff.js window order). */
export type PixelBox = [x0: number, y0: number, x1: number, y1: number];

export interface BlockGrid {
  blockWidth: number;
  blockHeight: number;
  /** Strips span the image width: splitting one across columns would decode it once per piece. */
  tiled: boolean;
}

/**
 * Pieces of `box`, in row-major order, of at most `maxBytes` values each where the grid allows:
 * - whole-width bands of whole block rows when one block row of the box fits;
 * - otherwise one block row at a time, split across columns on tile boundaries;
 * - a single block larger than `maxBytes` (a huge strip or tile) is split by rows, and is then
 *   decoded once per piece: the price of the memory bound for such files.
 */
export function* planPieces(box: PixelBox, grid: BlockGrid, itemBytes: number, maxBytes: number): Generator<PixelBox> {
  const [x0, y0, x1, y1] = box;
  if (x1 <= x0 || y1 <= y0) return;
  const { blockWidth, blockHeight } = grid;
  const width = x1 - x0;
  const rowBytes = width * itemBytes;
  if (rowBytes * blockHeight <= maxBytes) {
    const step = Math.max(1, Math.floor(maxBytes / (rowBytes * blockHeight))) * blockHeight;
    for (let y = y0; y < y1;) {
      const next = Math.min(y1, Math.floor(y / blockHeight) * blockHeight + step);
      yield [x0, y, x1, next];
      y = next;
    }
    return;
  }
  const tileBytes = blockWidth * blockHeight * itemBytes;
  if (grid.tiled && tileBytes <= maxBytes) {
    const colStep = Math.max(1, Math.floor(maxBytes / tileBytes)) * blockWidth;
    for (let y = y0; y < y1;) {
      const yNext = Math.min(y1, (Math.floor(y / blockHeight) + 1) * blockHeight);
      for (let x = x0; x < x1;) {
        const xNext = Math.min(x1, Math.floor(x / blockWidth) * blockWidth + colStep);
        yield [x, y, xNext, yNext];
        x = xNext;
      }
      y = yNext;
    }
    return;
  }
  const pieceWidth = grid.tiled ? Math.min(width, blockWidth) : width;
  const rows = Math.max(1, Math.floor(maxBytes / (pieceWidth * itemBytes)));
  for (let y = y0; y < y1;) {
    const blockEnd = (Math.floor(y / blockHeight) + 1) * blockHeight;
    const yNext = Math.min(y1, blockEnd, y + rows);
    for (let x = x0; x < x1;) {
      const xNext = grid.tiled ? Math.min(x1, (Math.floor(x / blockWidth) + 1) * blockWidth) : x1;
      yield [x, y, xNext, yNext];
      x = xNext;
    }
    y = yNext;
  }
}

/**
 * For each of `outCount` output cells spread evenly over [start, stop) of the full-resolution
 * grid, the index of the source cell holding its centre in an image `decimation` times coarser.
 */
export function nearestIndices(
  start: number,
  stop: number,
  outCount: number,
  decimation: number,
  sourceLength: number,
): Int32Array {
  const out = new Int32Array(outCount);
  const step = (stop - start) / outCount;
  for (let i = 0; i < outCount; i++) {
    const centre = start + (i + 0.5) * step;
    out[i] = Math.min(sourceLength - 1, Math.max(0, Math.floor(centre / decimation)));
  }
  return out;
}
