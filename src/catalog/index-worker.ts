/**
 * Worker thread of the indexer: opens files, classifies them and turns their features into catalog
 * rows, so the main thread only writes. NetCDF-3 files (the Argo archive) are read here; HDF5 and
 * GeoTIFF files go back to the main thread, whose h5wasm pool and geotiff.js read them (h5wasm runs
 * its own workers, and geotiff.js mistakes any worker thread for one of its decoders).
 */
import { isMainThread } from 'node:worker_threads';
import { closeSync, openSync, readSync } from 'node:fs';
import { sniffBytes } from '../readers/registry.js';
import { serveTasks } from '../workers/pool.js';
import { indexFile, type FileIndex, type Preread } from './file-index.js';
import { featureDraft } from './items.js';
import { prepareItems, type PreparedItems } from './store/rows.js';
import type { FoundFile } from './walk.js';

export interface IndexTask {
  files: FoundFile[];
}

/** A file's index without its features (kept in the files table) and its features as catalog rows. */
export interface IndexedFile {
  entry: Omit<FileIndex, 'features'>;
  items: PreparedItems;
}

export type IndexTaskResult = Array<IndexedFile | { delegate: FoundFile }>;

/** Files up to this size are read whole, synchronously, on the indexing thread. */
const SLURP_BYTES = 4 * 1024 * 1024;

/** Index one file into its entry and item rows (also used on the main thread for HDF5 and GeoTIFF files). */
export async function indexToRows(found: FoundFile, preread?: Preread): Promise<IndexedFile> {
  const { features, ...entry } = await indexFile(found, preread);
  return { entry, items: prepareItems((features ?? []).map((r, i) => featureDraft(r, r.source.index ?? i))) };
}

/**
 * The first bytes of a file, or all of it when small. Synchronous on purpose: this thread does
 * nothing else, and a thread-pool round trip per open, read and close is what bounded indexing
 * (both threads idle half the time, waiting for I/O of 20 KB files).
 */
function preread(f: FoundFile): Preread | { error: string } {
  let fd: number | undefined;
  try {
    fd = openSync(f.abs, 'r');
    const bytes = new Uint8Array(f.size <= SLURP_BYTES ? f.size : 8);
    const n = readSync(fd, bytes, 0, bytes.length, 0);
    const format = sniffBytes(bytes.subarray(0, Math.min(n, 8)));
    // A short read means the file changed since it was listed: read it the ordinary way.
    return f.size <= SLURP_BYTES && n === f.size ? { format, bytes } : { format };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

if (!isMainThread) {
  serveTasks<IndexTask, IndexTaskResult>(async (task) => {
    const out: IndexTaskResult = [];
    for (const f of task.files) {
      if (f.store) {
        out.push(await indexToRows(f));
        continue;
      }
      const pre = preread(f);
      if ('error' in pre) {
        out.push({
          entry: { rel: f.rel, size: f.size, mtimeMs: f.mtimeMs, skip: `cannot read: ${pre.error}` },
          items: prepareItems([]),
        });
      } else if (pre.format === 'hdf5' || pre.format === 'geotiff') {
        out.push({ delegate: f });
      } else {
        out.push(await indexToRows(f, pre));
      }
    }
    return { value: out };
  });
}
