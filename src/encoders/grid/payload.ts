/**
 * What every grid encoder receives: the plan (axes, picks, output coordinates, fields), a way to
 * stream each field's stored values in output order, and the request's context for metadata.
 */
import type { FieldBlock } from '../../core/grid/read.js';
import type { CoveragePlan } from '../../core/grid/plan.js';
import type { GridField } from '../../core/grid/types.js';

export interface GridPayload {
  plan: CoveragePlan;
  /** Stored values of one field over a plan (this one, or a reordered copy), in output row-major order. */
  read: (plan: CoveragePlan, field: GridField) => AsyncIterable<FieldBlock>;
  collectionId: string;
  title: string;
  description: string;
  /** The request, for the `history` attribute. */
  requestUrl: string;
}
