/** CSV: a header, then one row per sample or grid cell with its time, position, level and values. */
import type { Table } from './rows.js';
import { csvField, isoOrNull, textNumber, TextBatcher } from './text.js';

export async function* csvRows(p: Table): AsyncGenerator<string> {
  const zName = p.vertical?.name ?? 'z';
  const head = [
    ...(p.withId ? ['id'] : []),
    'time',
    'longitude',
    'latitude',
    ...(p.withZ ? [p.vertical?.units ? `${zName} [${p.vertical.units}]` : zName] : []),
    ...p.parameters.map((q) => (q.units ? `${q.name} [${q.units}]` : q.name)),
  ];
  yield `${head.map(csvField).join(',')}\r\n`;
  const names = p.parameters.map((q) => q.name);
  const out = new TextBatcher();
  for await (const b of p.batches()) {
    const id = p.withId ? `${csvField(b.id)},` : '';
    for (let i = 0; i < b.n; i++) {
      let line = `${id}${isoOrNull(b.t[i]!) ?? ''},${textNumber(b.x[i]!)},${textNumber(b.y[i]!)}`;
      if (p.withZ) line += `,${b.z ? textNumber(b.z[i]!) : ''}`;
      for (const name of names) line += `,${textNumber(b.values[name]?.[i] ?? NaN)}`;
      const piece = out.push(`${line}\r\n`);
      if (piece) yield piece;
    }
  }
  const rest = out.take();
  if (rest) yield rest;
}
