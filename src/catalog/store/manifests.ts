import type { ManifestOrMiss, ManifestStore } from '../../readers/hdf5/manifest.js';
import type { CatalogStore } from './store.js';

/** Parsed manifests kept in memory (a 4 GB file's has ~5 000 chunks; parsing JSON per read would cost ~1 ms). */
const PARSED = 256;

/**
 * HDF5 chunk manifests (offset, size and filter mask of every chunk) in the catalog: taken once at
 * index time, reused by every read and after restarts. Keyed by path, size and mtime, so a file
 * rewritten since is never read with its old offsets.
 */
export class CatalogManifestStore implements ManifestStore {
  private readonly parsed = new Map<string, ManifestOrMiss>();

  constructor(private readonly store: CatalogStore) {}

  get(fileKey: string, variable: string): ManifestOrMiss | undefined {
    const k = `${fileKey}\u0000${variable}`;
    const hit = this.parsed.get(k);
    if (hit) {
      this.parsed.delete(k);
      this.parsed.set(k, hit);
      return hit;
    }
    const row = this.store
      .stmt('SELECT json FROM manifests WHERE file_key = ? AND variable = ?')
      .get(fileKey, variable) as { json: string } | undefined;
    if (!row) return undefined;
    const m = JSON.parse(row.json) as ManifestOrMiss;
    this.remember(k, m);
    return m;
  }

  put(fileKey: string, variable: string, manifest: ManifestOrMiss): void {
    this.remember(`${fileKey}\u0000${variable}`, manifest);
    this.store
      .stmt(
        'INSERT INTO manifests (file_key, path, variable, json) VALUES (?, ?, ?, ?) ON CONFLICT (file_key, variable) DO UPDATE SET json = excluded.json',
      )
      .run(fileKey, fileKey.replace(/:\d+:[\d.]+$/, ''), variable, JSON.stringify(manifest));
    this.store.noteWrite();
  }

  /** Drop the manifests of every version of a file (changed or removed). */
  forget(path: string): void {
    this.store.stmt('DELETE FROM manifests WHERE path = ?').run(path);
    for (const k of [...this.parsed.keys()]) if (k.startsWith(`${path}:`)) this.parsed.delete(k);
  }

  private remember(k: string, m: ManifestOrMiss): void {
    this.parsed.set(k, m);
    while (this.parsed.size > PARSED) this.parsed.delete(this.parsed.keys().next().value!);
  }
}
