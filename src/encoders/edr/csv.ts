/** CSV: a header, then one row per sample or grid cell with its time, position, level and values. */
import { csvField } from '../../api/features/csv.js';
import type { EdrPayload } from './payload.js';
import { isoOrNull, textNumber } from './payload.js';
import { hasZ, rowBatches } from './rows.js';
import { TextBatcher } from './text.js';

export async function* csvRows(p: EdrPayload): AsyncGenerator<string> {
  const withId = p.kind === 'samples' && p.hasIds;
  const withZ = hasZ(p);
  const zName = p.vertical?.name ?? 'z';
  const head = [
    ...(withId ? ['id'] : []), 'time', 'longitude', 'latitude',
    ...(withZ ? [p.vertical?.units ? `${zName} [${p.vertical.units}]` : zName] : []),
    ...p.parameters.map((q) => (q.units ? `${q.name} [${q.units}]` : q.name)),
  ];
  yield `${head.map(csvField).join(',')}\r\n`;
  const names = p.parameters.map((q) => q.name);
  const out = new TextBatcher();
  for await (const b of rowBatches(p)) {
    const id = withId ? `${csvField(b.id)},` : '';
    for (let i = 0; i < b.n; i++) {
      let line = `${id}${isoOrNull(b.t[i]!) ?? ''},${textNumber(b.x[i]!)},${textNumber(b.y[i]!)}`;
      if (withZ) line += `,${b.z ? textNumber(b.z[i]!) : ''}`;
      for (const name of names) line += `,${textNumber(b.values[name]?.[i] ?? NaN)}`;
      const piece = out.push(`${line}\r\n`);
      if (piece) yield piece;
    }
  }
  const rest = out.take();
  if (rest) yield rest;
}
