/**
 * GDAL's private TIFF tags: GDAL_METADATA (42112, an XML list of items) and GDAL_NODATA (42113,
 * the nodata value as text). Both are plain strings in the file; this module turns them into values.
 */
import { Buffer } from 'node:buffer';

/** One `<Item>` of GDAL_METADATA. `sample` is the 0-based band; absent for dataset-level items. */
export interface GdalMetadataItem {
  name: string;
  value: string;
  sample?: number;
  role?: string;
  domain?: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

function xmlAttributes(text: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const m of text.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs.set(m[1]!, unescapeXml(m[2] ?? m[3] ?? ''));
  }
  return attrs;
}

/**
 * Items of a GDAL_METADATA document. GDAL escapes item values once itself and once more when it
 * serialises the XML (a `&` is stored as `&amp;amp;`), and unescapes twice when reading: so do we,
 * or values would differ from what gdalinfo shows. Malformed items are skipped, not fatal: the
 * tag is descriptive and the pixels are still readable without it.
 */
export function parseGdalMetadata(xml: string): GdalMetadataItem[] {
  const items: GdalMetadataItem[] = [];
  for (const m of xml.matchAll(/<Item\b([^>]*?)(?:\/>|>([\s\S]*?)<\/Item\s*>)/g)) {
    const attrs = xmlAttributes(m[1] ?? '');
    const name = attrs.get('name');
    if (name === undefined) continue;
    const item: GdalMetadataItem = { name, value: unescapeXml(unescapeXml(m[2] ?? '')) };
    const sample = attrs.get('sample');
    if (sample !== undefined && /^\d+$/.test(sample)) item.sample = Number(sample);
    const role = attrs.get('role');
    if (role !== undefined) item.role = role;
    const domain = attrs.get('domain');
    if (domain !== undefined && domain !== '') item.domain = domain;
    items.push(item);
  }
  return items;
}

/**
 * GDAL_NODATA text as a number: GDAL writes it with `%.18g`, NaN as "nan" (other writers use
 * "NaN" or "-nan"). Undefined when the text is not a number at all.
 */
export function parseGdalNodata(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const clean = text.replace(/\0+$/, '').trim();
  if (/^[-+]?nan$/i.test(clean)) return Number.NaN;
  if (/^[-+]?inf(inity)?$/i.test(clean)) return clean.startsWith('-') ? -Infinity : Infinity;
  if (clean === '') return undefined;
  const value = Number(clean);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * TIFF ASCII fields are bytes; GDAL puts UTF-8 in them and geotiff.js hands them out one byte per
 * character. Re-decode as UTF-8 when the bytes are valid UTF-8, else keep them as Latin-1.
 */
export function utf8FromTiffAscii(text: string): string {
  if (!/[\x80-\xff]/.test(text) || /[^\x00-\xff]/.test(text)) return text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'latin1'));
  } catch {
    return text;
  }
}

/** A finite number from an item's text, or undefined. */
export function itemNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : undefined;
}
