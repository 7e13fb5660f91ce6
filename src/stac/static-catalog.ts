import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Logger } from 'pino';
import { isInside } from '../catalog/walk.js';
import { safeId } from '../catalog/feature.js';
import { geometryBox, parseGeometry, type Box, type GeoJsonGeometry } from '../core/geometry.js';
import type { CollectionSource, ItemDraft, SourceFile } from '../catalog/store/types.js';
import { BASE } from './links.js';

/** A STAC Collection published as static files in a data root, served as one of ours. */
export interface StaticCollection {
  /** Id served (the published id made URL-safe, unique among all collections). */
  id: string;
  /** Data root (real path) the files belong to. */
  root: string;
  /** collection.json, relative to the root. */
  file: string;
  /** The collection document as published. */
  doc: Record<string, unknown>;
  /** Item JSON files, relative to the root. */
  items: string[];
  /** Local asset files the items point at (relative to the root): what the download route may serve. */
  assets: Set<string>;
}

/** A local Cloud-Optimized GeoTIFF asset: what Coverages can serve as a grid once it reads COGs. */
export interface StaticCogAsset {
  collection: string;
  item: string;
  key: string;
  /** Absolute path. */
  path: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const toPosix = (p: string) => p.split(sep).join('/');

async function readJson(abs: string): Promise<Json | undefined> {
  try {
    const v: unknown = JSON.parse(await readFile(abs, 'utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function links(doc: Json, rel: string): string[] {
  const ls = Array.isArray(doc['links']) ? (doc['links'] as unknown[]) : [];
  return ls
    .filter(isObject)
    .filter((l) => l['rel'] === rel && typeof l['href'] === 'string')
    .map((l) => l['href'] as string);
}

/** A relative href resolved against the file that holds it, only if it stays inside the root. */
async function localTarget(root: string, fromAbs: string, href: string): Promise<string | undefined> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/')) return undefined;
  const abs = join(dirname(fromAbs), decodeURIComponent(href.split(/[?#]/)[0]!));
  try {
    const real = await realpath(abs);
    return isInside(root, real) && (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every catalog.json / collection.json under a root, one folder listing at a time (an archive of
 * millions of data files is never listed into memory at once); hidden folders and symbolic links to
 * folders are not entered.
 */
async function catalogFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) stack.push(join(dir, e.name));
      else if (e.name === 'catalog.json' || e.name === 'collection.json') out.push(join(dir, e.name));
    }
  }
  return out.sort();
}

/**
 * Static STAC catalogs under the data roots: every `catalog.json` and `collection.json`, following
 * `child` links from catalogs; each Collection with its `item` links becomes a served collection.
 * Links that leave the root or point at missing files are ignored (published catalogs often
 * reference files that were not copied).
 */
export async function findStaticCollections(roots: string[], log: Logger): Promise<StaticCollection[]> {
  const out: StaticCollection[] = [];
  const seen = new Set<string>();
  for (const rootArg of roots) {
    const root = await realpath(rootArg);
    const todo = await catalogFiles(root);
    while (todo.length > 0) {
      const abs = todo.shift()!;
      let real: string;
      try {
        real = await realpath(abs);
      } catch {
        continue;
      }
      if (seen.has(real) || !isInside(root, real)) continue;
      seen.add(real);
      const doc = await readJson(real);
      if (!doc || typeof doc['id'] !== 'string') continue;
      for (const href of links(doc, 'child')) {
        const child = await localTarget(root, real, href);
        if (child) todo.push(child);
      }
      if (doc['type'] !== 'Collection') continue;
      const items: string[] = [];
      const assets = new Set<string>();
      for (const href of links(doc, 'item')) {
        const itemAbs = await localTarget(root, real, href);
        if (!itemAbs) continue;
        const item = await readJson(itemAbs);
        if (!item || item['type'] !== 'Feature') continue;
        items.push(toPosix(relative(root, itemAbs)));
        for (const a of Object.values(isObject(item['assets']) ? item['assets'] : {})) {
          if (!isObject(a) || typeof a['href'] !== 'string') continue;
          const target = await localTarget(root, itemAbs, a['href']);
          if (target) assets.add(toPosix(relative(root, target)));
        }
      }
      const file = toPosix(relative(root, real));
      log.info(
        { file, items: items.length },
        `static STAC collection ${String(doc['id'])} (${file}): ${items.length} item(s)`,
      );
      out.push({ id: safeId(doc['id']), root, file, doc, items, assets });
    }
  }
  return out;
}

function ms(v: unknown): number {
  return typeof v === 'string' ? Date.parse(v) : NaN;
}

/** One published item as an index draft: hrefs of local assets point at our download route. */
async function staticDraft(c: StaticCollection, rel: string): Promise<ItemDraft | undefined> {
  const abs = join(c.root, rel);
  const item = await readJson(abs);
  if (!item || typeof item['id'] !== 'string') return undefined;
  const props = isObject(item['properties']) ? item['properties'] : {};
  let geometry: GeoJsonGeometry | null = null;
  try {
    geometry = item['geometry'] ? parseGeometry(item['geometry'], 'geometry') : null;
  } catch {
    geometry = null;
  }
  const bbox =
    Array.isArray(item['bbox']) && item['bbox'].length >= 4
      ? ((item['bbox'].length === 6
          ? [item['bbox'][0], item['bbox'][1], item['bbox'][3], item['bbox'][4]]
          : item['bbox'].slice(0, 4)) as Box)
      : geometry
        ? (geometryBox(geometry) ?? null)
        : null;
  const dt = ms(props['datetime']);
  const start = Number.isFinite(ms(props['start_datetime'])) ? ms(props['start_datetime']) : dt;
  const end = Number.isFinite(ms(props['end_datetime'])) ? ms(props['end_datetime']) : dt;
  const assets: Json = {};
  for (const [key, a] of Object.entries(isObject(item['assets']) ? item['assets'] : {})) {
    if (!isObject(a) || typeof a['href'] !== 'string') continue;
    const target = await localTarget(c.root, abs, a['href']);
    if (target) {
      const fileRel = toPosix(relative(c.root, target));
      assets[key] = {
        ...a,
        href: `${BASE}/stac/collections/${encodeURIComponent(c.id)}/files/${fileRel.split('/').map(encodeURIComponent).join('/')}`,
      };
    } else if (/^https?:\/\//i.test(a['href'])) {
      assets[key] = a;
    }
    // A relative href to a file that is not there would be a dead link: dropped.
  }
  // Links are regenerated for this API at response time; only absolute external ones survive.
  const kept = (Array.isArray(item['links']) ? item['links'] : []).filter(
    (l): l is Json =>
      isObject(l) &&
      typeof l['href'] === 'string' &&
      /^https?:\/\//i.test(l['href']) &&
      !['self', 'root', 'parent', 'collection'].includes(String(l['rel'])),
  );
  const doc = { ...item, collection: c.id, links: kept, assets };
  return { id: item['id'], geometry, bbox, start, end, properties: props, doc: JSON.stringify(doc) };
}

/** Index sources of the static collections: one source per item file, stamped by its size and time. */
export async function staticSources(collections: StaticCollection[]): Promise<CollectionSource[]> {
  const out: CollectionSource[] = [];
  for (const c of collections) {
    const files: SourceFile[] = [];
    for (const rel of c.items) {
      const st = await stat(join(c.root, rel));
      const draft = await staticDraft(c, rel);
      files.push({
        rel,
        stamp: `static-1:${c.id}:${st.size}:${st.mtimeMs}`,
        size: () => st.size,
        items: () => (draft ? [draft] : []),
      });
    }
    out.push({ id: c.id, kind: 'static', files });
  }
  return out;
}

/** Local COG assets of the static collections (the hook for Coverages: serve them as grids when it reads COGs). */
export async function staticCogAssets(collections: StaticCollection[]): Promise<StaticCogAsset[]> {
  const out: StaticCogAsset[] = [];
  for (const c of collections) {
    for (const rel of c.items) {
      const item = await readJson(join(c.root, rel));
      for (const [key, a] of Object.entries(item && isObject(item['assets']) ? item['assets'] : {})) {
        if (!isObject(a) || typeof a['href'] !== 'string' || !/image\/tiff/.test(String(a['type'] ?? ''))) continue;
        const target = await localTarget(c.root, join(c.root, rel), a['href']);
        if (target) out.push({ collection: c.id, item: String(item!['id']), key, path: target });
      }
    }
  }
  return out;
}
