/**
 * Worker thread of the indexer: opens files, classifies them and turns their features into catalog
 * rows, so the main thread only writes. NetCDF-3 files (the Argo archive) are read here; HDF5 and
 * GeoTIFF files go back to the main thread, whose h5wasm pool and geotiff.js read them (h5wasm runs
 * its own workers, and geotiff.js mistakes any worker thread for one of its decoders).
 */
import { isMainThread } from 'node:worker_threads';
import { sniffFormat } from '../readers/registry.js';
import { serveTasks } from '../workers/pool.js';
import { indexFile, type FileIndex } from './file-index.js';
import { featureDraft } from './items.js';
import type { ItemDraft } from './store/types.js';
import type { FoundFile } from './walk.js';

export interface IndexTask {
  files: FoundFile[];
}

/** A file's index without its features (kept in the files table) and its features as rows. */
export interface IndexedFile {
  entry: Omit<FileIndex, 'features'>;
  drafts: ItemDraft[];
}

export type IndexTaskResult = Array<IndexedFile | { delegate: FoundFile }>;

/** Index one file into its entry and item rows (also used on the main thread for HDF5 files). */
export async function indexToRows(found: FoundFile): Promise<IndexedFile> {
  const { features, ...entry } = await indexFile(found);
  return { entry, drafts: (features ?? []).map((r, i) => featureDraft(r, r.source.index ?? i)) };
}

if (!isMainThread) {
  serveTasks<IndexTask, IndexTaskResult>(async (task) => {
    const out: IndexTaskResult = [];
    for (const f of task.files) {
      const format = await sniffFormat(f.abs).catch(() => undefined);
      out.push(format === 'hdf5' || format === 'geotiff' ? { delegate: f } : await indexToRows(f));
    }
    return { value: out };
  });
}
