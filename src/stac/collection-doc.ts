import type { Collection } from '../catalog/collection.js';
import type { CollectionStats } from '../catalog/store/types.js';
import { stacLicense } from './license.js';
import { fileMediaType, filePath, MEDIA, STAC_VERSION, withBase, type StacLink } from './links.js';
import type { StaticCollection } from './static-catalog.js';
import { collectionCube, DATACUBE_EXTENSION } from './grid-extensions.js';

const PROVIDER_ROLES = new Set(['licensor', 'producer', 'processor', 'host']);
const iso = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString().replace('.000Z', 'Z');
const enc = encodeURIComponent;
/** Item properties that say nothing as a collection summary. */
const NOT_SUMMARISED = new Set(['datetime', 'start_datetime', 'end_datetime', 'created', 'title']);

export interface CollectionContext {
  base: string;
  stats: CollectionStats;
  /** Links from the OGC API side (coverage, EDR…) already absolute. */
  ogcLinks: StacLink[];
  datacube: boolean;
}

interface Provider {
  name: string;
  roles?: string[];
  url?: string;
}

function providers(c: Collection, base: string): Provider[] {
  const out: Provider[] = [];
  if (c.providers) {
    for (const p of c.providers) {
      const roles = (p.roles ?? []).filter((r) => PROVIDER_ROLES.has(r));
      out.push({ name: p.name, ...(roles.length ? { roles } : {}), ...(p.url ? { url: p.url } : {}) });
    }
  } else {
    const producer = c.attrs['institution'] ?? c.attrs['creator_name'];
    if (producer) out.push({ name: producer, roles: ['producer'] });
  }
  out.push({ name: 'odas (Ocean Data Access Server)', roles: ['host'], url: base });
  return out;
}

function summaries(stats: CollectionStats): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(stats.values)) if (v && !NOT_SUMMARISED.has(k)) out[k] = [...v].sort();
  for (const [k, [lo, hi]] of Object.entries(stats.ranges))
    if (!NOT_SUMMARISED.has(k)) out[k] = { minimum: lo, maximum: hi };
  if (stats.time) out['datetime'] = { minimum: iso(stats.time[0]), maximum: iso(stats.time[1]) };
  return out;
}

function keywords(c: Collection): string[] {
  const out = [...c.keywords];
  for (const p of c.parameters) if (p.standardName && !out.includes(p.standardName)) out.push(p.standardName);
  return out;
}

function commonLinks(id: string, base: string): StacLink[] {
  const self = `${base}/stac/collections/${enc(id)}`;
  return [
    { rel: 'self', href: self, type: MEDIA.json },
    { rel: 'root', href: `${base}/stac`, type: MEDIA.json },
    { rel: 'parent', href: `${base}/stac`, type: MEDIA.json },
    { rel: 'items', href: `${self}/items`, type: MEDIA.geojson, title: 'STAC items' },
    {
      rel: 'http://www.opengis.net/def/rel/ogc/1.0/queryables',
      href: `${self}/queryables`,
      type: MEDIA.schema,
      title: 'Queryables',
    },
  ];
}

/**
 * A grid with no time in its data has no items (a STAC item needs a time, and a file's
 * modification time is not the data's): its files are the collection's own assets.
 */
function timelessAssets(c: Collection, base: string, ogcLinks: StacLink[]): Record<string, unknown> {
  const why =
    'The file names no time (no time axis, ACDD time_coverage or TIFF DateTime), so it is not a STAC item: a STAC item needs a time.';
  const assets: Record<string, unknown> = {};
  for (const [i, rel] of c.files.entries()) {
    assets[c.files.length === 1 ? 'data' : `data-${i + 1}`] = {
      href: `${base}${filePath(c.id, rel)}`,
      type: fileMediaType(rel),
      title: `Source file ${rel.replace(/^.*\//, '')}`,
      description: why,
      roles: ['data', 'source'],
    };
  }
  if (ogcLinks.some((l) => l.rel.endsWith('/coverage'))) {
    assets['netcdf'] = {
      href: `${base}/collections/${enc(c.id)}/coverage?f=netcdf`,
      type: MEDIA.netcdf,
      title: 'The whole grid as NetCDF (OGC API - Coverages)',
      roles: ['data'],
    };
  }
  return assets;
}

/** The STAC Collection of an odas collection: metadata from its CF/ACDD attributes and indexed items. */
export function stacCollection(c: Collection, ctx: CollectionContext): Record<string, unknown> {
  const { base, stats } = ctx;
  const lic = stacLicense(c.license);
  const ogc = `${base}/collections/${enc(c.id)}`;
  const links: StacLink[] = [
    ...commonLinks(c.id, base),
    { rel: 'alternate', href: ogc, type: MEDIA.json, title: 'OGC API collection' },
    { rel: 'alternate', href: `${ogc}?f=html`, type: MEDIA.html, title: 'OGC API collection (HTML)' },
  ];
  if (c.features)
    links.push({ rel: 'alternate', href: `${ogc}/items`, type: MEDIA.geojson, title: 'OGC API - Features items' });
  links.push(...ctx.ogcLinks);
  // STAC 1.0.0 wants a licence link for 'proprietary': the file's URL, else the page that quotes the statement.
  if (lic.url) links.push({ rel: 'license', href: lic.url, title: lic.text?.slice(0, 200) ?? 'Licence' });
  else if (lic.license === 'proprietary')
    links.push({
      rel: 'license',
      href: `${ogc}?f=html`,
      type: MEDIA.html,
      title: lic.text ? `Licence: ${lic.text.slice(0, 200)}` : 'No licence is stated in the files',
    });
  const bbox = stats.bbox ?? c.bbox ?? [-180, -90, 180, 90];
  const time = stats.time ?? c.timeSpan;
  const doc: Record<string, unknown> = {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: [] as string[],
    id: c.id,
    title: c.title,
    description: c.description || c.title,
    keywords: keywords(c),
    license: lic.license,
    providers: providers(c, base),
    extent: { spatial: { bbox: [bbox] }, temporal: { interval: [[iso(time?.[0]), iso(time?.[1])]] } },
    summaries: summaries(stats),
    links,
  };
  if (c.kind === 'grid' && (stats.timed ?? stats.count) === 0 && !c.indexing)
    doc['assets'] = timelessAssets(c, base, ctx.ogcLinks);
  if (ctx.datacube && c.kind === 'grid') {
    const cube = collectionCube(c);
    if (cube) {
      doc['stac_extensions'] = [DATACUBE_EXTENSION];
      Object.assign(doc, cube);
    }
  }
  return doc;
}

/** A published static Collection, with its links pointing at this API (its own metadata untouched). */
export function staticStacCollection(s: StaticCollection, ctx: CollectionContext): Record<string, unknown> {
  const keep = (Array.isArray(s.doc['links']) ? (s.doc['links'] as StacLink[]) : []).filter(
    (l) =>
      typeof l?.href === 'string' &&
      /^https?:\/\//i.test(l.href) &&
      !['self', 'root', 'parent', 'item', 'child', 'items', 'collection'].includes(l.rel),
  );
  const doc = JSON.parse(withBase(JSON.stringify({ ...s.doc, id: s.id }), ctx.base)) as Record<string, unknown>;
  doc['links'] = [...commonLinks(s.id, ctx.base), ...keep];
  if (!doc['extent'] && ctx.stats.bbox)
    doc['extent'] = {
      spatial: { bbox: [ctx.stats.bbox] },
      temporal: { interval: [[iso(ctx.stats.time?.[0]), iso(ctx.stats.time?.[1])]] },
    };
  return doc;
}
