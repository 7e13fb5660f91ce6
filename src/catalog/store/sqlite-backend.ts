/**
 * The default catalog backend: one SQLite file (CatalogStore, synchronous) behind the asynchronous
 * catalog interface. Each call runs its statements at once and resolves: the cost over calling the
 * store directly is one promise per call, not a thread hop.
 */
import type { CatalogBackend, CatalogLedger } from './backend.js';
import { FileLedger, type FileCommit, type FileRemoval, type FileState, type FileStatus } from './ledger.js';
import { CatalogManifestStore } from './manifests.js';
import { CatalogStore, type CatalogStoreOptions } from './store.js';
import type {
  CollectionSource,
  CollectionStats,
  FeatureFilter,
  ItemKind,
  ItemRow,
  JsonType,
  SearchResult,
  SearchSpec,
  SyncReport,
} from './types.js';

/** Rows per batch when a whole collection is streamed for export. */
const EXPORT_BATCH = 500;

class SqliteLedger implements CatalogLedger {
  constructor(private readonly files: FileLedger) {}
  async folder(root: string, folder: string): Promise<Map<string, FileState>> {
    return this.files.folder(root, folder);
  }
  async folderCounts(root: string, folder: string): Promise<{ files: number; failed: number }> {
    return this.files.folderCounts(root, folder);
  }
  async folders(root: string): Promise<string[]> {
    return this.files.folders(root);
  }
  async roots(): Promise<string[]> {
    return this.files.roots();
  }
  async folderCollections(root: string, folder: string): Promise<Array<{ rel: string; collection: string }>> {
    return this.files.folderCollections(root, folder);
  }
  async collectionRoot(id: string): Promise<string | null | undefined> {
    return this.files.collectionRoot(id);
  }
  async collectionHasOtherFiles(id: string, root: string, folder: string | undefined, rel: string): Promise<boolean> {
    return this.files.collectionHasOtherFiles(id, root, folder, rel);
  }
  async collectionFiles(id: string, limit?: number): Promise<Array<{ rel: string; entry: unknown }>> {
    return this.files.collectionFiles(id, limit);
  }
  fileCount(id: string): number {
    return this.files.fileCount(id);
  }
  async failures(limit: number): Promise<Array<{ root: string; file: string; error: string; at: string }>> {
    return this.files.failures(limit);
  }
  async counts(): Promise<Record<FileStatus, number>> {
    return this.files.counts();
  }
  async commit(files: FileCommit[], removed?: FileRemoval[]): Promise<Set<string>> {
    return this.files.commit(files, removed);
  }
  async lease(owner: string, ttlMs: number): Promise<boolean> {
    return this.files.lease(owner, ttlMs);
  }
  async release(owner: string): Promise<void> {
    this.files.release(owner);
  }
}

export class SqliteBackend implements CatalogBackend {
  readonly kind = 'sqlite' as const;
  readonly ledger: CatalogLedger;
  readonly recovered?: string;
  private manifestStore?: CatalogManifestStore;

  private constructor(
    readonly store: CatalogStore,
    readonly location: string,
  ) {
    this.ledger = new SqliteLedger(new FileLedger(store));
    if (store.recovered) this.recovered = store.recovered;
  }

  /** Open (or create) a catalog file; none: a temporary one removed at close. */
  static open(file: string | undefined, opts: CatalogStoreOptions = {}): SqliteBackend {
    return new SqliteBackend(CatalogStore.open(file, opts), file ?? 'temporary');
  }

  collections(): string[] {
    return this.store.collections();
  }
  kindOf(collection: string): ItemKind | undefined {
    return this.store.kindOf(collection);
  }
  statsOf(collection: string): CollectionStats {
    return this.store.statsOf(collection);
  }
  propertyTypes(collections?: string[]): Record<string, JsonType> {
    return this.store.propertyTypes(collections);
  }
  async loadCatalog(): Promise<void> {
    this.store.loadCatalog();
  }
  async meta(key: string): Promise<string | undefined> {
    return this.store.meta(key);
  }
  async setMeta(key: string, value: string): Promise<void> {
    this.store.setMeta(key, value);
  }
  async reset(): Promise<void> {
    this.store.reset();
  }
  async dataVersion(): Promise<string> {
    return this.store.dataVersion();
  }
  seenVersion(): string {
    // SQLite's own counter is a cheap pragma: always current.
    return this.store.dataVersion();
  }
  onRemoteCommit(): boolean {
    return false;
  }
  manifests(): CatalogManifestStore {
    this.manifestStore ??= new CatalogManifestStore(this.store);
    return this.manifestStore;
  }
  async search(q: SearchSpec): Promise<SearchResult> {
    return this.store.search(q);
  }
  async features(
    collection: string,
    q: FeatureFilter,
    offset: number,
    limit: number,
  ): Promise<{ matched: number; rows: ItemRow[] }> {
    return this.store.features(collection, q, offset, limit);
  }
  async *featureBatches(collection: string, q: FeatureFilter, withLevels = false): AsyncGenerator<ItemRow[]> {
    let batch: ItemRow[] = [];
    for (const row of this.store.featureRows(collection, q, withLevels)) {
      batch.push(row);
      if (batch.length >= EXPORT_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  async get(collection: string, id: string): Promise<ItemRow | undefined> {
    return this.store.get(collection, id);
  }
  async levels(rowid: number): Promise<Uint8Array | undefined> {
    return this.store.levels(rowid);
  }
  async *itemBatches(collection: string): AsyncGenerator<ItemRow[]> {
    let batch: ItemRow[] = [];
    for (const row of this.store.iterate(collection)) {
      batch.push(row);
      if (batch.length >= EXPORT_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  async source(collection: string, rel: string): Promise<{ size: number | null } | undefined> {
    return this.store.source(collection, rel);
  }
  async sync(sources: Iterable<CollectionSource>, scope?: ItemKind[]): Promise<SyncReport> {
    return this.store.sync(sources, scope);
  }
  async close(): Promise<void> {
    this.store.close();
  }
}
