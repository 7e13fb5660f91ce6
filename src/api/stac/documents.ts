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

/** Builds item JSON for rows of any collection, working out each collection's context once. */
export class ItemWriter {
  private readonly contexts = new Map<string, ItemContext>();

  constructor(
    private readonly ctx: ApiContext,
    private readonly stac: StacService,
    private readonly base: string,
    private readonly fields?: Fields,
  ) {}

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
    const text = itemJson(row, this.contextOf(row.collection));
    return hasFields(this.fields)
      ? JSON.stringify(applyFields(JSON.parse(text) as Record<string, unknown>, this.fields))
      : text;
  }
}
