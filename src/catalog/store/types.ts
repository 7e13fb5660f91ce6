import type { TimeInterval } from '../../core/query/datetime.js';
import type { BBox } from '../../core/query/bbox.js';
import type { Cql2Node } from '../../core/cql2/ast.js';
import type { Box, GeoJsonGeometry } from '../../core/geometry.js';

/** How an item's JSON is produced at response time. */
export type ItemKind = 'feature' | 'grid' | 'static';

/** One item as a collection source yields it to the index. */
export interface ItemDraft {
  id: string;
  geometry: GeoJsonGeometry | null;
  bbox: Box | null;
  /** Epoch ms; NaN when unknown (equal for an instant). */
  start: number;
  end: number;
  /** STAC properties, datetime/start_datetime/end_datetime included. */
  properties: Record<string, unknown>;
  /** The whole item as published (static catalogs), hrefs already rewritten to the base placeholder. */
  doc?: string;
  /** Data features: the feature's index in its file (N_PROF row, station, trajectory). */
  fidx?: number;
  /** Profiles: their levels, packed (catalog/profile-data.ts). */
  levels?: Uint8Array;
}

/** One file (or static item file) of a collection: its items are replaced only when its stamp changes. */
export interface SourceFile {
  /** Path relative to the collection's data root. */
  rel: string;
  /** Changes whenever the items would: a hash of what they are built from. */
  stamp: string;
  /** Bytes, for asset sizes: asked only when the file's items are (re)indexed. */
  size?: () => number | undefined;
  items: () => Iterable<ItemDraft>;
}

export interface CollectionSource {
  id: string;
  kind: ItemKind;
  files: Iterable<SourceFile>;
}

/** What search and item look-ups return: enough to build the item JSON without the files. */
export interface ItemRow {
  rowid: number;
  collection: string;
  kind: ItemKind;
  id: string;
  sk: number;
  start: number | null;
  end: number | null;
  bbox: Box | null;
  geom: string | null;
  props: string;
  doc: string | null;
  file: string;
  size: number | null;
  /** Data features: index of the feature in its file. */
  fidx: number | null;
  /** Profiles' packed levels, when asked for with the rows. */
  levels?: Uint8Array;
}

export type JsonType = 'string' | 'number' | 'integer' | 'boolean';

/** Per-collection facts gathered while indexing, for queryables and summaries. */
export interface CollectionStats {
  count: number;
  types: Record<string, JsonType>;
  /** Distinct values of low-cardinality string properties (null once there are too many). */
  values: Record<string, string[] | null>;
  ranges: Record<string, [number, number]>;
  /** Epoch ms of the earliest start and latest end. */
  time?: [number, number];
  /** Longest item time span, ms (bounds a time-ordered scan from below). */
  maxSpan?: number;
  bbox?: Box;
  /** Data files the items come from (a file's own stats say 1). */
  files?: number;
  /** Items with a time (the ones STAC serves); absent in stats written before it was counted. */
  timed?: number;
}

export interface SortField {
  field: string;
  direction: 'asc' | 'desc';
}

/** Opaque to clients: the offset, and for time-ordered pages the last row's key (keyset paging). */
export interface PageToken {
  offset: number;
  after?: [number, number];
  /** The first page's count (-1: more than counted), so later pages need not count again. */
  matched?: number;
}

export interface SearchSpec {
  collections?: string[];
  /** Collections left out of a search over all (STAC serves their files through another collection). */
  excludeCollections?: string[];
  ids?: string[];
  bbox?: BBox;
  intersects?: GeoJsonGeometry;
  datetime?: TimeInterval;
  filter?: Cql2Node;
  sortby?: SortField[];
  limit: number;
  token?: PageToken;
}

export interface SearchResult {
  rows: ItemRow[];
  /** Exact count, when it is cheap enough to know (see CatalogStore.search). */
  matched?: number;
  next?: PageToken;
}

export interface SyncReport {
  collections: number;
  files: number;
  kept: number;
  replaced: number;
  removed: number;
  items: number;
  seconds: number;
}

/** What the Features API and EDR filter a data collection's features by. */
export interface FeatureFilter {
  bbox?: BBox;
  datetime?: TimeInterval;
  /** Property equalities; values already checked against the queryable's type. */
  properties?: Record<string, string | number | boolean | null>;
  /** A CQL2 filter (Features Part 3), geometries already in CRS84. */
  cql?: Cql2Node;
  /** Order of the features (default: file order). */
  sortby?: SortField[];
  /** Where the collection's queryables and sortables are, for error messages. */
  queryablesHref?: string;
}
