/**
 * Row view of any payload, for the tabular outputs (CSV, GeoJSON, Arrow): one row per sample or per
 * selected grid cell, with its time, position, level and the value of each parameter.
 */
import type { EdrPayload } from './payload.js';
import { gridSizes } from './payload.js';

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
  const { nz, ny, nx } = gridSizes(p);
  const cells = ny * nx;
  const selected: number[] = [];
  for (let c = 0; c < cells; c++) if (!p.mask || p.mask[c] === 1) selected.push(c);
  const names = p.parameters.map((q) => q.name);
  for await (const block of p.blocks(names)) {
    // Row order: time, level, then the cells of the window row by row (the grid's own order).
    const total = block.tCount * nz * selected.length;
    for (let start = 0; start < total; start += MAX_GRID_ROWS) {
      const n = Math.min(MAX_GRID_ROWS, total - start);
      const t = new Float64Array(n);
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      const z = p.z ? new Float64Array(n) : undefined;
      const values: Record<string, Float64Array> = {};
      for (const name of names) values[name] = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const k = start + r;
        const c = selected[k % selected.length]!;
        const slab = Math.floor(k / selected.length);
        const it = Math.floor(slab / nz);
        const iz = slab % nz;
        t[r] = p.t ? p.t[block.tStart + it]! : NaN;
        x[r] = p.x[c % nx]!;
        y[r] = p.y[Math.floor(c / nx)]!;
        if (z) z[r] = p.z![iz]!;
        const src = slab * cells + c;
        for (const name of names) values[name]![r] = block.values[name]![src]!;
      }
      yield { n, t, x, y, ...(z ? { z } : {}), values };
    }
  }
}
