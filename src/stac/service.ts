import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { catalogOf } from '../catalog/catalog.js';
import type { Collection } from '../catalog/collection.js';
import type { CatalogBackend } from '../catalog/store/backend.js';
import { SqliteBackend } from '../catalog/store/sqlite-backend.js';
import type { SyncReport } from '../catalog/store/types.js';
import {
  findStaticCollections,
  staticCogAssets,
  staticSources,
  type StaticCogAsset,
  type StaticCollection,
} from './static-catalog.js';

/** STAC extensions odas fills on grid items and collections (all by default; `--stac-extensions` narrows them). */
export type StacExtensionName = 'proj' | 'datacube' | 'file';
const STAC_EXTENSION_NAMES: readonly StacExtensionName[] = ['proj', 'datacube', 'file'];

/** `--stac-extensions proj,datacube` (or `none`): the names, or an error message. */
export function parseStacExtensions(text: string): StacExtensionName[] | string {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'none');
  const bad = names.filter((n) => !(STAC_EXTENSION_NAMES as readonly string[]).includes(n));
  return bad.length
    ? `unknown STAC extension(s) ${bad.join(', ')} (known: ${STAC_EXTENSION_NAMES.join(', ')}, or none)`
    : (names as StacExtensionName[]);
}

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

  /** Absolute paths of the local files static catalogs publish as assets, and the static collection of each. */
  private staticFiles = new Map<string, string>();
  private shadowCache = new WeakMap<Collection, string | null>();

  /**
   * The static collection that already publishes every file of this generated one, if any. A COG
   * described by a published catalog appears once in STAC: as the asset of its published item,
   * which carries what the file does not (the product's dates, scale factors, titles, licence) and
   * groups the files of one product (sst, anom, err, ice of one day); a generated item of the same
   * file would have no time and say less. The OGC APIs still serve the file as a coverage.
   */
  shadowedBy(c: Collection): string | undefined {
    if (this.staticFiles.size === 0 || c.kind !== 'grid' || c.files.length === 0) return undefined;
    let owner = this.shadowCache.get(c);
    if (owner === undefined) {
      const owners = new Set(c.files.map((f) => this.staticFiles.get(join(c.root, f))));
      owner = owners.size === 1 ? ([...owners][0] ?? null) : null;
      this.shadowCache.set(c, owner);
    }
    return owner ?? undefined;
  }

  /** Generated collections STAC does not list (their files are a static catalog's assets). */
  hiddenCollections(): string[] {
    if (this.staticFiles.size === 0) return [];
    return [...this.collections.values()].filter((c) => this.shadowedBy(c) !== undefined).map((c) => c.id);
  }

  /** Collection ids STAC serves: generated ones not published by a static catalog, then the static ones. */
  collectionIds(): string[] {
    const generated =
      this.staticFiles.size === 0
        ? [...this.collections.keys()]
        : [...this.collections.values()].filter((c) => this.shadowedBy(c) === undefined).map((c) => c.id);
    return [...generated, ...this.statics.keys()];
  }

  /** The generated collection of this id, unless STAC serves its files through a static catalog. */
  generated(id: string): Collection | undefined {
    const c = this.collections.get(id);
    return c && this.shadowedBy(c) === undefined ? c : undefined;
  }

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
    return new StacService(
      index,
      opts.collections,
      new Map(),
      new Set(opts.extensions ?? STAC_EXTENSION_NAMES),
      { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 },
      shared === undefined,
    );
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
    this.staticFiles = new Map(
      [...statics.values()].flatMap((s) => [...s.assets].map((rel): [string, string] => [join(s.root, rel), s.id])),
    );
    this.shadowCache = new WeakMap();
    this.report = report;
    if (report.items + report.removed > 0)
      log.info(
        { ...report },
        `STAC: ${report.items} static catalog item(s) indexed, ${report.removed} removed in ${report.seconds.toFixed(2)} s`,
      );
    return report;
  }

  /** A service over a store synchronised elsewhere (benchmarks, tools); no static catalogs. */
  static attach(
    index: CatalogBackend,
    collections: Map<string, Collection>,
    extensions: readonly StacExtensionName[] = STAC_EXTENSION_NAMES,
  ): StacService {
    return new StacService(
      index,
      collections,
      new Map(),
      new Set(extensions),
      { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 },
      false,
    );
  }

  /** Local COG assets of static catalogs: for Coverages to serve as grids once it reads COGs. */
  cogAssets(): Promise<StaticCogAsset[]> {
    return staticCogAssets([...this.statics.values()]);
  }

  async close(): Promise<void> {
    if (this.ownsIndex) await this.index.close();
  }
}
