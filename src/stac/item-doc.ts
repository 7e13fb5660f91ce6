import type { Collection } from '../catalog/collection.js';
import type { ItemRow } from '../catalog/store/types.js';
import { fileMediaType, filePath, MEDIA, STAC_VERSION, withBase, type StacLink } from './links.js';
import { DATACUBE_EXTENSION, gridCube, PROJECTION_EXTENSION, projFields } from './grid-extensions.js';
import type { StacExtensionName } from './service.js';

export const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';

/** What building an item needs besides its row. */
export interface ItemContext {
  base: string;
  /** The odas collection the item comes from (absent for static catalogs). */
  collection?: Collection;
  /** Whether the OGC API offers a coverage (NetCDF subset) for this collection. */
  coverage: boolean;
  /** The STAC extensions to fill and declare on grid items (proj, datacube, file). */
  extensions: ReadonlySet<StacExtensionName>;
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

function sourceAsset(row: ItemRow, ctx: ItemContext, withSize = false): Asset {
  const a: Asset = {
    href: `${ctx.base}${filePath(row.collection, row.file)}`,
    type: fileMediaType(row.file),
    title: `Source file ${row.file.replace(/^.*\//, '')}`,
    roles: ['data', 'source'],
  };
  if (withSize && row.size !== null) a['file:size'] = row.size;
  return a;
}

/** Feature items: the OGC feature with its levels or observations as GeoJSON and CSV, and the file. */
function featureParts(row: ItemRow, ctx: ItemContext): { assets: Record<string, Asset>; links: StacLink[] } {
  const feature = `${ctx.base}/collections/${enc(row.collection)}/items/${enc(row.id)}`;
  return {
    assets: {
      data: { href: feature, type: MEDIA.geojson, title: 'This feature with its data (GeoJSON)', roles: ['data'] },
      csv: {
        href: `${feature}?f=csv`,
        type: MEDIA.csv,
        title: "This feature's data as CSV, one row per level or observation",
        roles: ['data'],
      },
      source: sourceAsset(row, ctx),
    },
    links: [{ rel: 'alternate', href: feature, type: MEDIA.geojson, title: 'OGC API - Features item' }],
  };
}

/** Grid items: the file, and a NetCDF subset of this item's time from the Coverages API when it is served. */
function gridParts(row: ItemRow, ctx: ItemContext): { assets: Record<string, Asset>; links: StacLink[] } {
  // A grid item's data is its file (or a time step of it): its size tells a client what a download costs.
  const assets: Record<string, Asset> = { source: sourceAsset(row, ctx, ctx.extensions.has('file')) };
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
  const { extensions, props } =
    row.kind === 'grid' ? gridExtensions(row, ctx, assets) : { extensions: [], props: row.props };
  return `{"type":"Feature","stac_version":"${STAC_VERSION}","stac_extensions":${JSON.stringify(extensions)},"id":${JSON.stringify(row.id)},"collection":${JSON.stringify(row.collection)},"geometry":${row.geom ?? 'null'}${bbox},"properties":${props},"links":${JSON.stringify(itemLinks(row, ctx.base, links))},"assets":${JSON.stringify(assets)}}`;
}

/**
 * Extension fields of a grid item from its file's grid summary: proj (native CRS, shape,
 * transform: the sea-ice grid is EPSG:3411), datacube (this item's dimensions and variables) and
 * file (the source asset's size). Each is declared only when its fields are filled.
 */
function gridExtensions(
  row: ItemRow,
  ctx: ItemContext,
  assets: Record<string, Asset>,
): { extensions: string[]; props: string } {
  const c = ctx.collection;
  const g = c?.grid?.find((x) => x.file === row.file)?.summary;
  const extensions: string[] = [];
  const extra: Record<string, unknown> = {};
  if (g && c) {
    const proj = ctx.extensions.has('proj') ? projFields(g) : undefined;
    if (proj) {
      extensions.push(PROJECTION_EXTENSION);
      Object.assign(extra, proj);
    }
    if (ctx.extensions.has('datacube')) {
      const time: [number, number] | undefined =
        row.start !== null && row.end !== null ? [row.start, row.end] : undefined;
      extensions.push(DATACUBE_EXTENSION);
      Object.assign(extra, gridCube(c, g, time));
    }
  }
  if (Object.values(assets).some((a) => a['file:size'] !== undefined)) extensions.push(FILE_EXTENSION);
  const props =
    Object.keys(extra).length === 0
      ? row.props
      : JSON.stringify({ ...(JSON.parse(row.props) as Record<string, unknown>), ...extra });
  return { extensions, props };
}
