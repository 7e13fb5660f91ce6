import type { Collection } from '../../catalog/collection.js';
import { collectionDoc } from '../common/collection-doc.js';
import type { ApiContext } from '../context.js';
import { stacCollection, staticStacCollection } from '../../stac/collection-doc.js';
import { applyFields, hasFields, type Fields } from '../../stac/fields.js';
import type { ItemRow } from '../../catalog/store/types.js';
import { itemJson, type ItemContext } from '../../stac/item-doc.js';
import { BASE, withBase, type StacLink } from '../../stac/links.js';
import type { StacService } from '../../stac/service.js';

const OGC_REL = 'http://www.opengis.net/def/rel/ogc/1.0/';
const COVERAGE_REL = `${OGC_REL}coverage`;

/**
 * What the other registered APIs say about a collection (coverage, domain set, EDR queries), as
 * STAC links: OGC link relations pass through, EDR's `data` query links become `related`.
 */
function ogcLinks(ctx: ApiContext, c: Collection, base: string): StacLink[] {
  let perContext = linkCache.get(ctx);
  if (!perContext) linkCache.set(ctx, (perContext = new Map()));
  let text = perContext.get(c.id);
  if (text === undefined) {
    text = JSON.stringify(describedLinks(ctx, c));
    perContext.set(c.id, text);
  }
  return JSON.parse(withBase(text, base)) as StacLink[];
}

/** Collections do not change while serving: their OGC links are worked out once, with a placeholder base. */
const linkCache = new WeakMap<ApiContext, Map<string, string>>();

function describedLinks(ctx: ApiContext, c: Collection): StacLink[] {
  const doc = collectionDoc(c, BASE, ctx.describers);
  const out: StacLink[] = [];
  for (const l of doc.links) {
    if (l.rel.startsWith(OGC_REL) && !l.rel.endsWith('/queryables') && !l.rel.endsWith('/items')) {
      out.push({
        rel: l.rel,
        href: l.href,
        ...(l.type ? { type: l.type } : {}),
        ...(l.title ? { title: l.title } : {}),
      });
    } else if (l.rel === 'data') {
      out.push({
        rel: 'related',
        href: l.href,
        ...(l.type ? { type: l.type } : {}),
        title: l.title ?? 'OGC API - EDR query',
      });
    }
  }
  return out;
}

/** The STAC Collection document of a served id (generated or static), or undefined. */
export function collectionDocument(
  ctx: ApiContext,
  stac: StacService,
  id: string,
  base: string,
): Record<string, unknown> | undefined {
  const stats = stac.index.statsOf(id);
  const c = stac.generated(id);
  if (c)
    return stacCollection(c, {
      base,
      stats,
      ogcLinks: ogcLinks(ctx, c, base),
      datacube: stac.extensions.has('datacube'),
    });
  const s = stac.statics.get(id);
  if (s) return staticStacCollection(s, { base, stats, ogcLinks: [], datacube: false });
  return undefined;
}

/** An item's JSON as last built, with everything it was built from (compared on every use). */
interface BuiltItem {
  row: ItemRow;
  base: string;
  collection: Collection | undefined;
  text: string;
}

/** Items kept per service: at most this many, holding at most this much text. */
const ITEM_CACHE_ITEMS = 20_000;
const ITEM_CACHE_CHARS = 32 * 1024 * 1024;

/**
 * Items' JSON by rowid. Search pages serve the same items again and again and building an item
 * (links, assets, grid extensions) cost a tenth of a search's main-thread time; an entry is used
 * only when the row (every column the item shows), the base URL and the collection object are
 * the same as when it was built, so a changed item or a reloaded config builds it anew.
 */
class ItemCache {
  private readonly items = new Map<number, BuiltItem>();
  private chars = 0;

  get(row: ItemRow, base: string, collection: Collection | undefined): string | undefined {
    const hit = this.items.get(row.rowid);
    return hit && hit.base === base && hit.collection === collection && sameRow(hit.row, row) ? hit.text : undefined;
  }

  set(row: ItemRow, base: string, collection: Collection | undefined, text: string): void {
    const old = this.items.get(row.rowid);
    if (old) {
      this.items.delete(row.rowid);
      this.chars -= old.text.length;
    }
    if (text.length > ITEM_CACHE_CHARS / 64) return;
    while (
      this.items.size > 0 &&
      (this.items.size >= ITEM_CACHE_ITEMS || this.chars + text.length > ITEM_CACHE_CHARS)
    ) {
      const [oldest, entry] = this.items.entries().next().value!;
      this.items.delete(oldest);
      this.chars -= entry.text.length;
    }
    this.items.set(row.rowid, { row: { ...row }, base, collection, text });
    this.chars += text.length;
  }
}

/** Whether two rows give the same item (every column itemJson reads). */
function sameRow(a: ItemRow, b: ItemRow): boolean {
  return (
    a.id === b.id &&
    a.collection === b.collection &&
    a.kind === b.kind &&
    a.start === b.start &&
    a.end === b.end &&
    a.file === b.file &&
    a.size === b.size &&
    a.props === b.props &&
    a.doc === b.doc &&
    a.geom === b.geom &&
    (a.bbox === b.bbox || (a.bbox !== null && b.bbox !== null && a.bbox.every((v, k) => v === b.bbox![k])))
  );
}

/** Per API context (its describers decide the coverage asset) and STAC service (its extensions). */
const itemCaches = new WeakMap<ApiContext, WeakMap<StacService, ItemCache>>();

function itemCacheOf(ctx: ApiContext, stac: StacService): ItemCache {
  let perContext = itemCaches.get(ctx);
  if (!perContext) itemCaches.set(ctx, (perContext = new WeakMap()));
  let cache = perContext.get(stac);
  if (!cache) perContext.set(stac, (cache = new ItemCache()));
  return cache;
}

/** Builds item JSON for rows of any collection, working out each collection's context once. */
export class ItemWriter {
  private readonly contexts = new Map<string, ItemContext>();
  private readonly cache: ItemCache;

  constructor(
    private readonly ctx: ApiContext,
    private readonly stac: StacService,
    private readonly base: string,
    private readonly fields?: Fields,
  ) {
    this.cache = itemCacheOf(ctx, stac);
  }

  private contextOf(collection: string): ItemContext {
    let ic = this.contexts.get(collection);
    if (!ic) {
      const c = this.stac.collections.get(collection);
      const coverage = c ? ogcLinks(this.ctx, c, this.base).some((l) => l.rel === COVERAGE_REL) : false;
      ic = { base: this.base, coverage, extensions: this.stac.extensions, ...(c ? { collection: c } : {}) };
      this.contexts.set(collection, ic);
    }
    return ic;
  }

  json(row: ItemRow): string {
    const c = this.stac.collections.get(row.collection);
    let text = this.cache.get(row, this.base, c);
    if (text === undefined) {
      text = itemJson(row, this.contextOf(row.collection));
      this.cache.set(row, this.base, c, text);
    }
    return hasFields(this.fields)
      ? JSON.stringify(applyFields(JSON.parse(text) as Record<string, unknown>, this.fields))
      : text;
  }
}
