import type { CatalogStore } from './store.js';
import type { CollectionStats, ItemDraft, ItemKind } from './types.js';
import type { PreparedItems } from './rows.js';
import { mergeStats } from './stats.js';

/** What the catalog remembers of one data file between runs. */
export interface FileState {
  size: number;
  mtimeMs: number;
  status: FileStatus;
}

/** ok: served; skipped: read fine but not a collection (metadata, unrecognised); failed: could not be read. */
export type FileStatus = 'ok' | 'skipped' | 'failed';

/** One file's new state, written atomically with its items (the old ones go in the same transaction). */
export interface FileCommit {
  root: string;
  rel: string;
  size: number;
  mtimeMs: number;
  status: FileStatus;
  /** Why the file is skipped or failed. */
  error?: string;
  /** What discovery learnt of the file (JSON-serialisable, features excluded). */
  entry?: unknown;
  collection?: { id: string; kind: ItemKind };
  items?: ItemDraft[] | PreparedItems;
}

export interface FileRemoval {
  root: string;
  rel: string;
}

/** A failed file as the status document lists it. Readers name the absolute path in their messages: the path relative to its root says the same. */
export function failureOf(r: { root: string; rel: string; error: string | null; indexed_at: number }): {
  root: string;
  file: string;
  error: string;
  at: string;
} {
  return {
    root: r.root,
    file: r.rel,
    error: (r.error ?? '').split(`${r.root}/`).join(''),
    at: new Date(r.indexed_at).toISOString(),
  };
}

export function folderOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/**
 * The files table of the catalog: which files were indexed (size, mtime, status, last error) and
 * which collection and item source each one feeds. A file's items are replaced in one transaction
 * with its row, so a reader sees the old file or the new one, never half of either.
 */
export class FileLedger {
  constructor(private readonly store: CatalogStore) {}

  /** The files of one folder as the catalog knows them. */
  folder(root: string, folder: string): Map<string, FileState> {
    const out = new Map<string, FileState>();
    const rows = this.store
      .stmt('SELECT rel, size, mtime, status FROM files WHERE root = ? AND folder = ?')
      .all(root, folder) as Array<{ rel: string; size: number; mtime: number; status: FileStatus }>;
    for (const r of rows) out.set(r.rel, { size: r.size, mtimeMs: r.mtime, status: r.status });
    return out;
  }

  /** How many files of a folder the catalog knows, and how many of them failed (a quick scan's tally). */
  folderCounts(root: string, folder: string): { files: number; failed: number } {
    const r = this.store
      .stmt(
        "SELECT count(*) AS files, coalesce(sum(status = 'failed'), 0) AS failed FROM files WHERE root = ? AND folder = ?",
      )
      .get(root, folder) as { files: number; failed: number };
    return r;
  }

  /** Every folder of a root that holds indexed files (to find folders that disappeared). */
  folders(root: string): string[] {
    return (
      this.store.stmt('SELECT DISTINCT folder FROM files WHERE root = ?').all(root) as Array<{ folder: string }>
    ).map((r) => r.folder);
  }

  /** Roots the catalog holds files of. */
  roots(): string[] {
    return (this.store.stmt('SELECT DISTINCT root FROM files').all() as Array<{ root: string }>).map((r) => r.root);
  }

  /** The collection each served file of a folder belongs to (to keep a folder's grouping on a rescan). */
  folderCollections(root: string, folder: string): Array<{ rel: string; collection: string }> {
    return this.store
      .stmt(
        "SELECT f.rel AS rel, c.id AS collection FROM files f JOIN collections c ON c.cid = f.cid WHERE f.root = ? AND f.folder = ? AND f.status = 'ok'",
      )
      .all(root, folder) as Array<{ rel: string; collection: string }>;
  }

  /** Root of a collection's files, or undefined for a new id. */
  collectionRoot(id: string): string | null | undefined {
    const r = this.store.stmt('SELECT root FROM collections WHERE id = ?').get(id) as
      { root: string | null } | undefined;
    return r ? r.root : undefined;
  }

  /** Whether a collection already has files outside a folder (or a single file) other than `rel`'s group. */
  collectionHasOtherFiles(id: string, root: string, folder: string | undefined, rel: string): boolean {
    const cid = this.store.cidOf(id);
    if (cid === undefined) return false;
    const row =
      folder === undefined
        ? this.store
            .stmt('SELECT 1 FROM files WHERE cid = ? AND NOT (root = ? AND rel = ?) LIMIT 1')
            .get(cid, root, rel)
        : this.store
            .stmt('SELECT 1 FROM files WHERE cid = ? AND NOT (root = ? AND folder = ?) LIMIT 1')
            .get(cid, root, folder);
    return row !== undefined;
  }

  /** A collection's files with what discovery kept of each, in path order (`limit` for big ones). */
  collectionFiles(id: string, limit = -1): Array<{ rel: string; entry: unknown }> {
    const cid = this.store.cidOf(id);
    if (cid === undefined) return [];
    const rows = this.store
      .stmt('SELECT rel, entry FROM files WHERE cid = ? ORDER BY rel LIMIT ?')
      .all(cid, limit) as Array<{ rel: string; entry: string | null }>;
    return rows.map((r) => ({ rel: r.rel, entry: r.entry ? (JSON.parse(r.entry) as unknown) : undefined }));
  }

  /** Files of a collection (kept in its stats as files are committed: no count over the archive). */
  fileCount(id: string): number {
    return this.store.statsOf(id).files ?? 0;
  }

  /**
   * Take or renew the indexing lease: one process indexes a catalog at a time, the others serve
   * what it commits. A lease not renewed for `ttlMs` (its process died) can be taken over.
   */
  lease(owner: string, ttlMs: number): boolean {
    const db = this.store.connection;
    const take = db.transaction(() => {
      const row = this.store.stmt("SELECT value FROM meta WHERE key = 'indexer'").get() as
        { value: string } | undefined;
      const now = Date.now();
      if (row) {
        const held = JSON.parse(row.value) as { owner: string; until: number };
        if (held.owner !== owner && held.until > now) return false;
      }
      this.store
        .stmt(
          "INSERT INTO meta (key, value) VALUES ('indexer', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .run(JSON.stringify({ owner, until: now + ttlMs }));
      return true;
    });
    return take.immediate();
  }

  /** Give the lease back (clean shutdown): another process may index at once. */
  release(owner: string): void {
    const row = this.store.stmt("SELECT value FROM meta WHERE key = 'indexer'").get() as { value: string } | undefined;
    if (row && (JSON.parse(row.value) as { owner: string }).owner === owner)
      this.store.stmt("DELETE FROM meta WHERE key = 'indexer'").run();
  }

  /** Files that could not be read, most recent first, with their errors. */
  failures(limit: number): Array<{ root: string; file: string; error: string; at: string }> {
    const rows = this.store
      .stmt("SELECT root, rel, error, indexed_at FROM files WHERE status = 'failed' ORDER BY indexed_at DESC LIMIT ?")
      .all(limit) as Array<{ root: string; rel: string; error: string | null; indexed_at: number }>;
    return rows.map(failureOf);
  }

  counts(): Record<FileStatus, number> {
    const out: Record<FileStatus, number> = { ok: 0, skipped: 0, failed: 0 };
    for (const r of this.store.stmt('SELECT status, count(*) AS n FROM files GROUP BY status').all() as Array<{
      status: FileStatus;
      n: number;
    }>)
      out[r.status] = r.n;
    return out;
  }

  /**
   * Write new file states and remove files, in one transaction; returns the ids of the collections
   * whose content changed (created, grown, shrunk or removed).
   */
  commit(files: FileCommit[], removed: FileRemoval[] = []): Set<string> {
    const db = this.store.connection;
    const touched = new Set<number>();
    const dirty = new Set<number>();
    const grown = new Map<number, CollectionStats>();
    const prevOf = this.store.stmt('SELECT fid, sid, cid FROM files WHERE root = ? AND rel = ?');
    const upsertCollection = this.store.stmt(
      'INSERT INTO collections (id, kind, root) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind RETURNING cid',
    );
    const insSource = this.store.stmt('INSERT INTO sources (cid, rel, stamp, size, stats) VALUES (?, ?, ?, ?, ?)');
    const updSource = this.store.stmt('UPDATE sources SET stats = ? WHERE sid = ?');
    const upsertFile = this.store
      .stmt(`INSERT INTO files (root, folder, rel, size, mtime, status, error, cid, sid, entry, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (root, rel) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, status = excluded.status, error = excluded.error, cid = excluded.cid, sid = excluded.sid, entry = excluded.entry, indexed_at = excluded.indexed_at`);
    const delFile = this.store.stmt('DELETE FROM files WHERE fid = ?');
    const ids = new Map<number, string>();
    const run = db.transaction(() => {
      const now = Date.now();
      for (const f of files) {
        const prev = prevOf.get(f.root, f.rel) as { fid: number; sid: number | null; cid: number | null } | undefined;
        if (prev?.sid) this.store.deleteSource(prev.sid);
        if (prev?.cid) {
          dirty.add(prev.cid);
          touched.add(prev.cid);
        }
        let cid: number | null = null;
        let sid: number | null = null;
        if (f.status === 'ok' && f.collection) {
          cid = (upsertCollection.get(f.collection.id, f.collection.kind, f.root) as { cid: number }).cid;
          ids.set(cid, f.collection.id);
          touched.add(cid);
          sid = Number(insSource.run(cid, f.rel, `${f.size}:${f.mtimeMs}`, f.size, '{}').lastInsertRowid);
          const stats = { ...this.store.insertItems(cid, sid, f.items ?? []), files: 1 };
          updSource.run(JSON.stringify(stats), sid);
          const g = grown.get(cid);
          grown.set(cid, g ? mergeStats(g, stats) : stats);
        }
        upsertFile.run(
          f.root,
          folderOf(f.rel),
          f.rel,
          f.size,
          f.mtimeMs,
          f.status,
          f.error ?? null,
          cid,
          sid,
          f.entry === undefined ? null : JSON.stringify(f.entry),
          now,
        );
      }
      for (const r of removed) {
        const prev = prevOf.get(r.root, r.rel) as { fid: number; sid: number | null; cid: number | null } | undefined;
        if (!prev) continue;
        if (prev.sid) this.store.deleteSource(prev.sid);
        if (prev.cid) {
          dirty.add(prev.cid);
          touched.add(prev.cid);
        }
        delFile.run(prev.fid);
      }
      for (const cid of dirty) {
        // A collection that lost a file is recounted from its sources; one left without any is gone.
        if (!this.store.refreshStats(cid)) {
          const id = (
            this.store.stmt('SELECT id FROM collections WHERE cid = ?').get(cid) as { id: string } | undefined
          )?.id;
          if (id) ids.set(cid, id);
          this.store.stmt('UPDATE files SET cid = NULL WHERE cid = ?').run(cid);
          this.store.stmt('DELETE FROM collections WHERE cid = ?').run(cid);
        }
      }
      for (const [cid, stats] of grown) if (!dirty.has(cid)) this.store.addStats(cid, stats);
    });
    for (const cid of touched) {
      const id = this.store.idOf(cid);
      if (id) ids.set(cid, id);
    }
    run();
    this.store.noteWrite();
    this.store.analyzeIfGrown();
    this.store.reloadCollections(touched);
    return new Set([...touched].map((cid) => ids.get(cid)!).filter((id) => id !== undefined));
  }
}
