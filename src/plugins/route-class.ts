import type { CacheKind, WorkClass } from '../config/ops-schema.js';

/** How the operations layer treats a route: its class of work (admission) and its kind of answer (caching). */
export interface RouteClass {
  /** undefined: never limited (health, metrics, status). */
  work?: WorkClass;
  /** undefined: never cached (Cache-Control: no-store, no validators). */
  cache?: CacheKind;
}

/** A route may name its class in its config (`config: { workClass, cacheKind }`): new APIs need not be listed here. */
export interface RouteOpsConfig {
  workClass?: WorkClass | 'none';
  cacheKind?: CacheKind | 'none';
}

const OPS_ROUTES = new Set(['/health', '/ready', '/metrics', '/status']);
const DAP_DATA_ROUTES = new Set(['/opendap/:target', '/erddap/griddap/:target', '/erddap/tabledap/:target']);
/** Feature pages and single features (Features, EDR items and locations of in-situ collections). */
const FEATURE_ROUTE = /^\/collections\/:collectionId\/(items|locations)(\/:\w+)?$/;
/** Collection sub-resources that describe rather than read data. */
const DESCRIBE_ROUTE =
  /^\/collections\/:collectionId(\/(queryables|schema|coverage\/domainset|coverage\/rangetype|instances))?$/;

/** The class of a route template (`request.routeOptions.url`); unknown collection sub-routes read data. */
export function classifyRoute(url: string | undefined, config?: RouteOpsConfig): RouteClass {
  if (url === undefined) return {};
  const out = defaultClass(url);
  if (config?.workClass) {
    if (config.workClass === 'none') delete out.work;
    else out.work = config.workClass;
  }
  if (config?.cacheKind) {
    if (config.cacheKind === 'none') delete out.cache;
    else out.cache = config.cacheKind;
  }
  return out;
}

function defaultClass(url: string): RouteClass {
  if (OPS_ROUTES.has(url)) return {};
  if (url === '/stac/search') return { work: 'features', cache: 'stac' };
  if (url.startsWith('/stac')) return { work: url.includes('/items') ? 'features' : 'metadata', cache: 'stac' };
  if (FEATURE_ROUTE.test(url)) return { work: 'features', cache: 'features' };
  // OPeNDAP and griddap read data, but name their collection inside :target: validators from the catalog's version.
  if (DAP_DATA_ROUTES.has(url)) return { work: 'data', cache: 'metadata' };
  if (!url.startsWith('/collections/:collectionId') || DESCRIBE_ROUTE.test(url))
    return { work: 'metadata', cache: 'metadata' };
  return { work: 'data', cache: 'data' };
}
