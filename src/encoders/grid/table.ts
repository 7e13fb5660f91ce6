/**
 * A grid answer as rows for the tabular outputs (CSV, GeoJSON, Arrow): one row per selected cell
 * (cells outside the plan's mask are left out) with its time, longitude/latitude (a projected
 * grid's cells are transformed one by one), level and the decoded value of each field.
 */
import { attrString } from '../../cf/read.js';
import { InvalidParameterValue } from '../../core/errors.js';
import { maskTest, outputStrides, type GridPlan } from '../../core/grid/plan.js';
import type { GridField, GridModel } from '../../core/grid/types.js';
import type { ParameterInfo, RowBatch, Table, VerticalAxis } from '../table/rows.js';
import { alignedFields, type GridPayload } from './payload.js';

/** Rows per batch, whatever the block size. */
const MAX_ROWS = 65_536;

/** A field as a column: its label and units from its CF attributes. */
function parameterInfo(f: GridField): ParameterInfo {
  const long = attrString(f.attrs, 'long_name');
  const std = attrString(f.attrs, 'standard_name');
  const units = attrString(f.attrs, 'units')?.trim();
  return {
    name: f.name,
    label: long ?? std?.replace(/_/g, ' ') ?? f.name,
    ...(units ? { units } : {}),
    ...(std ? { standardName: std } : {}),
  };
}

/** The grid's vertical axis as tables and CoverageJSON name it. */
export function verticalAxis(model: GridModel): VerticalAxis | undefined {
  const z = model.axes.find((a) => a.role === 'z');
  if (!z) return undefined;
  const units = attrString(z.attrs, 'units');
  const positive = attrString(z.attrs, 'positive')?.toLowerCase() === 'up' ? 'up' : 'down';
  return { name: z.variable ?? z.dim, ...(units ? { units } : {}), positive };
}

/** Checks the plan can be written as rows (a 400 before any read). */
export function checkTable(plan: GridPlan): void {
  const crs = plan.model.crs;
  if (crs.kind === 'projected' && !crs.projection) {
    throw new InvalidParameterValue(
      'f',
      `no transformation from ${crs.label} to longitude/latitude for the rows of a table: ask for CoverageJSON or NetCDF`,
    );
  }
}

/** Output rows expected (selected cells), for size estimates. */
export function tableRows(plan: GridPlan): number {
  const m = plan.mask;
  return m ? (plan.cells / (m.nx * m.ny)) * m.selected : plan.cells;
}

export function gridTable(payload: GridPayload): Table {
  const { plan } = payload;
  checkTable(plan);
  const vertical = verticalAxis(plan.model);
  const hasZ = plan.axes.some((a) => a.axis.role === 'z');
  return {
    collectionId: payload.collectionId,
    request: payload.request,
    parameters: plan.fields.map(parameterInfo),
    ...(vertical ? { vertical } : {}),
    withId: false,
    withZ: hasZ,
    batches: () => rows(payload),
  };
}

async function* rows(payload: GridPayload): AsyncGenerator<RowBatch> {
  const { plan } = payload;
  const strides = outputStrides(plan);
  const dim = (role: string) => {
    const d = plan.axes.findIndex((a) => a.axis.role === role);
    return d < 0 ? undefined : { values: plan.axes[d]!.values, stride: strides[d]!, n: plan.shape[d]! };
  };
  const [t, z, y, x] = [dim('t'), dim('z'), dim('y')!, dim('x')!];
  const at = (a: { stride: number; n: number }, k: number) => Math.floor(k / a.stride) % a.n;
  const projection = plan.model.crs.kind === 'projected' ? plan.model.crs.projection : undefined;
  const selected = maskTest(plan);
  const names = plan.fields.map((f) => f.name);
  for await (const block of alignedFields(payload, plan.fields)) {
    let i = 0;
    while (i < block.length) {
      const picked: number[] = [];
      for (; i < block.length && picked.length < MAX_ROWS; i++)
        if (!selected || selected(block.start + i)) picked.push(i);
      const n = picked.length;
      if (n === 0) continue;
      const batch: RowBatch = {
        n,
        t: new Float64Array(n),
        x: new Float64Array(n),
        y: new Float64Array(n),
        ...(z ? { z: new Float64Array(n) } : {}),
        values: {},
      };
      for (const name of names) batch.values[name] = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const k = block.start + picked[r]!;
        batch.t[r] = t ? t.values[at(t, k)]! : NaN;
        const cx = x.values[at(x, k)]!;
        const cy = y.values[at(y, k)]!;
        if (projection) [batch.x[r], batch.y[r]] = projection.inverse(cx, cy);
        else [batch.x[r], batch.y[r]] = [cx, cy];
        if (z) batch.z![r] = z.values[at(z, k)]!;
        for (const name of names) batch.values[name]![r] = block.values[name]![picked[r]!]!;
      }
      yield batch;
    }
  }
}
