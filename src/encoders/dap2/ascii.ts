/**
 * The DAP2 ASCII answer (.ascii), as OPeNDAP servers write it: the constrained DDS, a rule, then
 * each array with its shape (`sst.sst[1][2][3]`) and one line per row prefixed with its indices.
 * Values are the stored ones, as in .dods.
 */
import type { DapType } from './dataset.js';
import { ddsText, numberText } from './dds.js';
import { fieldParts, slabCount, slabValues, type DapSelection } from './response.js';

function valueText(type: DapType, v: number | bigint): string {
  return typeof v === 'bigint' ? String(v) : numberText(type, v);
}

function* vectorLines(name: string, type: DapType, values: Float64Array): Generator<string> {
  yield `${name}[${values.length}]\n`;
  yield `${Array.from(values, (v) => valueText(type, v)).join(', ')}\n\n`;
}

export async function* asciiBody(sel: DapSelection): AsyncGenerator<string> {
  yield `${ddsText(sel)}---------------------------------------------\n`;
  for (const item of sel.items) {
    if (item.kind === 'coordinate') {
      yield* vectorLines(item.variable.name, item.variable.type, slabValues(item.variable.values, item.slab));
      continue;
    }
    const prefix = item.variable.maps ? `${item.variable.name}.` : '';
    for (const part of fieldParts(item)) {
      if (part.map) {
        yield* vectorLines(
          `${prefix}${part.map.name}`,
          part.map.type,
          slabValues(part.map.values, item.mapSlabs[part.axis!]!),
        );
        continue;
      }
      const shape = item.slabs.map(slabCount);
      const name = `${prefix}${item.variable.name}`;
      yield `${name}${shape.map((n) => `[${n}]`).join('')}\n`;
      const rowLength = shape[shape.length - 1] ?? 1;
      const outer = shape.slice(0, -1);
      const index = outer.map(() => 0);
      let row: string[] = [];
      const lines: string[] = [];
      const flush = () => {
        lines.push(`${index.map((i) => `[${i}]`).join('')}${index.length > 0 ? ', ' : ''}${row.join(', ')}\n`);
        row = [];
        let d = index.length - 1;
        while (d >= 0 && ++index[d]! === outer[d]) index[d--] = 0;
      };
      for await (const block of sel.read(item.plan!, item.variable.field)) {
        const data = block.data as ArrayLike<number | bigint>;
        for (let i = 0; i < data.length; i++) {
          row.push(valueText(item.variable.type, data[i]!));
          if (row.length === rowLength) flush();
        }
        if (lines.length > 0) yield lines.splice(0).join('');
      }
      yield '\n';
    }
  }
}
