import type { Logger } from 'pino';
import { pino } from 'pino';
import { catalogOf } from '../catalog/catalog.js';
import type { Collection } from '../catalog/collection.js';
import type { CatalogBackend } from '../catalog/store/backend.js';
import { SqliteBackend } from '../catalog/store/sqlite-backend.js';
import type { SyncReport } from '../catalog/store/types.js';
import { findStaticCollections, staticCogAssets, staticSources, type StaticCogAsset, type StaticCollection } from './static-catalog.js';

/** STAC extensions odas can emit; each is off unless asked for (validators must reach its schema). */
export type StacExtensionName = 'file' | 'datacube';

export interface StacServiceOptions {
  collections: Map<string, Collection>;
  /** The catalog holding the items (default: the one the collections come from). */
  store?: CatalogBackend;
  /** Data roots to look for static catalogs in (default: the collections' roots). */
  dataRoots?: string[];
  log?: Logger;
  extensions?: StacExtensionName[];
}

/**
 * The STAC side of the server: items are the catalog's own rows (features and grid time steps,
 * written by the indexer) plus the items of static catalogs found in the data roots.
 */
export class StacService {
  private constructor(
    readonly index: CatalogBackend,
    readonly collections: Map<string, Collection>,
    readonly statics: Map<string, StaticCollection>,
    readonly extensions: ReadonlySet<StacExtensionName>,
    public report: SyncReport,
    private readonly ownsIndex: boolean,
  ) {}

  /** Find static catalogs, bring their items into the catalog, and return the service. */
  static async open(opts: StacServiceOptions): Promise<StacService> {
    const service = StacService.create(opts);
    await service.loadStatics(opts.dataRoots ?? [], opts.log ?? pino({ level: 'silent' }));
    return service;
  }

  /** The service at once, without static catalogs yet (the server loads them after it listens). */
  static create(opts: StacServiceOptions): StacService {
    const shared = opts.store ?? catalogOf(opts.collections)?.store;
    const index = shared ?? SqliteBackend.open(undefined);
    return new StacService(index, opts.collections, new Map(), new Set(opts.extensions ?? []), { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 }, shared === undefined);
  }

  /** Find the static catalogs under the data roots and bring their items into the catalog. */
  async loadStatics(dataRoots: string[], log: Logger): Promise<SyncReport> {
    const roots = [...new Set([...dataRoots, ...[...this.collections.values()].map((c) => c.root)])].sort();
    const found = await findStaticCollections(roots, log);
    const statics = new Map<string, StaticCollection>();
    for (const s of found) {
      let id = s.id;
      for (let k = 2; this.collections.has(id) || statics.has(id); k++) id = `${s.id}-${k}`;
      statics.set(id, { ...s, id });
    }
    const report = await this.index.sync(await staticSources([...statics.values()]), ['static']);
    this.statics.clear();
    for (const [id, s] of statics) this.statics.set(id, s);
    this.report = report;
    if (report.items + report.removed > 0) log.info({ ...report }, `STAC: ${report.items} static catalog item(s) indexed, ${report.removed} removed in ${report.seconds.toFixed(2)} s`);
    return report;
  }

  /** A service over a store synchronised elsewhere (benchmarks, tools); no static catalogs. */
  static attach(index: CatalogBackend, collections: Map<string, Collection>, extensions: StacExtensionName[] = []): StacService {
    return new StacService(index, collections, new Map(), new Set(extensions), { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 }, false);
  }

  /** Local COG assets of static catalogs: for Coverages to serve as grids once it reads COGs. */
  cogAssets(): Promise<StaticCogAsset[]> {
    return staticCogAssets([...this.statics.values()]);
  }

  async close(): Promise<void> {
    if (this.ownsIndex) await this.index.close();
  }
}
