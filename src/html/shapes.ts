import type { FeatureRecord } from '../catalog/feature.js';

export interface MapShape {
  points: Array<[number, number]>;
  href?: string;
  title?: string;
  muted?: boolean;
}

/** A feature as something svgMap can draw; undefined for features without a position. */
export function shapeOf(r: FeatureRecord, href?: string, muted = false): MapShape | undefined {
  if (!r.geometry) return undefined;
  const points = r.geometry.type === 'Point' ? [r.geometry.coordinates] : r.geometry.coordinates;
  return { points, title: `${r.id} ${r.properties['datetime'] ?? ''}`.trim(), muted, ...(href ? { href } : {}) };
}

export function shapesOf(records: FeatureRecord[], href: (r: FeatureRecord) => string, muted = false): MapShape[] {
  return records.flatMap((r) => shapeOf(r, href(r), muted) ?? []);
}
