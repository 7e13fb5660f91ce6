import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileIndex } from './file-index.js';

// 2: grid files carry a GridSummary.
const CACHE_VERSION = 2;

interface CacheDoc {
  version: number;
  root: string;
  files: FileIndex[];
}

export function defaultCacheDir(): string {
  if (process.env['ODAS_CACHE_DIR']) return process.env['ODAS_CACHE_DIR'];
  const base = process.env['XDG_CACHE_HOME'] ?? (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'odas');
}

/** What discovery learnt about each file of one data root, keyed by path and valid while size and mtime match. */
export class IndexCache {
  private readonly entries = new Map<string, FileIndex>();
  private dirty = false;

  private constructor(private readonly file: string | undefined, private readonly root: string) {}

  static async open(cacheDir: string | undefined, root: string): Promise<IndexCache> {
    if (!cacheDir) return new IndexCache(undefined, root);
    const file = join(cacheDir, `index-${createHash('sha1').update(root).digest('hex').slice(0, 16)}.json`);
    const cache = new IndexCache(file, root);
    try {
      const doc = JSON.parse(await readFile(file, 'utf8')) as CacheDoc;
      if (doc.version === CACHE_VERSION && doc.root === root) for (const f of doc.files) cache.entries.set(f.rel, f);
    } catch {
      // No cache yet, or an unreadable one: index from the files.
    }
    return cache;
  }

  get(rel: string, size: number, mtimeMs: number): FileIndex | undefined {
    const e = this.entries.get(rel);
    return e && e.size === size && e.mtimeMs === mtimeMs ? e : undefined;
  }

  set(entry: FileIndex): void {
    this.entries.set(entry.rel, entry);
    this.dirty = true;
  }

  /** Keep only the files still present, and write the cache atomically when anything changed. */
  async save(present: Set<string>): Promise<void> {
    for (const k of this.entries.keys()) {
      if (!present.has(k)) {
        this.entries.delete(k);
        this.dirty = true;
      }
    }
    if (!this.file || !this.dirty) return;
    const doc: CacheDoc = { version: CACHE_VERSION, root: this.root, files: [...this.entries.values()] };
    await mkdir(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(doc));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}
