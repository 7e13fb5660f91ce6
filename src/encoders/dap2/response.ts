/**
 * What a DAP2 request selects: top-level variables, each with its hyperslab (start, stride, stop
 * per dimension) and, for a Grid, which of its parts were projected. The parser in
 * src/api/opendap builds it; DDS, XDR (.dods) and ASCII encoders read it.
 */
import type { GridPlan } from '../../core/grid/plan.js';
import type { FieldBlock } from '../../core/grid/read.js';
import type { GridField } from '../../core/grid/types.js';
import type { DapCoordinate, DapDataset, DapField, DapType } from './dataset.js';

export interface DapSlab {
  start: number;
  stride: number;
  /** Inclusive. */
  stop: number;
}

export function slabCount(s: DapSlab): number {
  return Math.floor((s.stop - s.start) / s.stride) + 1;
}

interface SelectedCoordinate {
  kind: 'coordinate';
  variable: DapCoordinate;
  slab: DapSlab;
}

export interface SelectedField {
  kind: 'field';
  variable: DapField;
  /** The array's slab, one per dimension of the field. */
  slabs: DapSlab[];
  /** Each map's slab (the array's when the Grid is projected whole). */
  mapSlabs: DapSlab[];
  /** The read plan of the array (the shared grid pipeline); absent when only maps were asked for. */
  plan?: GridPlan;
  /** The array itself was projected. */
  array: boolean;
  /** Per axis: its map was projected (Grids only). */
  maps: boolean[];
}

export type Selected = SelectedCoordinate | SelectedField;

export interface DapSelection {
  dataset: DapDataset;
  items: Selected[];
  /** Stored values of a field over a plan, in output order, block by block. */
  read: (plan: GridPlan, field: GridField) => AsyncIterable<FieldBlock>;
}

/** Whether a field travels as a whole Grid (array and every map), else as a Structure of its projected parts (as libdap does). */
export function wholeGrid(s: SelectedField): boolean {
  const same = (a: DapSlab, b: DapSlab) => a.start === b.start && a.stride === b.stride && a.stop === b.stop;
  return (
    s.variable.maps !== undefined &&
    s.array &&
    s.maps.every(Boolean) &&
    s.slabs.every((slab, d) => same(slab, s.mapSlabs[d]!))
  );
}

/** Values of a coordinate over a slab. */
export function slabValues(values: Float64Array, slab: DapSlab): Float64Array {
  const out = new Float64Array(slabCount(slab));
  for (let j = 0; j < out.length; j++) out[j] = values[slab.start + j * slab.stride]!;
  return out;
}

/** Bytes of one array in XDR: the count twice, then the values (bytes padded to 4; 16-bit integers widened to 4). */
function xdrArrayBytes(type: DapType, n: number): number {
  if (type === 'Byte') return 8 + Math.ceil(n / 4) * 4;
  return 8 + n * (type === 'Float64' ? 8 : 4);
}

/** The parts of a selected field in the order they travel: the array, then each projected map. */
export function fieldParts(s: SelectedField): Array<{ map?: DapCoordinate; axis?: number }> {
  const parts: Array<{ map?: DapCoordinate; axis?: number }> = [];
  if (s.array) parts.push({});
  s.variable.maps?.forEach((m, d) => {
    if (s.maps[d]) parts.push({ map: m, axis: d });
  });
  return parts;
}

/** Exact size of the XDR data section. */
export function xdrBytes(sel: DapSelection): number {
  let total = 0;
  for (const item of sel.items) {
    if (item.kind === 'coordinate') {
      total += xdrArrayBytes(item.variable.type, slabCount(item.slab));
      continue;
    }
    for (const part of fieldParts(item)) {
      total += part.map
        ? xdrArrayBytes(part.map.type, slabCount(item.mapSlabs[part.axis!]!))
        : xdrArrayBytes(
            item.variable.type,
            item.slabs.reduce((p, s) => p * slabCount(s), 1),
          );
    }
  }
  return total;
}
