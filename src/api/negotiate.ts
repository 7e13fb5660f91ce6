import type { FastifyRequest } from 'fastify';
import { InvalidParameterValue } from '../core/errors.js';

/** Output formats by their `f` value, with the media types an Accept header may name. */
export const FORMATS = {
  json: { mediaType: 'application/json', accepts: ['application/json'] },
  geojson: { mediaType: 'application/geo+json', accepts: ['application/geo+json'] },
  html: { mediaType: 'text/html; charset=utf-8', accepts: ['text/html', 'application/xhtml+xml'] },
  csv: { mediaType: 'text/csv; charset=utf-8', accepts: ['text/csv'] },
  openapi: {
    mediaType: 'application/vnd.oai.openapi+json;version=3.0',
    accepts: ['application/vnd.oai.openapi+json', 'application/openapi+json'],
  },
  // The registered type; the earlier personal-tree type is still understood in Accept and f.
  covjson: {
    mediaType: 'application/vnd.cov+json',
    accepts: ['application/vnd.cov+json', 'application/prs.coverage+json'],
  },
  netcdf: { mediaType: 'application/x-netcdf', accepts: ['application/x-netcdf', 'application/netcdf'] },
  arrow: { mediaType: 'application/vnd.apache.arrow.stream', accepts: ['application/vnd.apache.arrow.stream'] },
  geotiff: {
    mediaType: 'image/tiff; application=geotiff',
    accepts: ['image/tiff', 'image/geotiff', 'application/geotiff'],
  },
} as const;

export type FormatName = keyof typeof FORMATS;

/** Aliases users type in `f`. */
const ALIASES: Record<string, FormatName> = {
  'geo+json': 'geojson',
  'application/geo+json': 'geojson',
  'application/json': 'json',
  'text/html': 'html',
  'text/csv': 'csv',
  coveragejson: 'covjson',
  'application/vnd.cov+json': 'covjson',
  'application/prs.coverage+json': 'covjson',
  nc: 'netcdf',
  netcdf3: 'netcdf',
  'application/x-netcdf': 'netcdf',
  arrows: 'arrow',
  ipc: 'arrow',
  'application/vnd.apache.arrow.stream': 'arrow',
  tif: 'geotiff',
  tiff: 'geotiff',
  cog: 'geotiff',
  'image/tiff': 'geotiff',
};

/** JSON-based formats a plain `json` (f=json, Accept: application/json) stands for where plain JSON is not offered. */
const JSON_FAMILY: readonly FormatName[] = ['geojson', 'covjson'];

/**
 * `f` beats `Accept`; `Accept` is read with its q-values; with neither, the first offered format.
 * Browsers send `text/html` first, so people get pages and scripts get JSON.
 */
export function negotiate(request: FastifyRequest, offered: readonly FormatName[]): FormatName {
  const q = request.query as Record<string, unknown> | undefined;
  const f = typeof q?.['f'] === 'string' ? q['f'].trim().toLowerCase() : undefined;
  if (f) {
    const name = (ALIASES[f] ?? f) as FormatName;
    if (offered.includes(name)) return name;
    const jsonLike = name === 'json' ? JSON_FAMILY.find((j) => offered.includes(j)) : undefined;
    if (jsonLike) return jsonLike;
    if (name === 'geojson' && offered.includes('json')) return 'json';
    throw new InvalidParameterValue('f', `format '${f}' is not offered here; use one of: ${offered.join(', ')}`);
  }
  const accept = request.headers.accept;
  if (!accept) return offered[0]!;
  const ranges = accept
    .split(',')
    .map((part, order) => {
      const [type, ...params] = part
        .trim()
        .split(';')
        .map((s) => s.trim());
      const qp = params.find((p) => p.startsWith('q='));
      return { type: (type ?? '').toLowerCase(), q: qp ? Number(qp.slice(2)) : 1, order };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const r of ranges) {
    if (r.type === '*/*' || r.type === 'application/*') return offered[0]!;
    const hit = offered.find((name) => (FORMATS[name].accepts as readonly string[]).includes(r.type));
    if (hit) return hit;
    const jsonLike = r.type === 'application/json' ? JSON_FAMILY.find((j) => offered.includes(j)) : undefined;
    if (jsonLike) return jsonLike;
  }
  return offered[0]!;
}
