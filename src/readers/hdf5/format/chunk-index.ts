/**
 * Chunk indexes: from a chunked dataset's layout message to the list of its stored chunks. Covered:
 * the version-1 B-tree of layout v3 (netCDF-4 and h5py defaults) and the layout-v4 single-chunk,
 * implicit and unpaged fixed-array indexes. Extensible arrays and version-2 B-trees (unlimited
 * dimensions written with the latest file format) are reported as not covered.
 */
import { Cursor, FormatError, UNDEFINED_ADDRESS, type ReadAt, type Widths } from './cursor.js';
import type { Layout } from './messages.js';

export interface StoredChunk {
  /** Chunk-grid coordinates (element offset divided by the chunk shape), one per dimension. */
  coords: number[];
  /** Absolute file offset of the stored (filtered) bytes. */
  address: number;
  /** Stored bytes. */
  size: number;
  /** Bit i set: filter i of the pipeline was skipped for this chunk. */
  mask: number;
}

export class NotCoveredError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'NotCoveredError';
  }
}

type Chunked = Extract<Layout, { kind: 'chunked' }>;

export interface IndexContext {
  readAt: ReadAt;
  widths: Widths;
  base: number;
  shape: number[];
  /** Maximum dimensions: implicit and fixed-array indexes number chunks over this grid. */
  maxShape: number[];
  itemSize: number;
}

/** Guards against a corrupt B-tree whose children point back up the tree. */
const MAX_BTREE_DEPTH = 64;

export async function readChunkIndex(layout: Chunked, ctx: IndexContext): Promise<StoredChunk[]> {
  if (layout.address === UNDEFINED_ADDRESS) return []; // nothing written yet: every chunk is fill
  // Implicit and fixed-array indexes exist only without unlimited dimensions: their chunks are
  // numbered row-major over the grid of the maximum dimensions.
  const grid = ctx.maxShape.map((n, i) => Math.ceil((Number.isFinite(n) ? n : ctx.shape[i]!) / layout.chunkShape[i]!));
  const chunkBytes = layout.chunkShape.reduce((a, b) => a * b, ctx.itemSize);
  switch (layout.index) {
    case 'btree1':
      return readBtree1(layout, ctx);
    case 'single':
      return [
        {
          coords: grid.map(() => 0),
          address: ctx.base + layout.address,
          size: layout.singleSize ?? chunkBytes,
          mask: layout.singleMask ?? 0,
        },
      ];
    case 'implicit': {
      const out: StoredChunk[] = [];
      const total = grid.reduce((a, b) => a * b, 1);
      for (let k = 0; k < total; k++)
        out.push({
          coords: unravel(k, grid),
          address: ctx.base + layout.address + k * chunkBytes,
          size: chunkBytes,
          mask: 0,
        });
      return out;
    }
    case 'fixed-array':
      return readFixedArray(layout, ctx, grid, chunkBytes);
    default:
      throw new NotCoveredError(`chunk index ${layout.index} is not covered`);
  }
}

function unravel(k: number, grid: number[]): number[] {
  const coords = new Array<number>(grid.length);
  for (let d = grid.length - 1; d >= 0; d--) {
    coords[d] = k % grid[d]!;
    k = Math.floor(k / grid[d]!);
  }
  return coords;
}

async function readBtree1(layout: Chunked, ctx: IndexContext): Promise<StoredChunk[]> {
  const rank = layout.chunkShape.length;
  const { offsetSize } = ctx.widths;
  const keyBytes = 8 + 8 * (rank + 1);
  const out: StoredChunk[] = [];
  const visit = async (address: number, depth: number): Promise<void> => {
    if (depth > MAX_BTREE_DEPTH) throw new FormatError('chunk B-tree deeper than 64 levels');
    const headBytes = 8 + 2 * offsetSize;
    const head = new Cursor(await ctx.readAt(ctx.base + address, headBytes), ctx.widths);
    head.signature('TREE');
    const type = head.u8();
    if (type !== 1) throw new FormatError(`B-tree node type ${type} where chunk index expected`);
    const level = head.u8();
    const entries = head.u16();
    const body = await ctx.readAt(ctx.base + address + headBytes, (entries + 1) * keyBytes + entries * offsetSize);
    const c = new Cursor(body, ctx.widths);
    const children: number[] = [];
    for (let i = 0; i < entries; i++) {
      const size = c.u32();
      const mask = c.u32();
      const coords: number[] = [];
      for (let d = 0; d < rank; d++) coords.push(c.uint(8) / layout.chunkShape[d]!);
      c.skip(8); // the element-size dimension's offset, always 0
      const child = c.address();
      if (level === 0) out.push({ coords, address: ctx.base + child, size, mask });
      else children.push(child);
    }
    // Siblings are independent: read them concurrently (the file source bounds the I/O).
    await Promise.all(children.map((child) => visit(child, depth + 1)));
  };
  await visit(layout.address, 0);
  for (const ch of out) {
    if (ch.coords.some((x) => !Number.isInteger(x))) throw new FormatError('chunk offset not on the chunk grid');
  }
  return out;
}

async function readFixedArray(
  layout: Chunked,
  ctx: IndexContext,
  grid: number[],
  chunkBytes: number,
): Promise<StoredChunk[]> {
  const { offsetSize, lengthSize } = ctx.widths;
  const hc = new Cursor(await ctx.readAt(ctx.base + layout.address, 4 + 4 + lengthSize + offsetSize + 4), ctx.widths);
  hc.signature('FAHD');
  hc.u8(); // version
  const client = hc.u8();
  const entrySize = hc.u8();
  const pageBits = hc.u8();
  const count = hc.length();
  const blockAddress = hc.address();
  if (count > 2 ** pageBits) throw new NotCoveredError('paged fixed-array chunk index is not covered');
  if (blockAddress === UNDEFINED_ADDRESS) return [];
  const prefix = 4 + 2 + offsetSize;
  const c = new Cursor(await ctx.readAt(ctx.base + blockAddress, prefix + count * entrySize), ctx.widths);
  c.signature('FADB');
  c.skip(2 + offsetSize);
  const out: StoredChunk[] = [];
  for (let k = 0; k < count; k++) {
    const address = c.address();
    let size = chunkBytes;
    let mask = 0;
    if (client === 1) {
      size = c.uint(entrySize - offsetSize - 4);
      mask = c.u32();
    }
    if (address !== UNDEFINED_ADDRESS) out.push({ coords: unravel(k, grid), address: ctx.base + address, size, mask });
  }
  return out;
}
