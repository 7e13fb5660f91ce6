import type { Collection } from '../../catalog/collection.js';
import { CRS84 } from '../../core/grid/crs.js';
import { isoTime, type Link } from '../link.js';

export interface CollectionDoc {
  id: string;
  title: string;
  description: string;
  keywords: string[];
  itemType?: string;
  license?: string;
  attribution?: string;
  providers?: Array<{ name: string; url?: string; roles?: string[] }>;
  extent: {
    spatial: { bbox: number[][]; crs: string };
    temporal: { interval: Array<Array<string | null>>; trs: string };
  };
  crs: string[];
  storageCrs: string;
  parameters?: Array<{ name: string; units?: string; standard_name?: string; long_name?: string }>;
  links: Link[];
  [extra: string]: unknown;
}

/** An API's additions to a collection description (its links, its members). */
export type CollectionDescriber = (c: Collection, doc: CollectionDoc, base: string) => void;

/** The collection description shared by /collections and /collections/{id}. */
export function collectionDoc(
  c: Collection,
  base: string,
  describers: readonly CollectionDescriber[] = [],
): CollectionDoc {
  const href = `${base}/collections/${encodeURIComponent(c.id)}`;
  const links: Link[] = [
    { href, rel: 'self', type: 'application/json', title: 'This collection' },
    { href: `${href}?f=html`, rel: 'alternate', type: 'text/html', title: 'This collection as HTML' },
  ];
  if (c.features) {
    // Without a query string: GDAL appends /{featureId} to this link to fetch one item.
    links.push({ href: `${href}/items`, rel: 'items', type: 'application/geo+json', title: 'Features' });
    links.push({
      href: `${href}/queryables`,
      rel: 'http://www.opengis.net/def/rel/ogc/1.0/queryables',
      type: 'application/schema+json',
      title: 'Queryable properties',
    });
    links.push({
      href: `${href}/sortables`,
      rel: 'http://www.opengis.net/def/rel/ogc/1.0/sortables',
      type: 'application/schema+json',
      title: 'Sortable properties',
    });
  }
  if (c.license && /^https?:\/\//.test(c.license)) links.push({ href: c.license, rel: 'license', title: 'Licence' });
  const doc: CollectionDoc = {
    id: c.id,
    title: c.title,
    description: c.description,
    keywords: c.keywords,
    extent: {
      spatial: { bbox: [c.bbox ?? [-180, -90, 180, 90]], crs: CRS84 },
      temporal: {
        interval: [[isoTime(c.timeSpan?.[0]), isoTime(c.timeSpan?.[1])]],
        trs: 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian',
      },
    },
    crs: [CRS84],
    storageCrs: CRS84,
    links,
  };
  doc.itemType = c.features ? 'feature' : 'coverage';
  // Files of this collection are still being read: its extent and features may grow (see /status).
  if (c.indexing) doc['indexing'] = true;
  if (c.license) doc.license = c.license;
  if (c.attribution) doc.attribution = c.attribution;
  if (c.providers) doc.providers = c.providers;
  doc.parameters = c.parameters.map((p) => ({
    name: p.name,
    ...(p.units ? { units: p.units } : {}),
    ...(p.standardName ? { standard_name: p.standardName } : {}),
    ...(p.longName ? { long_name: p.longName } : {}),
  }));
  for (const describe of describers) describe(c, doc, base);
  return doc;
}
