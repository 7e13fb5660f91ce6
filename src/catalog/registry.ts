import type { CollectionConfig } from '../config/collection-schema.js';
import type { Collection } from './collection.js';
import { FeatureStore } from './feature-store.js';
import type { FileIndex } from './file-index.js';
import { familyOf, type Grouping } from './group.js';
import type { CatalogBackend, CatalogLedger } from './store/backend.js';

type Entry = Omit<FileIndex, 'features'>;

/** Feature collections list this many of their files (HTML, descriptions); features name their own. */
const LISTED_FILES = 5;

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

function unionBBox(
  boxes: Array<[number, number, number, number] | undefined>,
): [number, number, number, number] | undefined {
  const bs = boxes.filter((b): b is [number, number, number, number] => b !== undefined);
  if (bs.length === 0) return undefined;
  return [
    Math.min(...bs.map((b) => b[0])),
    Math.min(...bs.map((b) => b[1])),
    Math.max(...bs.map((b) => b[2])),
    Math.max(...bs.map((b) => b[3])),
  ];
}

function unionSpan(spans: Array<[number, number] | undefined>): [number, number] | undefined {
  const ss = spans.filter(
    (s): s is [number, number] => s !== undefined && Number.isFinite(s[0]) && Number.isFinite(s[1]),
  );
  if (ss.length === 0) return undefined;
  return [Math.min(...ss.map((s) => s[0])), Math.max(...ss.map((s) => s[1]))];
}

/**
 * The collections the APIs serve, built from the catalog: a small description per collection,
 * refreshed for the collections a commit touched. Features stay on disk (FeatureStore).
 */
export class CollectionRegistry {
  /** Read by every API; updated in place as the indexer commits. */
  readonly collections = new Map<string, Collection>();
  private readonly ledger: CatalogLedger;

  constructor(
    private readonly store: CatalogBackend,
    private readonly grouping: Grouping,
    private readonly indexing: (id: string) => boolean = () => false,
  ) {
    this.ledger = store.ledger;
  }

  /** Rebuild the given collections (all of them when none given) from the catalog. */
  async refresh(ids?: Iterable<string>): Promise<void> {
    if (!ids) {
      await this.store.loadCatalog();
      const now = new Set(this.store.collections().filter((id) => this.store.kindOf(id) !== 'static'));
      for (const id of [...this.collections.keys()]) if (!now.has(id)) this.collections.delete(id);
      ids = now;
    }
    for (const id of ids) {
      const c = await this.build(id);
      if (c) this.collections.set(id, c);
      else this.collections.delete(id);
    }
  }

  /** Mark which collections are still being indexed (after a scan step). */
  updateStates(): void {
    for (const c of this.collections.values()) {
      const busy = this.indexing(c.id);
      if (busy) c.indexing = true;
      else delete c.indexing;
    }
  }

  private async build(id: string): Promise<Collection | undefined> {
    const kind = this.store.kindOf(id);
    if (kind === undefined || kind === 'static') return undefined;
    const root = await this.ledger.collectionRoot(id);
    const files = await this.ledger.collectionFiles(id, kind === 'grid' ? -1 : LISTED_FILES);
    if (!root || files.length === 0) return undefined;
    const entries = files.map((f) => f.entry as Entry);
    const first = entries[0]!;
    const config: CollectionConfig | undefined = this.grouping.configFor(id);
    const family = familyOf(id);
    const attrs = first.attrs ?? {};
    const fileCount = kind === 'grid' ? entries.length : this.ledger.fileCount(id);
    const stats = this.store.statsOf(id);
    let parameters = first.parameters ?? [];
    if (config?.variables) parameters = parameters.filter((p) => config.variables!.includes(p.name));
    const what =
      first.kind === 'profile'
        ? 'profiles'
        : first.kind === 'trajectory'
          ? 'trajectories'
          : first.kind === 'timeSeries'
            ? 'time series'
            : 'gridded data';
    const keywords =
      config?.keywords ??
      (attrs['keywords']
        ? attrs['keywords']
            .split(/[,;]/)
            .map((k) => k.trim())
            .filter(Boolean)
        : family
          ? ['Argo']
          : []);
    const c: Collection = {
      id,
      title: config?.title ?? family?.title ?? attrs['title'] ?? id,
      description:
        config?.description ??
        family?.description ??
        attrs['summary'] ??
        attrs['comment'] ??
        `${what} from ${fileCount === 1 ? first.rel : `${fileCount} files`}${attrs['institution'] ? ` (${attrs['institution']})` : ''}`,
      keywords,
      kind: first.kind!,
      root,
      files: entries.map((e) => e.rel),
      fileCount,
      formats: [...new Set(entries.flatMap((e) => (e.format ? [e.format] : [])))],
      attrs,
      parameters,
    };
    const license = config?.license ?? attrs['license'];
    if (license) c.license = license;
    if (config?.attribution) c.attribution = config.attribution;
    if (config?.providers) c.providers = config.providers;
    if (kind === 'feature') c.features = new FeatureStore(this.store, id);
    else c.grid = entries.flatMap((e) => (e.grid ? [{ file: e.rel, summary: e.grid }] : []));
    const bbox =
      config?.extent?.bbox ??
      (kind === 'feature'
        ? (stats.bbox as [number, number, number, number] | undefined)
        : unionBBox(entries.map((e) => e.bbox)));
    if (bbox) c.bbox = padDegenerate(bbox);
    const span = kind === 'feature' ? stats.time : unionSpan(entries.map((e) => e.timeSpan));
    const temporal = config?.extent?.temporal;
    if (temporal)
      c.timeSpan = [
        temporal[0] ? Date.parse(temporal[0]) : (span?.[0] ?? NaN),
        temporal[1] ? Date.parse(temporal[1]) : (span?.[1] ?? NaN),
      ];
    else if (span) c.timeSpan = span;
    if (this.indexing(id)) c.indexing = true;
    return c;
  }
}
