import type { FeatureStore } from '../../catalog/feature-store.js';
import type { FeatureData } from '../../catalog/feature-data.js';
import type { FeatureRecord } from '../../catalog/feature.js';
import { csvField } from '../../encoders/table/text.js';
import { CRS84, type VectorCrs } from '../../core/query/vector-crs.js';

/** The feature's position (first vertex of a line) in the CRS's axis order. */
function position(r: FeatureRecord, crs: VectorCrs): [number | null, number | null] {
  if (!r.geometry) return [null, null];
  const p = r.geometry.type === 'Point' ? r.geometry.coordinates : r.geometry.coordinates[0];
  return p ? crs.fromCrs84(p[0], p[1]) : [null, null];
}

/** One row per feature: id, position (first vertex for lines) in the answer's CRS, then every property. */
export function featuresCsv(index: FeatureStore, rows: FeatureRecord[], crs: VectorCrs = CRS84): string {
  const names = [...index.propertyTypes().keys()];
  const lines = [['id', ...crs.axes, ...names].map(csvField).join(',')];
  for (const r of rows) {
    const [x, y] = position(r, crs);
    lines.push([r.id, x, y, ...names.map((n) => r.properties[n])].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** One row per level or observation of one feature, with the feature's id, time and position repeated. */
export function featureDataCsv(r: FeatureRecord, data: FeatureData, crs: VectorCrs = CRS84): string {
  const [x, y] = position(r, crs);
  const hasTime = data.columns.some((c) => c.name === 'time');
  const hasPos = data.columns.some((c) => c.name === 'latitude');
  const head = [
    'id',
    ...(hasTime ? [] : ['datetime']),
    ...(hasPos ? [] : crs.axes),
    ...data.columns.map((c) => (c.units ? `${c.name} [${c.units}]` : c.name)),
  ];
  const n = Math.max(0, ...data.columns.map((c) => c.values.length));
  const lines = [head.map(csvField).join(',')];
  for (let k = 0; k < n; k++) {
    const fixed = [r.id, ...(hasTime ? [] : [r.properties['datetime']]), ...(hasPos ? [] : [x, y])];
    lines.push([...fixed, ...data.columns.map((c) => c.values[k])].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
