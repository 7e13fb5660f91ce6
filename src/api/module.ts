import type { FastifyInstance } from 'fastify';
import type { Collection } from '../catalog/collection.js';
import type { CollectionDoc } from './common/collection-doc.js';
import type { ApiContext } from './context.js';

/**
 * One API (Features, Coverages, EDR, STAC…) as the app sees it: its routes, the conformance
 * classes it implements, and what it adds to a collection's description. /conformance and the
 * OpenAPI document list only what is registered.
 */
export interface ApiModule {
  name: string;
  conformance: string[];
  routes: (app: FastifyInstance, opts: { ctx: ApiContext }) => Promise<void>;
  /** Adds this API's links and members (e.g. coverage links, EDR data_queries) to a collection description. */
  describeCollection?: (c: Collection, doc: CollectionDoc, base: string) => void;
}
