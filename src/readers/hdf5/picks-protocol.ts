/**
 * Messages between the main thread and the chunk-decoding workers of decimated reads
 * (./picks-worker.ts). Types only: the main thread never loads the worker's code.
 */
import type { PickRange } from './picks.js';

/** One stored chunk to decode and pick from. */
export interface PicksChunk {
  offset: number;
  size: number;
  /** Filter mask (bit i: filter i skipped). */
  mask: number;
  /** Chunk origin, in elements, per dimension. */
  origin: number[];
  /** Per dimension, the positions in the pick lists that fall in this chunk. */
  ranges: PickRange[];
}

export interface PicksTask {
  path: string;
  /** `${path}:${size}:${mtimeMs}` of the file the manifest describes: opened files are kept by it. */
  fileKey: string;
  filters: Array<{ id: number; values: number[] }>;
  chunkShape: number[];
  itemSize: number;
  picks: Int32Array[];
  /** The output (row-major over the picks' lengths, file byte order), shared by every task of one read. */
  out: SharedArrayBuffer;
  chunks: PicksChunk[];
}

export interface PicksResult {
  decoded: number;
}
