/**
 * The catalog as the rest of odas sees it, whatever holds it: an embedded SQLite file (the default,
 * one machine) or a PostgreSQL/PostGIS database (several odas replicas sharing one catalog).
 * Everything that reaches the database is asynchronous; what every request needs at once (the
 * collections, their kinds and stats) is held in memory and reloaded after commits.
 */
import type { ManifestStore } from '../../readers/hdf5/manifest.js';
import type { FileCommit, FileRemoval, FileState, FileStatus } from './ledger.js';
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

type BackendKind = 'sqlite' | 'postgresql';

/** The files table: what the indexer knows of each data file, and the indexing lease. */
export interface CatalogLedger {
  folder(root: string, folder: string): Promise<Map<string, FileState>>;
  folderCounts(root: string, folder: string): Promise<{ files: number; failed: number }>;
  folders(root: string): Promise<string[]>;
  roots(): Promise<string[]>;
  folderCollections(root: string, folder: string): Promise<Array<{ rel: string; collection: string }>>;
  collectionRoot(id: string): Promise<string | null | undefined>;
  collectionHasOtherFiles(id: string, root: string, folder: string | undefined, rel: string): Promise<boolean>;
  collectionFiles(id: string, limit?: number): Promise<Array<{ rel: string; entry: unknown }>>;
  /** Files of a collection (from its stats: no query). */
  fileCount(id: string): number;
  failures(limit: number): Promise<Array<{ root: string; file: string; error: string; at: string }>>;
  counts(): Promise<Record<FileStatus, number>>;
  /** Write file states with their items and remove files, atomically; the ids of collections changed. */
  commit(files: FileCommit[], removed?: FileRemoval[]): Promise<Set<string>>;
  /**
   * Take or renew the indexing lease (one indexer per catalog); `ttlMs` bounds how long a dead
   * holder keeps it where the backend cannot tell a dead process by itself.
   */
  lease(owner: string, ttlMs: number): Promise<boolean>;
  release(owner: string): Promise<void>;
}

export interface CatalogBackend {
  readonly kind: BackendKind;
  /** What the status document and logs name: the file, or the database URL without its password. */
  readonly location: string;
  /** Set when the catalog was unreadable at open and rebuilt (the server logs it). */
  readonly recovered?: string;
  readonly ledger: CatalogLedger;

  // --- in memory, reloaded after commits ---
  collections(): string[];
  kindOf(collection: string): ItemKind | undefined;
  statsOf(collection: string): CollectionStats;
  /** Queryable property names and types of some collections (all when none given). */
  propertyTypes(collections?: string[]): Record<string, JsonType>;
  /** Re-read the collections and their stats (after another process committed). */
  loadCatalog(): Promise<void>;

  // --- bookkeeping ---
  meta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  /** Forget every file, collection and item (the next scan reads everything again). */
  reset(): Promise<void>;
  /** Changes whenever anything commits, here or in another process. */
  dataVersion(): Promise<string>;
  /**
   * The data version as this process has last seen it, without asking the database (HTTP cache
   * validators on every request): this process's own commits at once, others' once noticed.
   */
  seenVersion(): string;
  /**
   * Called when another process commits (PostgreSQL LISTEN/NOTIFY); false when the backend cannot
   * tell, and the caller polls dataVersion().
   */
  onRemoteCommit(listener: () => void): boolean;
  /** HDF5 chunk manifests kept in the catalog, when the backend keeps them. */
  manifests(): (ManifestStore & { forget(path: string): void }) | undefined;

  // --- the read side the APIs use ---
  search(q: SearchSpec): Promise<SearchResult>;
  /** One page of a data collection's features in file order, with the exact number matched. */
  features(
    collection: string,
    q: FeatureFilter,
    offset: number,
    limit: number,
  ): Promise<{ matched: number; rows: ItemRow[] }>;
  /** Every matching feature in file order, a batch at a time (no cursor held between batches). */
  featureBatches(collection: string, q: FeatureFilter, withLevels?: boolean): AsyncGenerator<ItemRow[]>;
  get(collection: string, id: string): Promise<ItemRow | undefined>;
  /** A profile's packed levels, when the catalog has them. */
  levels(rowid: number): Promise<Uint8Array | undefined>;
  /** Every item of a collection, in index order, a batch at a time (export). */
  itemBatches(collection: string): AsyncGenerator<ItemRow[]>;
  /** A source file of a collection with its size, when indexed (download route membership). */
  source(collection: string, rel: string): Promise<{ size: number | null } | undefined>;

  // --- the write side of static catalogs (the data files go through the ledger) ---
  sync(sources: Iterable<CollectionSource>, scope?: ItemKind[]): Promise<SyncReport>;

  close(): Promise<void>;
}
