import type { Logger } from 'pino';
import type { CollectionConfig } from '../config/collection-schema.js';
import { Catalog } from './catalog.js';
import type { Collection } from './collection.js';

export interface DiscoverOptions {
  dataRoots: string[];
  configs: CollectionConfig[];
  /** Folder of the catalog file; undefined = a temporary catalog. */
  cacheDir?: string;
  /** A PostgreSQL catalog URL instead of the SQLite file. */
  catalog?: string;
  log: Logger;
}

/**
 * Index the data roots once, to the end, and return their collections (tools and tests that need
 * the whole archive before they start; the server serves while it indexes instead). The catalog
 * stays open: the collections read their features from it.
 */
export async function discover(opts: DiscoverOptions): Promise<Map<string, Collection>> {
  const catalog = await Catalog.open({ ...opts, rescanSeconds: 0, settleMs: 0 });
  await catalog.indexOnce({ whenHeld: 'read' });
  opts.log.info({ collections: catalog.collections.size }, `serving ${catalog.collections.size} collection(s)`);
  return catalog.collections;
}
