import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export const DATA_EXTENSIONS = /\.(nc|nc3|nc4|cdf|netcdf|h5|hdf5|hdf|he5|bag|tif|tiff)$/i;

export interface FoundFile {
  /** Path relative to the root, '/'-separated. */
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

/** Whether `child` (a real path) lies inside `root` (a real path). */
export function isInside(root: string, child: string): boolean {
  const r = relative(root, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && !/^[A-Za-z]:/.test(r));
}

/**
 * Every data file under `root`, sorted. Symbolic links are followed only when they resolve inside
 * the root: nothing outside a data root is ever read or served.
 */
export async function walkDataFiles(root: string, onSkip: (path: string, why: string) => void): Promise<FoundFile[]> {
  const realRoot = await realpath(root);
  const out: FoundFile[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
      const st = e.isSymbolicLink() ? await stat(target) : await lstat(abs);
      if (st.isDirectory()) {
        if (e.isSymbolicLink()) {
          onSkip(abs, 'symbolic link to a folder (not followed, to avoid cycles)');
          continue;
        }
        await visit(abs);
      } else if (st.isFile() && DATA_EXTENSIONS.test(e.name)) {
        out.push({ rel: relative(realRoot, abs).split(sep).join('/'), abs: target, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  await visit(realRoot);
  return out;
}
