import type { FeatureStore } from '../../catalog/feature-store.js';
import type { FeatureData } from '../../catalog/feature-data.js';
import type { FeatureRecord } from '../../catalog/feature.js';
import { csvField } from '../../encoders/table/text.js';

function lonLat(r: FeatureRecord): [number | null, number | null] {
  if (!r.geometry) return [null, null];
  if (r.geometry.type === 'Point') return r.geometry.coordinates;
  const first = r.geometry.coordinates[0];
  return first ? first : [null, null];
}

/** One row per feature: id, position (first vertex for lines), then every property. */
export function featuresCsv(index: FeatureStore, rows: FeatureRecord[]): string {
  const names = [...index.propertyTypes().keys()];
  const lines = [['id', 'longitude', 'latitude', ...names].map(csvField).join(',')];
  for (const r of rows) {
    const [x, y] = lonLat(r);
    lines.push([r.id, x, y, ...names.map((n) => r.properties[n])].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One row per level or observation of one feature, with the feature's id, time and position repeated. */
export function featureDataCsv(r: FeatureRecord, data: FeatureData): string {
  const [x, y] = lonLat(r);
  const hasTime = data.columns.some((c) => c.name === 'time');
  const hasPos = data.columns.some((c) => c.name === 'latitude');
  const head = ['id', ...(hasTime ? [] : ['datetime']), ...(hasPos ? [] : ['longitude', 'latitude']), ...data.columns.map((c) => (c.units ? `${c.name} [${c.units}]` : c.name))];
  const n = Math.max(0, ...data.columns.map((c) => c.values.length));
  const lines = [head.map(csvField).join(',')];
  for (let k = 0; k < n; k++) {
    const fixed = [r.id, ...(hasTime ? [] : [r.properties['datetime']]), ...(hasPos ? [] : [x, y])];
    lines.push([...fixed, ...data.columns.map((c) => c.values[k])].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
