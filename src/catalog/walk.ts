import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { zarrStoreStamp } from '../readers/zarr/stamp.js';

const DATA_EXTENSIONS = /\.(nc|nc3|nc4|cdf|netcdf|h5|hdf5|hdf|he5|bag|tif|tiff)$/i;

export interface FoundFile {
  /** Path relative to the root, '/'-separated. */
  rel: string;
  abs: string;
  /** Bytes (for a Zarr store: its metadata files' total, see zarrStoreStamp). */
  size: number;
  mtimeMs: number;
  /** A Zarr store: a directory read as one dataset. */
  store?: boolean;
}

/** Zarr stores are directories named *.zarr holding Zarr metadata; they are datasets, not folders to walk. */
const ZARR_STORE = /\.zarr$/i;

/** Whether `child` (a real path) lies inside `root` (a real path). */
export function isInside(root: string, child: string): boolean {
  const r = relative(root, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && !/^[A-Za-z]:/.test(r));
}

/** One folder's data files (relative folder path, '' for the root), or `unchanged` when a quick scan skipped it. */
export interface FolderListing {
  folder: string;
  files: FoundFile[];
  /** Quick scan: the folder's modification time is the one seen last time, so no file was added or removed. */
  unchanged: boolean;
}

/** What a scan remembers of each folder for the next quick scan: its mtime and sub-folders. */
export type FolderMemo = Map<string, { mtimeMs: number; subdirs: string[] }>;

/**
 * The data files under `root`, one folder at a time (memory holds one folder's listing, not the
 * archive's). A quick scan lists only folders whose mtime changed since `memo` saw them: files
 * added, removed or renamed into place change it; a file rewritten in place does not, which the
 * periodic full scan catches.
 */
export async function* walkFolders(
  root: string,
  onSkip: (path: string, why: string) => void,
  memo: FolderMemo,
  quick: boolean,
): AsyncGenerator<FolderListing> {
  const realRoot = await realpath(root);
  const stack: string[] = [realRoot];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const folder = relative(realRoot, dir).split(sep).join('/');
    let dirStat;
    try {
      dirStat = await stat(dir);
    } catch {
      continue; // removed while walking: the next scan drops its files
    }
    const seen = memo.get(dir);
    if (quick && seen && seen.mtimeMs === dirStat.mtimeMs) {
      for (const s of [...seen.subdirs].reverse()) stack.push(s);
      yield { folder, files: [], unchanged: true };
      continue;
    }
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      onSkip(dir, `cannot list: ${(err as Error).message}`);
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: FoundFile[] = [];
    const subdirs: string[] = [];
    const candidates: Array<{ name: string; abs: string; target: string; link: boolean }> = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const abs = join(dir, e.name);
      let target = abs;
      if (e.isSymbolicLink()) {
        try {
          target = await realpath(abs);
        } catch {
          onSkip(abs, 'broken symbolic link');
          continue;
        }
        if (!isInside(realRoot, target)) {
          onSkip(abs, 'symbolic link points outside the data root');
          continue;
        }
      }
      if (e.isDirectory() && ZARR_STORE.test(e.name)) {
        const stamp = await zarrStoreStamp(abs).catch(() => undefined);
        if (stamp)
          files.push({
            rel: relative(realRoot, abs).split(sep).join('/'),
            abs,
            size: stamp.size,
            mtimeMs: stamp.mtimeMs,
            store: true,
          });
        else subdirs.push(abs);
      } else if (e.isDirectory()) subdirs.push(abs);
      else if (DATA_EXTENSIONS.test(e.name)) candidates.push({ name: e.name, abs, target, link: e.isSymbolicLink() });
    }
    // Stat a folder's files a batch at a time: one at a time, a folder of 250 profiles waits 250 round trips.
    for (let i = 0; i < candidates.length; i += 64) {
      const batch = candidates.slice(i, i + 64);
      const stats = await Promise.all(
        batch.map((c) => (c.link ? stat(c.target) : lstat(c.abs)).catch(() => undefined)),
      );
      batch.forEach((c, k) => {
        const st = stats[k];
        if (!st) return;
        if (st.isDirectory()) onSkip(c.abs, 'symbolic link to a folder (not followed, to avoid cycles)');
        else if (st.isFile())
          files.push({
            rel: folder ? `${folder}/${c.name}` : c.name,
            abs: c.target,
            size: st.size,
            mtimeMs: st.mtimeMs,
          });
      });
    }
    memo.set(dir, { mtimeMs: dirStat.mtimeMs, subdirs });
    for (const s of [...subdirs].reverse()) stack.push(s);
    yield { folder, files, unchanged: false };
  }
}
