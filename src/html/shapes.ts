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

/**
 * A small standalone SVG image of points and tracks inside `bbox` (plate carrée), for a feature
 * collection's thumbnail on the landing page.
 */
export function thumbnailSvg(bbox: [number, number, number, number], shapes: MapShape[], width: number): string {
  const pad = Math.max(0.5, (bbox[2] - bbox[0]) * 0.08, (bbox[3] - bbox[1]) * 0.08);
  const [w, s, e, n] = [bbox[0] - pad, Math.max(-90, bbox[1] - pad), bbox[2] + pad, Math.min(90, bbox[3] + pad)];
  const height = Math.max(40, Math.min(width, Math.round((width * (n - s)) / Math.max(e - w, 1e-9))));
  const px = (x: number) => (((x - w) / (e - w)) * width).toFixed(1);
  const py = (y: number) => (((n - y) / (n - s)) * height).toFixed(1);
  const body = shapes
    .map((sh) =>
      sh.points.length === 1
        ? `<circle cx="${px(sh.points[0]![0])}" cy="${py(sh.points[0]![1])}" r="2" fill="#d9480f"/>`
        : `<polyline fill="none" stroke="#d9480f" stroke-width="1.2" points="${sh.points.map(([x, y]) => `${px(x)},${py(y)}`).join(' ')}"/>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#dbe9f4"/>${body}</svg>`;
}
