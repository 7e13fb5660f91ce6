/**
 * What every grid encoder receives, whichever API asked (Coverages, EDR cube, area, radius,
 * corridor): the plan (axes, picks, output coordinates, fields, an optional cell mask), a way to
 * stream each field's stored values in output order, and the request's context for metadata.
 */
import { decodeNumeric } from '../../cf/decode.js';
import { maskTest, type GridPlan } from '../../core/grid/plan.js';
import type { FieldBlock } from '../../core/grid/read.js';
import type { GridField } from '../../core/grid/types.js';

export interface GridPayload {
  plan: GridPlan;
  /** Stored values of one field over a plan (this one, or a reordered copy), in output row-major order. */
  read: (plan: GridPlan, field: GridField) => AsyncIterable<FieldBlock>;
  collectionId: string;
  title: string;
  description: string;
  /** The request as the `history` attribute names it, e.g. `GET https://host/collections/x/coverage?bbox=…`. */
  request: string;
}

/**
 * Decoded values of one field over the payload's plan, in output order, block by block: NaN for
 * missing values and for cells outside the plan's mask.
 */
export async function* decodedField(payload: GridPayload, field: GridField): AsyncGenerator<Float64Array> {
  const selected = maskTest(payload.plan);
  let k = 0;
  for await (const block of payload.read(payload.plan, field)) {
    const values = decodeNumeric({ dtype: block.dtype, shape: [block.data.length], data: block.data }, field.attrs, {
      attrTypes: field.attrTypes,
    });
    if (selected) for (let i = 0; i < values.length; i++) if (!selected(k + i)) values[i] = NaN;
    k += values.length;
    yield values;
  }
}

/** Consecutive decoded values of several fields, cut to the same extent, from flat index `start`. */
export interface AlignedBlock {
  start: number;
  length: number;
  values: Record<string, Float64Array>;
}

/** Several fields' decoded streams cut into blocks of equal extent (they come in blocks of different sizes by storage type). */
export async function* alignedFields(payload: GridPayload, fields: GridField[]): AsyncGenerator<AlignedBlock> {
  const { cells } = payload.plan;
  const its = fields.map((f) => decodedField(payload, f)[Symbol.asyncIterator]());
  const bufs: Float64Array[] = fields.map(() => new Float64Array(0));
  let start = 0;
  try {
    while (start < cells) {
      for (let i = 0; i < fields.length; i++) {
        if (bufs[i]!.length > 0) continue;
        const r = await its[i]!.next();
        if (r.done) throw new Error(`${fields[i]!.name}: fewer values than planned (${start} of ${cells})`);
        bufs[i] = r.value;
      }
      const n = Math.min(...bufs.map((b) => b.length));
      const values: Record<string, Float64Array> = {};
      fields.forEach((f, i) => {
        values[f.name] = bufs[i]!.subarray(0, n);
        bufs[i] = bufs[i]!.subarray(n);
      });
      yield { start, length: n, values };
      start += n;
    }
  } finally {
    await Promise.allSettled(its.map((it) => it.return(undefined)));
  }
}
