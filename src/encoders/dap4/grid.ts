/**
 * A grid collection as a DAP4 dataset: the same variables as its DAP2 view (coordinates decoded,
 * time as stored or in seconds since 1970 across files, fields with the attributes that decode
 * them), but every field in its stored type, and each field's coordinates as its maps. Fields are
 * read through the shared grid planner and reader pipeline, their DAP4 slabs as index slabs.
 */
import { planGrid } from '../../core/grid/plan.js';
import type { FieldBlock } from '../../core/grid/read.js';
import type { GridPlan } from '../../core/grid/plan.js';
import type { GridField } from '../../core/grid/types.js';
import type { DapAttr, DapDataset } from '../dap2/dataset.js';
import { slabValues } from '../dap2/response.js';
import {
  DAP4_TYPE,
  dap4Attrs,
  readableFloats,
  type Dap4Attr,
  type Dap4Dataset,
  type Dap4Type,
  type Dap4Variable,
} from './dataset.js';

export type ReadGridField = (plan: GridPlan, field: GridField, signal: AbortSignal) => AsyncIterable<FieldBlock>;

/** DAP2 attribute types are DAP4 names too, but for Byte (unsigned in DAP2). */
function fromDap2(a: DapAttr): Dap4Attr {
  return readableFloats({ name: a.name, type: a.type === 'Byte' ? 'UInt8' : (a.type as Dap4Type), values: a.values });
}

async function* blocksOf(blocks: AsyncIterable<FieldBlock>): AsyncGenerator<FieldBlock['data']> {
  for await (const b of blocks) yield b.data;
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield await Promise.resolve(value);
}

export function gridDap4(dap2: DapDataset, read: ReadGridField): Dap4Dataset {
  const { model } = dap2;
  const coordinates = dap2.variables.filter((v) => v.kind === 'coordinate');
  const variables: Dap4Variable[] = [];
  for (const v of dap2.variables) {
    if (v.kind === 'coordinate') {
      const f4 = v.type === 'Float32';
      variables.push({
        name: v.name,
        dtype: f4 ? 'f4' : 'f8',
        dims: [model.axes[v.axis]!.dim],
        attrs: v.attrs.map(fromDap2),
        maps: [],
        open: ([slab]) => {
          const values = slabValues(v.values, slab!);
          return once(f4 ? Float32Array.from(values) : values);
        },
      });
      continue;
    }
    const field = v.field;
    const type = DAP4_TYPE[field.dtype];
    variables.push({
      name: field.name,
      dtype: field.dtype,
      dims: field.dims,
      attrs: dap4Attrs(field.attrs, type),
      maps: field.dims.flatMap((d) => coordinates.filter((c) => model.axes[c.axis]!.dim === d).map((c) => c.name)),
      open: (slabs, signal) => {
        const plan = planGrid(model, {
          properties: [field.name],
          slabs: slabs.map((s, i) => ({ axis: field.dims[i]!, ...s, parameter: 'dap4.ce' })),
        });
        return blocksOf(read(plan, field, signal));
      },
    });
  }
  return {
    name: dap2.name,
    dims: model.axes.map((a) => ({ name: a.dim, size: a.values.length })),
    variables,
    globals: dap2.globals.map(fromDap2),
  };
}
