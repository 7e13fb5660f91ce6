import { realpath } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CollectionConfig } from '../config/collection-schema.js';
import { globToRegExp } from '../core/glob.js';
import { IndexCache } from './cache.js';
import type { Collection } from './collection.js';
import { FeatureIndex } from './feature-index.js';
import type { FeatureRecord } from './feature.js';
import { indexFile, type FileIndex } from './file-index.js';
import { walkDataFiles, type FoundFile } from './walk.js';

export interface DiscoverOptions {
  dataRoots: string[];
  configs: CollectionConfig[];
  /** Folder for the per-root index cache; undefined disables caching. */
  cacheDir?: string;
  log: Logger;
  /** Files opened at once while indexing. */
  concurrency?: number;
}

/** Collection ids: the file or folder name with every character outside [A-Za-z0-9_-] replaced by '-'. */
export function collectionIdFor(relPath: string, isFolder: boolean): string {
  const name = isFolder ? relPath : relPath.replace(/^.*\//, '').replace(/\.(nc4?|nc3|cdf|netcdf|h5|hdf5?|he5|bag|tiff?)$/i, '');
  return name.replace(/[^A-Za-z0-9_-]/g, '-');
}

async function indexAll(root: string, files: FoundFile[], cache: IndexCache, log: Logger, concurrency: number): Promise<FileIndex[]> {
  const out = new Array<FileIndex>(files.length);
  let next = 0;
  let done = 0;
  let fresh = 0;
  const t0 = Date.now();
  let lastReport = t0;
  const report = (final: boolean) => {
    const secs = (Date.now() - t0) / 1000;
    log.info({ root, done, total: files.length, indexed: fresh, cached: done - fresh, seconds: Number(secs.toFixed(2)) },
      `${final ? 'indexed' : 'indexing'} ${root}: ${done}/${files.length} files (${fresh} read, ${done - fresh} from cache) in ${secs.toFixed(1)} s`);
  };
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const f = files[i]!;
      let entry = cache.get(f.rel, f.size, f.mtimeMs);
      if (!entry) {
        entry = await indexFile(f);
        cache.set(entry);
        fresh++;
      }
      out[i] = entry;
      done++;
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        report(false);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  report(true);
  return out;
}

/**
 * Grids aggregate only along time: files that each cover their own time span (daily or monthly files
 * of one product). Same-shaped grids without distinct times (the sst, anom, err and ice GeoTIFFs of
 * one day) are different datasets and stay separate collections.
 */
function alongTime(files: FileIndex[]): boolean {
  const spans = files.map((f) => f.timeSpan);
  if (spans.some((s) => !s || s[0] === null || s[1] === null)) return false;
  const sorted = (spans as Array<[number, number]>).slice().sort((a, b) => a[0] - b[0]);
  return sorted.every((s, i) => i === 0 || s[0] > sorted[i - 1]![1]);
}

function folderOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function unionBBox(boxes: Array<[number, number, number, number] | undefined>): [number, number, number, number] | undefined {
  const bs = boxes.filter((b): b is [number, number, number, number] => b !== undefined);
  if (bs.length === 0) return undefined;
  return [Math.min(...bs.map((b) => b[0])), Math.min(...bs.map((b) => b[1])), Math.max(...bs.map((b) => b[2])), Math.max(...bs.map((b) => b[3]))];
}

function unionSpan(spans: Array<[number, number] | undefined>): [number, number] | undefined {
  const ss = spans.filter((s): s is [number, number] => s !== undefined && s[0] !== null && s[1] !== null);
  if (ss.length === 0) return undefined;
  return [Math.min(...ss.map((s) => s[0])), Math.max(...ss.map((s) => s[1]))];
}

/**
 * A single station or profile has a zero-area extent, which clients such as QGIS treat as "empty"
 * (no zoom to layer before features arrive): widen such a box by a few metres; it still contains
 * every feature.
 */
const DEGENERATE_PAD = 0.0005;
function padDegenerate(b: [number, number, number, number]): [number, number, number, number] {
  const [w, s, e, n] = b;
  const dx = e - w < DEGENERATE_PAD ? DEGENERATE_PAD : 0;
  const dy = n - s < DEGENERATE_PAD ? DEGENERATE_PAD : 0;
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return [r(Math.max(-180, w - dx)), r(Math.max(-90, s - dy)), r(Math.min(180, e + dx)), r(Math.min(90, n + dy))];
}

/** Feature ids unique within a collection: a repeated id gets a numeric suffix. */
function uniqueIds(records: FeatureRecord[]): FeatureRecord[] {
  const seen = new Set<string>();
  return records.map((r) => {
    let id = r.id;
    for (let k = 2; seen.has(id); k++) id = `${r.id}_${k}`;
    seen.add(id);
    const start = r.start ?? NaN;
    const end = r.end ?? NaN;
    return id === r.id && start === r.start && end === r.end ? r : { ...r, id, start, end };
  });
}

function buildCollection(id: string, root: string, entries: FileIndex[], config?: CollectionConfig): Collection {
  const first = entries[0]!;
  const attrs = first.attrs ?? {};
  const kind = first.kind!;
  const records = kind === 'grid' ? [] : uniqueIds(entries.flatMap((e) => e.features ?? []));
  const features = kind === 'grid' ? undefined : new FeatureIndex(records);
  let parameters = first.parameters ?? [];
  if (config?.variables) parameters = parameters.filter((p) => config.variables!.includes(p.name));
  const keywords = config?.keywords ?? (attrs['keywords'] ? attrs['keywords'].split(/[,;]/).map((k) => k.trim()).filter(Boolean) : []);
  const what = kind === 'profile' ? 'profiles' : kind === 'trajectory' ? 'trajectories' : kind === 'timeSeries' ? 'time series' : 'gridded data';
  const collection: Collection = {
    id,
    title: config?.title ?? attrs['title'] ?? id,
    description: config?.description ?? attrs['summary'] ?? attrs['comment'] ?? `${what} from ${entries.length === 1 ? first.rel : `${entries.length} files`}${attrs['institution'] ? ` (${attrs['institution']})` : ''}`,
    keywords,
    kind,
    root,
    files: entries.map((e) => e.rel),
    formats: [...new Set(entries.flatMap((e) => (e.format ? [e.format] : [])))],
    attrs,
    parameters,
  };
  const license = config?.license ?? attrs['license'];
  if (license) collection.license = license;
  if (config?.attribution) collection.attribution = config.attribution;
  if (config?.providers) collection.providers = config.providers;
  if (features) collection.features = features;
  if (kind === 'grid') collection.grid = entries.flatMap((e) => (e.grid ? [{ file: e.rel, summary: e.grid }] : []));
  const bbox = config?.extent?.bbox ?? (features ? features.extent() : unionBBox(entries.map((e) => e.bbox)));
  if (bbox) collection.bbox = padDegenerate(bbox);
  const span = features ? features.timeSpan() : unionSpan(entries.map((e) => e.timeSpan));
  const temporal = config?.extent?.temporal;
  if (temporal) {
    collection.timeSpan = [temporal[0] ? Date.parse(temporal[0]) : span?.[0] ?? NaN, temporal[1] ? Date.parse(temporal[1]) : span?.[1] ?? NaN];
  } else if (span) {
    collection.timeSpan = span;
  }
  return collection;
}

/**
 * Find the collections under every data root: configured ones first (their globs claim files),
 * then one collection per remaining file, or per sub-folder whose files are homogeneous.
 */
export async function discover(opts: DiscoverOptions): Promise<Map<string, Collection>> {
  const { log } = opts;
  const collections = new Map<string, Collection>();
  const claimedConfigs = new Set<string>();
  const add = (c: Collection) => {
    let id = c.id;
    for (let k = 2; collections.has(id); k++) id = `${c.id}-${k}`;
    if (id !== c.id) log.warn({ collection: c.id, renamed: id }, `collection id '${c.id}' is taken: serving ${c.files[0]} as '${id}'`);
    collections.set(id, { ...c, id });
  };
  for (const rootArg of opts.dataRoots) {
    const root = await realpath(rootArg);
    const found = await walkDataFiles(root, (path, why) => log.warn({ path }, `skipped ${path}: ${why}`));
    const cache = await IndexCache.open(opts.cacheDir, root);
    const entries = await indexAll(root, found, cache, log, opts.concurrency ?? 8);
    await cache.save(new Set(found.map((f) => f.rel))).catch((err: Error) => log.warn({ err: err.message }, 'could not write the index cache'));
    const usable: FileIndex[] = [];
    for (const e of entries) {
      if (e.skip) log.info({ file: e.rel }, `skipped ${e.rel}: ${e.skip}`);
      else usable.push(e);
    }
    const claimed = new Set<string>();
    for (const config of opts.configs) {
      const patterns = [config.source].flat().map(globToRegExp);
      const mine = usable.filter((e) => patterns.some((p) => p.test(e.rel)));
      if (mine.length === 0) continue;
      const kinds = new Set(mine.map((e) => e.kind));
      if (kinds.size > 1) {
        log.error({ config: config.file }, `${config.file}: source matches files of different kinds (${[...kinds].join(', ')}); serving only the ${mine[0]!.kind} files`);
      }
      const same = mine.filter((e) => e.kind === mine[0]!.kind);
      same.forEach((e) => claimed.add(e.rel));
      claimedConfigs.add(config.id);
      add(buildCollection(config.id, root, same, config));
    }
    const byFolder = new Map<string, FileIndex[]>();
    for (const e of usable) {
      if (claimed.has(e.rel)) continue;
      const folder = folderOf(e.rel);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), e]);
    }
    for (const [folder, files] of byFolder) {
      const homogeneous = folder !== '' && files.length > 1 && files.every((f) => f.signature === files[0]!.signature && f.kind === files[0]!.kind)
        && (files[0]!.kind !== 'grid' || alongTime(files));
      if (homogeneous) {
        add(buildCollection(collectionIdFor(folder, true), root, files));
      } else {
        for (const f of files) add(buildCollection(collectionIdFor(f.rel, false), root, [f]));
      }
    }
  }
  for (const config of opts.configs) {
    if (!claimedConfigs.has(config.id)) log.warn({ config: config.file }, `${config.file}: source ${JSON.stringify(config.source)} matches no readable file in the data roots`);
  }
  log.info({ collections: collections.size }, `serving ${collections.size} collection(s): ${[...collections.keys()].join(', ')}`);
  return collections;
}
