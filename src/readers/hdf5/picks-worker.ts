/**
 * Worker thread decoding the chunks of a decimated read (Reader.readPicks on chunk-direct HDF5):
 * positional read, inflate, fletcher32 check, then only the picked cells are written into the
 * read's shared output (straight from the shuffled bytes: no unshuffle of cells nobody wants).
 * Inflating a 4 GB grid's day (120 chunks, 60 MB) on the main thread's heap cost more in garbage
 * collection than in zlib; here each worker's heap is tiny, and the workers run on every core.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { inflateSync } from 'node:zlib';
import { serveTasks, type TaskOutcome } from '../../workers/pool.js';
import {
  checkFletcher32,
  ChunkDecodeError,
  FILTER_DEFLATE,
  FILTER_FLETCHER32,
  FILTER_SHUFFLE,
  unshuffle,
} from './filters.js';
import { copyPicked, stridesOf } from './picks.js';
import type { PicksResult, PicksTask } from './picks-protocol.js';

/** Open files by key (path, size, mtime): a rewritten file is a new key, never a stale descriptor. */
const files = new Map<string, number>();
const MAX_FILES = 8;

function fileOf(task: PicksTask): number {
  let fd = files.get(task.fileKey);
  if (fd !== undefined) return fd;
  fd = openSync(task.path, 'r');
  files.set(task.fileKey, fd);
  while (files.size > MAX_FILES) {
    const [key, old] = files.entries().next().value as [string, number];
    files.delete(key);
    closeSync(old);
  }
  return fd;
}

/** Stored bytes of one chunk, read into a buffer reused from chunk to chunk. */
let scratch = Buffer.alloc(0);

function decodeChunks(task: PicksTask): TaskOutcome<PicksResult> {
  const fd = fileOf(task);
  const { chunkShape, itemSize, filters } = task;
  const chunkBytes = chunkShape.reduce((a, b) => a * b, itemSize);
  const chunkCells = chunkBytes / itemSize;
  const out = new Uint8Array(task.out);
  const outStrides = stridesOf(task.picks.map((p) => p.length));
  const chunkStrides = stridesOf(chunkShape);
  for (const c of task.chunks) {
    if (scratch.length < c.size) scratch = Buffer.alloc(Math.max(c.size, scratch.length * 2));
    const got = readSync(fd, scratch, 0, c.size, c.offset);
    if (got !== c.size) throw new ChunkDecodeError(`chunk at byte ${c.offset} is cut short by the end of the file`);
    const cells = c.ranges.reduce((n, r) => n * (r.to - r.from), 1);
    // Few cells wanted: gathered from the shuffled bytes (the shuffle is the pipeline's first filter).
    const shuffledGather =
      itemSize > 1 && filters[0]?.id === FILTER_SHUFFLE && (c.mask & 1) === 0 && cells * 4 <= chunkCells;
    let data: Uint8Array = scratch.subarray(0, c.size);
    try {
      for (let i = filters.length - 1; i >= (shuffledGather ? 1 : 0); i--) {
        if (c.mask & (1 << i)) continue;
        const f = filters[i]!;
        if (f.id === FILTER_DEFLATE) data = inflateSync(data, { maxOutputLength: chunkBytes + 4 });
        else if (f.id === FILTER_SHUFFLE) data = unshuffle(data, f.values[0] ?? itemSize);
        else if (f.id === FILTER_FLETCHER32) data = checkFletcher32(data);
        else throw new ChunkDecodeError(`filter ${f.id} is not decoded natively`);
      }
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new ChunkDecodeError(`chunk at byte ${c.offset}: ${detail}`);
    }
    if (data.length < chunkBytes)
      throw new ChunkDecodeError(`chunk at byte ${c.offset} holds ${data.length} bytes, ${chunkBytes} expected`);
    copyPicked(data, shuffledGather, chunkStrides, c.origin, task.picks, c.ranges, out, outStrides, itemSize);
  }
  return { value: { decoded: task.chunks.length } };
}

if (!isMainThread) serveTasks<PicksTask, PicksResult>(decodeChunks);
