/**
 * A cheap change stamp for a Zarr directory store, for catalogs that key datasets by size and mtime:
 * a store is a folder of many files, so it has no single size or mtime of its own.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ZarrStoreStamp {
  /** Sum of the sizes of the metadata files (root `.zmetadata`/`.zgroup`/`.zattrs`/`.zarray`, each array's `.zarray`/`.zattrs`), in bytes. */
  size: number;
  /** Latest mtime (ms since the epoch) of those files, the store folder and each array folder. */
  mtimeMs: number;
}

const ROOT_FILES = ['.zmetadata', '.zgroup', '.zattrs', '.zarray'];
const ARRAY_FILES = ['.zarray', '.zattrs'];

/**
 * Stats the metadata files and the array folders (one stat each, no chunk listing). Appending along a
 * dimension rewrites `.zarray` and `.zmetadata`; zarr-python writes each chunk to a temporary file and
 * renames it into place, which updates its array folder's mtime, so rewritten chunks change the stamp
 * too (except under nested '/'-separated chunk folders, whose parents' mtimes do not change).
 */
export async function zarrStoreStamp(store: string): Promise<ZarrStoreStamp> {
  let size = 0;
  let mtimeMs = (await stat(store)).mtimeMs;
  const add = async (file: string): Promise<void> => {
    const st = await stat(file).catch(() => undefined);
    if (!st) return;
    if (st.isFile()) size += st.size;
    mtimeMs = Math.max(mtimeMs, st.mtimeMs);
  };
  for (const f of ROOT_FILES) await add(path.join(store, f));
  const entries = await readdir(store, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = path.join(store, e.name);
    await add(dir);
    for (const f of ARRAY_FILES) await add(path.join(dir, f));
  }
  return { size, mtimeMs };
}
