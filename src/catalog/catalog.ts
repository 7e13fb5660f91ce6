import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CollectionConfig } from '../config/collection-schema.js';
import type { Collection } from './collection.js';
import { Grouping } from './group.js';
import { Indexer, type IndexStatus } from './indexer.js';
import { CollectionRegistry } from './registry.js';
import { FileLedger } from './store/ledger.js';
import { CatalogManifestStore } from './store/manifests.js';
import { CatalogStore } from './store/store.js';

/** How often a process that does not index looks for another process's commits. */
const FOLLOW_MS = 2000;

export function defaultCacheDir(): string {
  if (process.env['ODAS_CACHE_DIR']) return process.env['ODAS_CACHE_DIR'];
  const base = process.env['XDG_CACHE_HOME'] ?? (homedir() ? join(homedir(), '.cache') : tmpdir());
  return join(base, 'odas');
}

export interface CatalogOptions {
  dataRoots: string[];
  configs: CollectionConfig[];
  /** Folder of the catalog file; undefined = a temporary catalog removed at close. */
  cacheDir?: string;
  log: Logger;
  /** Indexing threads (default: every core). */
  workers?: number;
  /** Seconds between rescans of the data roots (0: no rescans). */
  rescanSeconds?: number;
  /** A file modified less than this long ago waits for the next scan (ms). */
  settleMs?: number;
  /** SQLite page cache, MiB. */
  cacheMiB?: number;
  /**
   * Keep HDF5 chunk manifests in the catalog and give them to the process's HDF5 reader (the
   * server: one catalog per process). Taken when a file is indexed, reused after restarts.
   */
  hdf5Manifests?: boolean;
}

/** The status document's content: the indexer's progress, what the catalog holds, recent failures. */
export interface CatalogStatus {
  indexing: IndexStatus;
  catalog: { file: string; collections: number; features: number; files: { ok: number; skipped: number; failed: number } };
  errors: Array<{ root: string; file: string; error: string; at: string }>;
}

/** Which collection a file belongs to depends on the configs' ids and globs only. */
function groupingRules(configs: CollectionConfig[]): string {
  return createHash('sha1').update(JSON.stringify(configs.map((c) => [c.id, c.source]))).digest('hex');
}

/** The catalog each served collection map comes from (for services opened from the map alone). */
const owners = new WeakMap<Map<string, Collection>, Catalog>();

export function catalogOf(collections: Map<string, Collection>): Catalog | undefined {
  return owners.get(collections);
}

/**
 * The archive's catalog: one SQLite file (files, collections, features, grid summaries, STAC
 * items), the collections built from it, and the background indexer that keeps it up to date.
 */
export class Catalog {
  private constructor(
    readonly store: CatalogStore,
    readonly registry: CollectionRegistry,
    readonly indexer: Indexer,
    readonly file: string,
  ) {}

  /** The catalog file for a set of data roots in a cache folder (one per set of roots). */
  static async fileFor(cacheDir: string, dataRoots: string[]): Promise<string> {
    const roots = (await Promise.all(dataRoots.map((r) => realpath(r)))).sort();
    return join(cacheDir, `catalog-${createHash('sha1').update(roots.join('\n')).digest('hex').slice(0, 16)}.sqlite`);
  }

  static async open(opts: CatalogOptions): Promise<Catalog> {
    const file = opts.cacheDir ? await Catalog.fileFor(opts.cacheDir, opts.dataRoots) : undefined;
    let store: CatalogStore;
    try {
      store = CatalogStore.open(file, opts.cacheMiB !== undefined ? { cacheMiB: opts.cacheMiB } : {});
    } catch (err) {
      throw new Error(`cannot open the catalog ${file ?? '(temporary)'}: ${(err as Error).message} (choose another folder with --cache-dir or ODAS_CACHE_DIR)`, { cause: err });
    }
    if (store.recovered) opts.log.warn({ file }, store.recovered);
    const grouping = new Grouping(opts.configs);
    // Which collection a file belongs to depends on the configs' ids and globs (titles and the like are read at each start).
    const rules = groupingRules(opts.configs);
    const before = store.meta('grouping');
    if (before !== undefined && before !== rules) {
      opts.log.warn({ file }, 'collection configs changed since the catalog was built: indexing every file again');
      store.reset();
    }
    store.setMeta('grouping', rules);
    let onHdf5File: ((abs: string) => Promise<void>) | undefined;
    if (opts.hdf5Manifests) {
      const { getHdf5Pool } = await import('../readers/hdf5/reader.js');
      const manifests = new CatalogManifestStore(store);
      getHdf5Pool().setManifestStore(manifests);
      onHdf5File = async (abs) => {
        manifests.forget(abs);
        await getHdf5Pool().takeManifests(abs);
      };
    }
    const indexer = new Indexer({
      ...(onHdf5File ? { onHdf5File } : {}),
      store,
      roots: opts.dataRoots,
      grouping,
      log: opts.log,
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
      ...(opts.rescanSeconds !== undefined ? { rescanSeconds: opts.rescanSeconds } : {}),
      ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}),
    });
    const registry = new CollectionRegistry(store, grouping, (id) => indexer.isIndexing(id));
    registry.refresh();
    indexer.onChange((ids) => {
      registry.refresh(ids);
      registry.updateStates();
    });
    const catalog = new Catalog(store, registry, indexer, file ?? 'temporary');
    catalog.grouping = grouping;
    owners.set(registry.collections, catalog);
    return catalog;
  }

  /** Collections as they stand; the map is updated in place while indexing. */
  get collections(): Map<string, Collection> {
    return this.registry.collections;
  }

  /**
   * Index in the background now and at every rescan. While another process holds the indexing
   * lease, follow its commits instead (the catalog's data version changes with each one).
   */
  start(): void {
    this.indexer.start();
    let seen = this.store.dataVersion();
    this.follow = setInterval(() => {
      if (this.indexer.leader) return;
      const v = this.store.dataVersion();
      if (v === seen) return;
      seen = v;
      this.registry.refresh();
    }, FOLLOW_MS);
    this.follow.unref();
  }

  private follow?: NodeJS.Timeout;
  private grouping?: Grouping;

  /**
   * Apply reloaded collection configs (SIGHUP) without a restart: titles, descriptions, keywords,
   * licences and extents are served at once. Configs whose ids or sources changed regroup files:
   * that needs a restart (and a new index), so they are refused here and the current ones kept.
   */
  reloadConfigs(configs: CollectionConfig[]): { applied: boolean; reason?: string } {
    if (!this.grouping) return { applied: false, reason: 'no grouping' };
    if (groupingRules(configs) !== this.store.meta('grouping')) return { applied: false, reason: 'collection ids or sources changed: restart the server to regroup the files' };
    this.grouping.replace(configs);
    this.registry.refresh();
    return { applied: true };
  }

  /** Changes whenever the catalog commits (this process's commits or another's): answers derived from it are stale. */
  dataVersion(): string {
    return this.store.dataVersion();
  }

  /** One full pass, awaited (odas index, tests, stac export); the lease is released after it unless indexing runs in the background. */
  async indexOnce(): Promise<void> {
    await this.indexer.scan();
    if (!this.follow) this.indexer.releaseLease();
    this.registry.updateStates();
  }

  status(): CatalogStatus {
    const ledger = new FileLedger(this.store);
    let features = 0;
    for (const c of this.collections.values()) if (c.features) features += c.features.size;
    return {
      indexing: this.indexer.status(),
      catalog: { file: this.file, collections: this.collections.size, features, files: ledger.counts() },
      errors: ledger.failures(100),
    };
  }

  async close(): Promise<void> {
    if (this.follow) clearInterval(this.follow);
    await this.indexer.stop();
    this.store.close();
  }
}
