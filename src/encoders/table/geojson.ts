/**
 * GeoJSON FeatureCollection: one Point feature per sample or grid cell, its time, level and
 * parameter values as properties (what GIS clients can style and filter without parsing arrays).
 */
import type { Table } from './rows.js';
import { observedPropertyId } from '../edr/coverage-json.js';
import { isoOrNull, jsonNumber, TextBatcher } from './text.js';

export async function* geojsonFeatures(p: Table): AsyncGenerator<string> {
  const names = p.parameters.map((q) => q.name);
  const keys = names.map((n) => JSON.stringify(n));
  const zKey = JSON.stringify(p.vertical?.name ?? 'z');
  const withZ = p.withZ;
  // EDR GeoJSON: `parameters` lists Parameter objects (with their observed property and unit).
  const parameters = p.parameters.map((q) => ({
    type: 'Parameter',
    id: q.name,
    label: q.label,
    ...(q.units ? { unit: { label: q.units, symbol: q.units } } : {}),
    observedProperty: {
      ...(q.standardName ? { id: observedPropertyId(q.standardName) } : { id: q.name }),
      label: q.label,
    },
  }));
  yield `{"type":"FeatureCollection","parameters":${JSON.stringify(parameters)},"timeStamp":"${new Date().toISOString()}","features":[`;
  const out = new TextBatcher();
  let first = true;
  let n = 0;
  for await (const b of p.batches()) {
    const id = b.id !== undefined ? `"feature_id":${JSON.stringify(b.id)},` : '';
    for (let i = 0; i < b.n; i++) {
      const x = b.x[i]!;
      const y = b.y[i]!;
      const geometry =
        Number.isFinite(x) && Number.isFinite(y)
          ? `{"type":"Point","coordinates":[${jsonNumber(x)},${jsonNumber(y)}]}`
          : 'null';
      let props = `${id}"datetime":${JSON.stringify(isoOrNull(b.t[i]!))}`;
      if (withZ) props += `,${zKey}:${b.z ? jsonNumber(b.z[i]!) : 'null'}`;
      for (let k = 0; k < names.length; k++) props += `,${keys[k]}:${jsonNumber(b.values[names[k]!]?.[i] ?? NaN)}`;
      const piece = out.push(`${first ? '' : ','}{"type":"Feature","geometry":${geometry},"properties":{${props}}}`);
      first = false;
      n++;
      if (piece) yield piece;
    }
  }
  const rest = out.take();
  if (rest) yield rest;
  yield `],"numberMatched":${n},"numberReturned":${n}}`;
}
