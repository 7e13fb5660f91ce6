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
import type { CatalogBackend } from './store/backend.js';
import { SqliteBackend } from './store/sqlite-backend.js';

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
  /**
   * A PostgreSQL catalog (`postgresql://user@host:port/db`) shared by several odas processes,
   * instead of the SQLite file in cacheDir.
   */
  catalog?: string;
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
  catalog: {
    file: string;
    backend: 'sqlite' | 'postgresql';
    collections: number;
    features: number;
    files: { ok: number; skipped: number; failed: number };
  };
  errors: Array<{ root: string; file: string; error: string; at: string }>;
}

/** Which collection a file belongs to depends on the configs' ids and globs only. */
function groupingRules(configs: CollectionConfig[]): string {
  return createHash('sha1')
    .update(JSON.stringify(configs.map((c) => [c.id, c.source])))
    .digest('hex');
}

/** The catalog each served collection map comes from (for services opened from the map alone). */
const owners = new WeakMap<Map<string, Collection>, Catalog>();

export function catalogOf(collections: Map<string, Collection>): Catalog | undefined {
  return owners.get(collections);
}

/** Whether a catalog location names a PostgreSQL database rather than a folder for the SQLite file. */
export function isDatabaseUrl(location: string | undefined): location is string {
  return location !== undefined && /^postgres(ql)?:\/\//.test(location);
}

/** Open the catalog a location names: a PostgreSQL URL, else the SQLite file for the roots (temporary without a cache folder). */
async function openBackend(
  opts: Pick<CatalogOptions, 'catalog' | 'cacheDir' | 'dataRoots' | 'cacheMiB' | 'log'>,
): Promise<CatalogBackend> {
  if (isDatabaseUrl(opts.catalog)) {
    const { PgBackend } = await import('./store/pg/backend.js');
    return PgBackend.open(opts.catalog, { log: opts.log });
  }
  const file = opts.cacheDir ? await Catalog.fileFor(opts.cacheDir, opts.dataRoots) : undefined;
  try {
    return SqliteBackend.open(file, opts.cacheMiB !== undefined ? { cacheMiB: opts.cacheMiB } : {});
  } catch (err) {
    throw new Error(
      `cannot open the catalog ${file ?? '(temporary)'}: ${(err as Error).message} (choose another folder with --cache-dir or ODAS_CACHE_DIR)`,
      { cause: err },
    );
  }
}

/**
 * The archive's catalog: a SQLite file or a PostgreSQL database (files, collections, features,
 * grid summaries, STAC items), the collections built from it, and the background indexer that
 * keeps it up to date.
 */
export class Catalog {
  private constructor(
    readonly store: CatalogBackend,
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
    const store = await openBackend(opts);
    const file = store.location;
    if (store.recovered) opts.log.warn({ file }, store.recovered);
    const grouping = new Grouping(opts.configs);
    // Which collection a file belongs to depends on the configs' ids and globs (titles and the like are read at each start).
    const rules = groupingRules(opts.configs);
    const before = await store.meta('grouping');
    if (before !== undefined && before !== rules) {
      opts.log.warn({ file }, 'collection configs changed since the catalog was built: indexing every file again');
      await store.reset();
    }
    await store.setMeta('grouping', rules);
    let onHdf5File: ((abs: string) => Promise<void>) | undefined;
    const manifests = opts.hdf5Manifests ? store.manifests() : undefined;
    if (manifests) {
      const { getHdf5Pool } = await import('../readers/hdf5/reader.js');
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
    await registry.refresh();
    const catalog = new Catalog(store, registry, indexer, file);
    indexer.onChange((ids) => {
      // Chained and kept: indexOnce waits for the last refresh (its collections are complete when it returns).
      catalog.refreshing = catalog.refreshing
        .then(() => registry.refresh(ids))
        .then(() => registry.updateStates())
        .catch((err: Error) => opts.log.warn({ err: err.message }, `collections not refreshed: ${err.message}`));
    });
    catalog.log = opts.log;
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
    let seen: string | undefined;
    let busy = false;
    const check = async () => {
      if (this.indexer.leader || busy) return;
      busy = true;
      try {
        const v = await this.store.dataVersion();
        if (v === seen) return;
        const first = seen === undefined;
        seen = v;
        if (!first) await this.registry.refresh();
      } catch (err) {
        // The database is away: requests answer 503 meanwhile; the next tick tries again.
        this.log?.warn({ err: (err as Error).message }, `catalog not followed: ${(err as Error).message}`);
      } finally {
        busy = false;
      }
    };
    void check();
    // Another process's commits arrive as notifications where the backend has them; polling is the fallback.
    this.store.onRemoteCommit(() => void check());
    this.follow = setInterval(() => void check(), FOLLOW_MS);
    this.follow.unref();
  }

  private follow?: NodeJS.Timeout;
  /** The registry's refresh after the indexer's last notice. */
  refreshing: Promise<void> = Promise.resolve();
  private log?: Logger;
  private grouping?: Grouping;

  /**
   * Apply reloaded collection configs (SIGHUP) without a restart: titles, descriptions, keywords,
   * licences and extents are served at once. Configs whose ids or sources changed regroup files:
   * that needs a restart (and a new index), so they are refused here and the current ones kept.
   */
  async reloadConfigs(configs: CollectionConfig[]): Promise<{ applied: boolean; reason?: string }> {
    if (!this.grouping) return { applied: false, reason: 'no grouping' };
    if (groupingRules(configs) !== (await this.store.meta('grouping')))
      return { applied: false, reason: 'collection ids or sources changed: restart the server to regroup the files' };
    this.grouping.replace(configs);
    await this.registry.refresh();
    return { applied: true };
  }

  /**
   * Changes whenever the catalog commits (this process's commits or another's, as far as this
   * process has seen them): answers derived from it are stale. Synchronous, for cache validators.
   */
  dataVersion(): string {
    return this.store.seenVersion();
  }

  /**
   * One full pass, awaited (odas index, tests, stac export); the lease is released after it unless
   * indexing runs in the background. `whenHeld: 'read'` (readers such as stac export) reads what the
   * process holding the lease has indexed; otherwise a held lease is an error.
   */
  async indexOnce(opts: { whenHeld?: 'fail' | 'read' } = {}): Promise<void> {
    // A pass that could not take the indexing lease indexed nothing: say so rather than return as if done.
    for (let pause = 1000; ; pause *= 2) {
      await this.indexer.scan();
      const why = this.indexer.notLeading;
      if (why === undefined) break;
      if (why.held && opts.whenHeld === 'read') {
        this.log?.info(
          'another odas process holds the indexing lease and keeps this catalog up to date: reading what it has indexed',
        );
        await this.registry.refresh();
        break;
      }
      if (why.held)
        throw new Error(
          "another odas process holds this catalog's indexing lease (a server on the same catalog keeps it up to date): nothing was indexed",
        );
      // The catalog away for a moment (PostgreSQL restarting, a slow connect): ask again for about half a minute.
      if (pause > 16_000) throw new Error(`the catalog cannot be indexed: ${why.error}`);
      this.log?.warn({ err: why.error }, `indexing lease not taken (${why.error}): trying again in ${pause / 1000} s`);
      await new Promise((r) => setTimeout(r, pause));
    }
    await this.refreshing;
    if (!this.follow) await this.indexer.releaseLease();
    this.registry.updateStates();
  }

  async status(): Promise<CatalogStatus> {
    const ledger = this.store.ledger;
    let features = 0;
    for (const c of this.collections.values()) if (c.features) features += c.features.size;
    const [files, errors] = await Promise.all([ledger.counts(), ledger.failures(100)]);
    return {
      indexing: this.indexer.status(),
      catalog: { file: this.file, backend: this.store.kind, collections: this.collections.size, features, files },
      errors,
    };
  }

  async close(): Promise<void> {
    if (this.follow) clearInterval(this.follow);
    // A database away at shutdown must not keep the process (or its pool) alive.
    await this.indexer
      .stop()
      .catch((err: Error) => this.log?.warn({ err: err.message }, `indexer stopped with: ${err.message}`));
    await this.store.close();
  }
}
