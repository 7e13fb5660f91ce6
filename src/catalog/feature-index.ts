import { intersectsBox, lineIntersectsBBox, type BBox } from '../core/query/bbox.js';
import { overlaps, type TimeInterval } from '../core/query/datetime.js';
import type { FeatureRecord, PropertyValue } from './feature.js';
import { geometryBBox } from './feature.js';

export interface FeatureQuery {
  bbox?: BBox;
  datetime?: TimeInterval;
  /** Property equality filters; values already checked against the queryable's type. */
  properties?: Record<string, PropertyValue>;
}

/** Filters whose matches are kept per collection (least recently used dropped first). */
const RECENT_QUERIES = 64;

/**
 * The features of one collection, held in memory with their bounding boxes and times in typed
 * columns so a bbox + datetime scan over 10⁵ features takes well under a millisecond.
 * Each feature's GeoJSON text is built once and reused by every response.
 */
export class FeatureIndex {
  readonly records: FeatureRecord[];
  private readonly byId = new Map<string, number>();
  private readonly west: Float64Array;
  private readonly south: Float64Array;
  private readonly east: Float64Array;
  private readonly north: Float64Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly json: Array<string | undefined>;
  private types: Map<string, 'string' | 'number' | 'integer' | 'boolean'> | undefined;
  private readonly recent = new Map<string, readonly number[]>();

  constructor(records: FeatureRecord[]) {
    this.records = records;
    const n = records.length;
    this.west = new Float64Array(n).fill(NaN);
    this.south = new Float64Array(n).fill(NaN);
    this.east = new Float64Array(n).fill(NaN);
    this.north = new Float64Array(n).fill(NaN);
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.json = new Array<string | undefined>(n);
    records.forEach((r, i) => {
      this.byId.set(r.id, i);
      const b = geometryBBox(r.geometry);
      if (b) [this.west[i], this.south[i], this.east[i], this.north[i]] = b;
      this.start[i] = r.start ?? NaN;
      this.end[i] = r.end ?? NaN;
    });
  }

  get size(): number {
    return this.records.length;
  }

  get(id: string): FeatureRecord | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.records[i];
  }

  /**
   * Indices of matching features, in index order. Results of recent filters are kept: a client paging
   * through a result asks the same filter once per page.
   */
  query(q: FeatureQuery): readonly number[] {
    const key = JSON.stringify([q.bbox, q.datetime?.start, q.datetime?.end, q.properties]);
    const hit = this.recent.get(key);
    if (hit) {
      this.recent.delete(key);
      this.recent.set(key, hit);
      return hit;
    }
    const result = this.scan(q);
    this.recent.set(key, result);
    if (this.recent.size > RECENT_QUERIES) this.recent.delete(this.recent.keys().next().value!);
    return result;
  }

  private scan(q: FeatureQuery): number[] {
    const out: number[] = [];
    const props = q.properties ? Object.entries(q.properties) : [];
    for (let i = 0; i < this.records.length; i++) {
      if (q.bbox) {
        if (Number.isNaN(this.west[i]!)) continue;
        if (!intersectsBox(q.bbox, this.west[i]!, this.south[i]!, this.east[i]!, this.north[i]!)) continue;
        // A point's box is the point: the box test decided. Lines need their segments tested.
        const g = this.records[i]!.geometry!;
        if (g.type === 'LineString' && !lineIntersectsBBox(q.bbox, g.coordinates)) continue;
      }
      if (q.datetime && !overlaps(q.datetime, this.start[i]!, this.end[i]!)) continue;
      if (props.length > 0) {
        const p = this.records[i]!.properties;
        if (!props.every(([k, v]) => p[k] === v)) continue;
      }
      out.push(i);
    }
    return out;
  }

  /** The feature as GeoJSON text (no links: they depend on the request's host). */
  geojson(i: number): string {
    let s = this.json[i];
    if (s === undefined) {
      const r = this.records[i]!;
      s = JSON.stringify({ type: 'Feature', id: r.id, geometry: r.geometry, properties: r.properties });
      this.json[i] = s;
    }
    return s;
  }

  /** Names and JSON types of the properties, from the features themselves (for queryables and CSV columns). */
  propertyTypes(): Map<string, 'string' | 'number' | 'integer' | 'boolean'> {
    if (this.types) return this.types;
    const types = new Map<string, 'string' | 'number' | 'integer' | 'boolean'>();
    for (const r of this.records.slice(0, 1000)) {
      for (const [k, v] of Object.entries(r.properties)) {
        if (v === null) continue;
        const t = typeof v === 'number' ? (Number.isInteger(v) && types.get(k) !== 'number' ? 'integer' : 'number') : typeof v === 'boolean' ? 'boolean' : 'string';
        if (!types.has(k) || (types.get(k) === 'integer' && t === 'number')) types.set(k, t);
      }
      for (const k of Object.keys(r.properties)) if (!types.has(k)) types.set(k, 'string');
    }
    this.types = types;
    return types;
  }

  /** The union of the features' boxes, or undefined when none has a position. */
  extent(): [number, number, number, number] | undefined {
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    for (let i = 0; i < this.records.length; i++) {
      if (Number.isNaN(this.west[i]!)) continue;
      w = Math.min(w, this.west[i]!);
      s = Math.min(s, this.south[i]!);
      e = Math.max(e, this.east[i]!);
      n = Math.max(n, this.north[i]!);
    }
    return Number.isFinite(w) ? [w, s, e, n] : undefined;
  }

  timeSpan(): [number, number] | undefined {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < this.records.length; i++) {
      const s = this.start[i]!;
      const e = this.end[i]!;
      if (Number.isFinite(s) && s < lo) lo = s;
      if (Number.isFinite(e) && e > hi) hi = e;
    }
    return lo <= hi ? [lo, hi] : undefined;
  }
}
