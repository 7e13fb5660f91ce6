import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Collection } from '../catalog/collection.js';
import { StacIndex } from '../catalog/store/store.js';
import type { SyncReport } from '../catalog/store/types.js';
import { collectionSources } from './sources.js';
import { findStaticCollections, staticCogAssets, staticSources, type StaticCogAsset, type StaticCollection } from './static-catalog.js';

/** STAC extensions odas can emit; each is off unless asked for (validators must reach its schema). */
export type StacExtensionName = 'file' | 'datacube';

export interface StacServiceOptions {
  collections: Map<string, Collection>;
  /** Data roots to look for static catalogs in (default: the collections' roots). */
  dataRoots?: string[];
  /** Where the index file lives (next to the discovery cache); none = a temporary file. */
  cacheDir?: string;
  log?: Logger;
  extensions?: StacExtensionName[];
  /** SQLite page cache, MiB. */
  cacheMiB?: number;
}

/** The STAC side of the server: the item index, the static catalogs, and which extensions to declare. */
export class StacService {
  private constructor(
    readonly index: StacIndex,
    readonly collections: Map<string, Collection>,
    readonly statics: Map<string, StaticCollection>,
    readonly extensions: ReadonlySet<StacExtensionName>,
    readonly report: SyncReport,
  ) {}

  /** Find static catalogs, bring the index up to date with every collection, and return the service. */
  static async open(opts: StacServiceOptions): Promise<StacService> {
    const log = opts.log ?? pino({ level: 'silent' });
    const roots = [...new Set([...(opts.dataRoots ?? []), ...[...opts.collections.values()].map((c) => c.root)])].sort();
    const found = await findStaticCollections(roots, log);
    const statics = new Map<string, StaticCollection>();
    for (const s of found) {
      let id = s.id;
      for (let k = 2; opts.collections.has(id) || statics.has(id); k++) id = `${s.id}-${k}`;
      statics.set(id, { ...s, id });
    }
    const file = opts.cacheDir ? join(opts.cacheDir, `stac-${createHash('sha1').update(roots.join('\n')).digest('hex').slice(0, 16)}.sqlite`) : undefined;
    const index = StacIndex.open(file, opts.cacheMiB !== undefined ? { cacheMiB: opts.cacheMiB } : {});
    try {
      const sources = [...collectionSources(opts.collections.values()), ...(await staticSources([...statics.values()]))];
      const report = index.sync(sources);
      log.info({ ...report, file: file ?? 'temporary' }, `STAC index: ${report.items} item(s) indexed, ${report.kept} file(s) unchanged, ${report.replaced} replaced, ${report.removed} removed in ${report.seconds.toFixed(2)} s`);
      return new StacService(index, opts.collections, statics, new Set(opts.extensions ?? []), report);
    } catch (err) {
      index.close();
      throw err;
    }
  }

  /** A service over an index synchronised elsewhere (benchmarks, tools); no static catalogs. */
  static attach(index: StacIndex, collections: Map<string, Collection>, extensions: StacExtensionName[] = []): StacService {
    return new StacService(index, collections, new Map(), new Set(extensions), { collections: 0, files: 0, kept: 0, replaced: 0, removed: 0, items: 0, seconds: 0 });
  }

  /** Local COG assets of static catalogs: for Coverages to serve as grids once it reads COGs. */
  cogAssets(): Promise<StaticCogAsset[]> {
    return staticCogAssets([...this.statics.values()]);
  }

  close(): void {
    this.index.close();
  }
}
