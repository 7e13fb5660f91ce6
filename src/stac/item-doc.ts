import type { Collection } from '../catalog/collection.js';
import type { ItemRow } from '../catalog/store/types.js';
import { fileMediaType, filePath, MEDIA, STAC_VERSION, withBase, type StacLink } from './links.js';

const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';

/** What building an item needs besides its row. */
export interface ItemContext {
  base: string;
  /** The odas collection the item comes from (absent for static catalogs). */
  collection?: Collection;
  /** Whether the OGC API offers a coverage (NetCDF subset) for this collection. */
  coverage: boolean;
  /** Declare the file extension and give asset sizes (only when its schema is available to validators). */
  fileExtension: boolean;
}

interface Asset {
  href: string;
  type: string;
  title: string;
  roles: string[];
  description?: string;
  'file:size'?: number;
}

const enc = encodeURIComponent;

function itemLinks(row: ItemRow, base: string, extra: StacLink[] = []): StacLink[] {
  const coll = `${base}/stac/collections/${enc(row.collection)}`;
  return [
    { rel: 'self', href: `${coll}/items/${enc(row.id)}`, type: MEDIA.geojson },
    { rel: 'parent', href: coll, type: MEDIA.json },
    { rel: 'collection', href: coll, type: MEDIA.json },
    { rel: 'root', href: `${base}/stac`, type: MEDIA.json },
    ...extra,
  ];
}

function sourceAsset(row: ItemRow, ctx: ItemContext): Asset {
  const a: Asset = {
    href: `${ctx.base}${filePath(row.collection, row.file)}`,
    type: fileMediaType(row.file),
    title: `Source file ${row.file.replace(/^.*\//, '')}`,
    roles: ['data', 'source'],
  };
  if (ctx.fileExtension && row.size !== null) a['file:size'] = row.size;
  return a;
}

/** Feature items: the OGC feature with its levels or observations as GeoJSON and CSV, and the file. */
function featureParts(row: ItemRow, ctx: ItemContext): { assets: Record<string, Asset>; links: StacLink[] } {
  const feature = `${ctx.base}/collections/${enc(row.collection)}/items/${enc(row.id)}`;
  return {
    assets: {
      data: { href: feature, type: MEDIA.geojson, title: 'This feature with its data (GeoJSON)', roles: ['data'] },
      csv: { href: `${feature}?f=csv`, type: MEDIA.csv, title: 'This feature\'s data as CSV, one row per level or observation', roles: ['data'] },
      source: sourceAsset(row, ctx),
    },
    links: [{ rel: 'alternate', href: feature, type: MEDIA.geojson, title: 'OGC API - Features item' }],
  };
}

/** Grid items: the file, and a NetCDF subset of this item's time from the Coverages API when it is served. */
function gridParts(row: ItemRow, ctx: ItemContext): { assets: Record<string, Asset>; links: StacLink[] } {
  const assets: Record<string, Asset> = { source: sourceAsset(row, ctx) };
  if (ctx.coverage) {
    const iso = (ms: number | null) => (ms === null ? '..' : new Date(ms).toISOString().replace('.000Z', 'Z'));
    const time = row.start === row.end ? iso(row.start) : `${iso(row.start)}/${iso(row.end)}`;
    const many = (ctx.collection?.files.length ?? 1) > 1 || row.id !== row.collection;
    const coverage = `${ctx.base}/collections/${enc(row.collection)}/coverage`;
    assets['netcdf'] = {
      href: `${coverage}?f=netcdf${many ? `&datetime=${enc(time)}` : ''}`,
      type: MEDIA.netcdf,
      title: 'NetCDF subset of this item (OGC API - Coverages)',
      roles: ['data'],
    };
  }
  return { assets, links: [] };
}

/** The item as JSON text, built from its indexed row (no file is read). */
export function itemJson(row: ItemRow, ctx: ItemContext): string {
  if (row.kind === 'static' && row.doc) {
    const doc = JSON.parse(withBase(row.doc, ctx.base)) as { links?: StacLink[] } & Record<string, unknown>;
    doc['id'] = row.id;
    doc['links'] = itemLinks(row, ctx.base, doc.links ?? []);
    return JSON.stringify(doc);
  }
  const { assets, links } = row.kind === 'grid' ? gridParts(row, ctx) : featureParts(row, ctx);
  const bbox = row.bbox ? `,"bbox":[${row.bbox.join(',')}]` : '';
  const ext = ctx.fileExtension && row.size !== null ? JSON.stringify([FILE_EXTENSION]) : '[]';
  return `{"type":"Feature","stac_version":"${STAC_VERSION}","stac_extensions":${ext},"id":${JSON.stringify(row.id)},"collection":${JSON.stringify(row.collection)},"geometry":${row.geom ?? 'null'}${bbox},"properties":${row.props},"links":${JSON.stringify(itemLinks(row, ctx.base, links))},"assets":${JSON.stringify(assets)}}`;
}
