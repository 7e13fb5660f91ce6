import type { CatalogBackend } from './store/backend.js';
import type { FeatureFilter, ItemRow } from './store/types.js';
import type { FeatureRecord, Geometry, PropertyValue } from './feature.js';
import { decodeProfileData } from './profile-data.js';

export type PropertyType = 'string' | 'number' | 'integer' | 'boolean';

function recordOf(row: ItemRow): FeatureRecord {
  return {
    id: row.id,
    geometry: row.geom ? (JSON.parse(row.geom) as Geometry) : null,
    start: row.start ?? NaN,
    end: row.end ?? NaN,
    properties: JSON.parse(row.props) as Record<string, PropertyValue>,
    source: { file: row.file, index: row.fidx ?? 0 },
    rowid: row.rowid,
    ...(row.levels ? { levels: row.levels } : {}),
  };
}

/**
 * The features of one profile, trajectory or time-series collection, read from the catalog
 * (SQLite or PostgreSQL): nothing is held in memory per feature, whatever the size of the archive.
 */
export class FeatureStore {
  constructor(
    private readonly store: CatalogBackend,
    readonly collectionId: string,
  ) {}

  /** Number of features (from the collection's stats, no count query). */
  get size(): number {
    return this.store.statsOf(this.collectionId).count;
  }

  /** One page of matching features in file order, with the exact number matched. */
  async page(
    filter: FeatureFilter,
    offset: number,
    limit: number,
  ): Promise<{ matched: number; records: FeatureRecord[] }> {
    const { matched, rows } = await this.store.features(this.collectionId, filter, offset, limit);
    return { matched, records: rows.map(recordOf) };
  }

  /**
   * One page as GeoJSON Feature texts, assembled from the stored JSON of geometry and properties
   * (nothing parsed and serialised again: the items page is the API's most frequent answer).
   */
  async pageGeojson(
    filter: FeatureFilter,
    offset: number,
    limit: number,
  ): Promise<{ matched: number; features: string[] }> {
    const { matched, rows } = await this.store.features(this.collectionId, filter, offset, limit);
    return {
      matched,
      features: rows.map(
        (r) => `{"type":"Feature","id":${JSON.stringify(r.id)},"geometry":${r.geom ?? 'null'},"properties":${r.props}}`,
      ),
    };
  }

  async get(id: string): Promise<FeatureRecord | undefined> {
    const row = await this.store.get(this.collectionId, id);
    return row && row.fidx !== null ? recordOf(row) : undefined;
  }

  /**
   * Every matching feature, streamed in file order (a batch in memory at a time; safe to await
   * between); `withLevels` brings profiles' levels along (EDR).
   */
  async *iterate(filter: FeatureFilter = {}, withLevels = false): AsyncGenerator<FeatureRecord> {
    for await (const batch of this.store.featureBatches(this.collectionId, filter, withLevels))
      for (const row of batch) yield recordOf(row);
  }

  /** The first `n` features (maps of a collection on HTML pages). */
  async sample(n: number): Promise<FeatureRecord[]> {
    return (await this.page({}, 0, n)).records;
  }

  /** Names and JSON types of the properties (queryables, CSV columns), in first-seen order. */
  propertyTypes(): Map<string, PropertyType> {
    const types = this.store.statsOf(this.collectionId).types;
    return new Map(Object.entries(types) as Array<[string, PropertyType]>);
  }

  /** A profile's levels by variable, from the catalog (no file is opened), when it has them. */
  async levels(r: FeatureRecord): Promise<Map<string, Float64Array> | undefined> {
    const blob = r.levels ?? (r.rowid === undefined ? undefined : await this.store.levels(r.rowid));
    return blob ? decodeProfileData(blob) : undefined;
  }

  /** Smallest and largest value of a numeric property over the collection (from its stats). */
  range(name: string): [number, number] | undefined {
    return this.store.statsOf(this.collectionId).ranges[name];
  }

  /** Whether features are lines (trajectories) rather than points. */
  async hasLines(): Promise<boolean> {
    return (await this.sample(1)).some((r) => r.geometry?.type === 'LineString');
  }
}
