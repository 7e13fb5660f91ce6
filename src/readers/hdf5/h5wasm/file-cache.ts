/**
 * The h5wasm files a worker keeps open (LRU), reopened when the file changes on disk, with the
 * per-dataset metadata reads need cached beside each handle.
 */
import fs from 'node:fs';
import h5wasm, { type File as H5File, type Metadata } from 'h5wasm/node';
import type { DType } from '../../types.js';
import type { Hdf5InfoResult } from '../worker-protocol.js';
import { Hdf5Fault, summarizeHdf5Error } from './errors.js';

export interface DatasetEntry {
  meta: Metadata;
  dtype: DType | undefined;
  filters: number[];
}

export interface OpenFile {
  file: H5File;
  mtimeMs: number;
  size: number;
  info?: Hdf5InfoResult;
  datasets: Map<string, DatasetEntry>;
}

export class FileCache {
  private readonly files = new Map<string, OpenFile>();
  constructor(private readonly capacity: number) {}

  get(filePath: string): OpenFile {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(filePath);
    } catch (err) {
      this.evict(filePath); // a deleted file must not pin its old handle
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Hdf5Fault('notfound', `${filePath}: no such file`, { path: filePath });
      throw err;
    }
    let entry = this.files.get(filePath);
    // A file replaced on disk must not be served from the old handle.
    if (entry && (entry.mtimeMs !== stat.mtimeMs || entry.size !== stat.size)) {
      this.evict(filePath);
      entry = undefined;
    }
    if (entry) {
      this.files.delete(filePath); // re-insert: most recently used last
      this.files.set(filePath, entry);
      return entry;
    }
    if (!stat.isFile()) throw new Hdf5Fault('corrupt', `${filePath}: not a regular file`, { path: filePath });
    let file: H5File;
    try {
      file = new h5wasm.File(filePath, 'r');
    } catch (err) {
      throw new Hdf5Fault('corrupt', `${filePath}: not a readable HDF5 file: ${summarizeHdf5Error(err)}`, {
        path: filePath,
      });
    }
    entry = { file, mtimeMs: stat.mtimeMs, size: stat.size, datasets: new Map() };
    this.files.set(filePath, entry);
    while (this.files.size > this.capacity) {
      const oldest = this.files.keys().next().value as string;
      this.evict(oldest);
    }
    return entry;
  }

  private evict(filePath: string): void {
    const entry = this.files.get(filePath);
    this.files.delete(filePath);
    try {
      entry?.file.close();
    } catch {
      // a handle HDF5 cannot close is still dropped; nothing else to do from here
    }
  }
}
