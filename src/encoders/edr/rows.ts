/**
 * Row view of any payload, for the tabular outputs (CSV, GeoJSON, Arrow): one row per sample or per
 * selected grid cell, with its time, position, level and the value of each parameter.
 */
import type { EdrPayload } from './payload.js';
import { gridIndexer } from './payload.js';

export interface RowBatch {
  n: number;
  /** The feature id shared by the batch's rows (in-situ sets). */
  id?: string;
  t: Float64Array;
  x: Float64Array;
  y: Float64Array;
  z?: Float64Array;
  values: Record<string, Float64Array>;
}

/** Grid blocks are cut into batches of at most this many rows. */
const MAX_GRID_ROWS = 65_536;

export function hasZ(p: EdrPayload): boolean {
  return p.kind === 'grid' ? p.z !== undefined : p.vertical !== undefined;
}

export async function* rowBatches(p: EdrPayload): AsyncGenerator<RowBatch> {
  if (p.kind === 'samples') {
    for await (const s of p.sets()) {
      if (s.t.length === 0) continue;
      yield { n: s.t.length, ...(p.hasIds ? { id: s.id } : {}), t: s.t, x: s.x, y: s.y, ...(s.z ? { z: s.z } : {}), values: s.values };
    }
    return;
  }
  const nx = p.x.length;
  const at = gridIndexer(p);
  const names = p.parameters.map((q) => q.name);
  // Rows always carry longitude/latitude; a projected grid's cells are transformed one by one.
  const toLonLat = p.projected?.toLonLat;
  if (p.projected && !toLonLat) throw new Error(`no transformation from ${p.projected.label} to longitude/latitude: ask for CoverageJSON or NetCDF`);
  for await (const block of p.blocks(names)) {
    // Rows in the layout's order, skipping masked cells; cut into batches of bounded size.
    let k = 0;
    while (k < block.length) {
      const rows: number[] = [];
      for (; k < block.length && rows.length < MAX_GRID_ROWS; k++) {
        if (p.mask) {
          const c = at(block.start + k);
          if (p.mask[c.y * nx + c.x] === 0) continue;
        }
        rows.push(k);
      }
      const n = rows.length;
      if (n === 0) continue;
      const t = new Float64Array(n);
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      const z = p.z ? new Float64Array(n) : undefined;
      const values: Record<string, Float64Array> = {};
      for (const name of names) values[name] = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const c = at(block.start + rows[r]!);
        t[r] = p.t ? p.t[c.t]! : NaN;
        if (toLonLat) {
          [x[r], y[r]] = toLonLat(p.x[c.x]!, p.y[c.y]!);
        } else {
          x[r] = p.x[c.x]!;
          y[r] = p.y[c.y]!;
        }
        if (z) z[r] = p.z![c.z]!;
        for (const name of names) values[name]![r] = block.values[name]![rows[r]!]!;
      }
      yield { n, t, x, y, ...(z ? { z } : {}), values };
    }
  }
}
