/** One feature of a profile, trajectory or time-series collection, as indexed at discovery. */
export type PropertyValue = string | number | boolean | null;

export type Geometry =
  { type: 'Point'; coordinates: [number, number] } | { type: 'LineString'; coordinates: Array<[number, number]> };

export interface FeatureRecord {
  id: string;
  geometry: Geometry | null;
  /** Observation time span in epoch ms (equal for an instant; NaN when unknown). */
  start: number;
  end: number;
  properties: Record<string, PropertyValue>;
  /** Where the feature's data lives: file path relative to its data root, and the index along the feature dimension. */
  source: { file: string; index: number };
  /** A profile's levels, packed (see profile-data.ts): written to the catalog at index time. */
  levels?: Uint8Array;
  /** The feature's row in the catalog (features read back from it). */
  rowid?: number;
}

/** Feature ids must survive a URL path segment and GDAL/QGIS: keep them to [A-Za-z0-9_-]. */
export function safeId(text: string): string {
  return text.trim().replace(/[^A-Za-z0-9_-]/g, '-');
}

export function geometryBBox(g: Geometry | null): [number, number, number, number] | undefined {
  if (!g) return undefined;
  if (g.type === 'Point') return [g.coordinates[0], g.coordinates[1], g.coordinates[0], g.coordinates[1]];
  let w = Infinity,
    s = Infinity,
    e = -Infinity,
    n = -Infinity;
  for (const [x, y] of g.coordinates) {
    if (x < w) w = x;
    if (x > e) e = x;
    if (y < s) s = y;
    if (y > n) n = y;
  }
  return Number.isFinite(w) ? [w, s, e, n] : undefined;
}

/** Rounds to a fixed number of decimals so JSON stays short and deterministic. */
export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
