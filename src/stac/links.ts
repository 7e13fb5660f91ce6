/** Stands for the public base URL in stored JSON; replaced per request (the host can differ per request). */
export const BASE = '{{odas:base}}';

export const STAC_VERSION = '1.0.0';

export const MEDIA = {
  json: 'application/json',
  geojson: 'application/geo+json',
  html: 'text/html',
  csv: 'text/csv',
  netcdf: 'application/x-netcdf',
  hdf5: 'application/x-hdf5',
  geotiff: 'image/tiff; application=geotiff',
  cog: 'image/tiff; application=geotiff; profile=cloud-optimized',
  openapi: 'application/vnd.oai.openapi+json;version=3.0',
  schema: 'application/schema+json',
} as const;

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
  method?: string;
  body?: unknown;
  merge?: boolean;
}

export function withBase(text: string, base: string): string {
  return text.includes(BASE) ? text.split(BASE).join(base) : text;
}

/** URL path of one file of a collection on the download route (each segment escaped). */
export function filePath(collection: string, rel: string): string {
  return `/stac/collections/${encodeURIComponent(collection)}/files/${rel.split('/').map(encodeURIComponent).join('/')}`;
}

/** Media type of a data file by its name (the download route and the asset objects agree on it). */
export function fileMediaType(rel: string): string {
  if (/\.(nc|nc3|nc4|cdf|netcdf)$/i.test(rel)) return MEDIA.netcdf;
  if (/\.(tif|tiff)$/i.test(rel)) return MEDIA.geotiff;
  if (/\.(h5|hdf5|hdf|he5|bag)$/i.test(rel)) return MEDIA.hdf5;
  if (/\.json$/i.test(rel)) return MEDIA.json;
  return 'application/octet-stream';
}
