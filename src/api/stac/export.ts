import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiContext } from '../context.js';
import { COMMON_CONFORMANCE } from '../common/routes.js';
import type { ApiModule } from '../module.js';
import { MEDIA, STAC_VERSION, type StacLink } from '../../stac/links.js';
import type { StacService } from '../../stac/service.js';
import { collectionDocument, ItemWriter } from './documents.js';

export interface ExportOptions {
  stac: StacService;
  outDir: string;
  /** Public URL of the server the assets and OGC links point at (the data are not copied). */
  baseUrl: string;
  /** The APIs whose links (coverage, EDR) collections carry. */
  modules: ApiModule[];
  title?: string;
  description?: string;
  /** Called after each collection, for progress lines. */
  onCollection?: (id: string, items: number) => void;
}

/** File names must not reach outside their folder, whatever an id holds. */
const fileName = (id: string) => id.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');

/** Links of a document made relative for a self-contained catalog: navigation ones replaced, the rest kept. */
function relink(links: StacLink[], nav: StacLink[]): StacLink[] {
  const NAV = new Set([
    'self',
    'root',
    'parent',
    'collection',
    'items',
    'child',
    'item',
    'next',
    'http://www.opengis.net/def/rel/ogc/1.0/queryables',
  ]);
  return [...nav, ...links.filter((l) => !NAV.has(l.rel))];
}

/**
 * Write every collection and item as a self-contained static STAC catalog (relative navigation
 * links, assets and OGC links absolute on `baseUrl`), streaming items from the index so memory
 * does not grow with their number. Harvesters that read static catalogs take it from there.
 */
export async function exportStaticCatalog(o: ExportOptions): Promise<{ collections: number; items: number }> {
  const base = o.baseUrl.replace(/\/$/, '');
  const ctx: ApiContext = {
    collections: o.stac.collections,
    title: o.title ?? 'odas — Ocean Data Access Server',
    description: o.description ?? 'Ocean data served by odas, exported as a static STAC catalog.',
    conformance: [...COMMON_CONFORMANCE, ...o.modules.flatMap((m) => m.conformance)],
    describers: o.modules.flatMap((m) => (m.describeCollection ? [m.describeCollection] : [])),
    baseUrl: base,
    stac: o.stac,
  };
  await mkdir(o.outDir, { recursive: true });
  const ids = o.stac.collectionIds();
  const writer = new ItemWriter(ctx, o.stac, base);
  let total = 0;
  for (const id of ids) {
    const dir = join(o.outDir, fileName(id));
    await mkdir(join(dir, 'items'), { recursive: true });
    const itemLinks: StacLink[] = [];
    let n = 0;
    for await (const batch of o.stac.index.itemBatches(id))
      for (const row of batch) {
        const item = JSON.parse(writer.json(row)) as { id: string; links: StacLink[] };
        const name = `${fileName(item.id)}.json`;
        item.links = relink(item.links, [
          { rel: 'root', href: '../../catalog.json', type: MEDIA.json },
          { rel: 'parent', href: '../collection.json', type: MEDIA.json },
          { rel: 'collection', href: '../collection.json', type: MEDIA.json },
          {
            rel: 'alternate',
            href: `${base}/stac/collections/${encodeURIComponent(id)}/items/${encodeURIComponent(item.id)}`,
            type: MEDIA.geojson,
            title: 'This item in the STAC API',
          },
        ]);
        await writeFile(join(dir, 'items', name), JSON.stringify(item, null, 1));
        itemLinks.push({ rel: 'item', href: `./items/${name}`, type: MEDIA.geojson });
        n++;
      }
    const doc = collectionDocument(ctx, o.stac, id, base)!;
    doc['links'] = relink(doc['links'] as StacLink[], [
      { rel: 'root', href: '../catalog.json', type: MEDIA.json },
      { rel: 'parent', href: '../catalog.json', type: MEDIA.json },
      {
        rel: 'alternate',
        href: `${base}/stac/collections/${encodeURIComponent(id)}`,
        type: MEDIA.json,
        title: 'This collection in the STAC API',
      },
      ...itemLinks,
    ]);
    await writeFile(join(dir, 'collection.json'), JSON.stringify(doc, null, 1));
    total += n;
    o.onCollection?.(id, n);
  }
  const catalog = {
    type: 'Catalog',
    stac_version: STAC_VERSION,
    id: 'odas',
    title: ctx.title,
    description: ctx.description,
    links: [
      { rel: 'root', href: './catalog.json', type: MEDIA.json },
      {
        rel: 'alternate',
        href: `${base}/stac`,
        type: MEDIA.json,
        title: 'The STAC API this catalog was exported from (with search)',
      },
      ...ids.map((id) => ({
        rel: 'child',
        href: `./${fileName(id)}/collection.json`,
        type: MEDIA.json,
        title: o.stac.collections.get(id)?.title ?? id,
      })),
    ],
  };
  await writeFile(join(o.outDir, 'catalog.json'), JSON.stringify(catalog, null, 1));
  return { collections: ids.length, items: total };
}
