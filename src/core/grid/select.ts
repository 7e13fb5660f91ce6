/**
 * Index math: coordinate intervals and values → cells of an axis.
 *
 * Rules (the same for every axis and format):
 * - trim [lo, hi]: the cells whose centre lies in the closed interval (a tolerance of a millionth
 *   of a cell absorbs float32 coordinates). An interval narrower than a cell that contains no
 *   centre but lies inside the axis's cells gives the one cell containing its middle.
 * - slice (one value): the nearest cell, if the value lies within the cells' extent (half a cell
 *   beyond the outer centres); a single-cell axis has no spacing, so the value must be its own.
 * - longitude axes wrap: an interval in any frame (-180..180 on a 0..360 grid, or across the
 *   antimeridian) selects the cells at lon + k·360, west to east, possibly as two index runs.
 * - selections come back as half-open index runs in output order, each with the shift to add
 *   to the source coordinate (k·360 for wrapped longitudes, 0 otherwise).
 */
import type { GridAxis } from './types.js';

export interface IndexRun {
  /** Half-open index range along the axis. */
  start: number;
  stop: number;
  /** Added to the source coordinates of this run in the output (longitude wrap). */
  shift: number;
}

function tolerance(axis: GridAxis): number {
  if (axis.role === 't') return 0;
  const n = axis.values.length;
  const spacing = axis.step ?? (n > 1 ? (axis.values[n - 1]! - axis.values[0]!) / (n - 1) : 0);
  return Math.abs(spacing) * 1e-6 || 1e-9 * Math.max(1, Math.abs(axis.values[0]!));
}

/** Half-spacing at each end of the axis: how far beyond the outer centres its cells reach. */
function halfCells(axis: GridAxis): [low: number, high: number] {
  const v = axis.values;
  const n = v.length;
  if (n < 2) return [0, 0];
  const lowEnd = Math.abs(v[1]! - v[0]!) / 2;
  const highEnd = Math.abs(v[n - 1]! - v[n - 2]!) / 2;
  // [half-cell below the smallest centre, half-cell above the largest]
  return axis.direction > 0 ? [lowEnd, highEnd] : [highEnd, lowEnd];
}

/** Smallest and largest edge of the axis's cells. */
export function axisBounds(axis: GridAxis): [number, number] {
  const v = axis.values;
  const lo = Math.min(v[0]!, v[v.length - 1]!);
  const hi = Math.max(v[0]!, v[v.length - 1]!);
  const [below, above] = halfCells(axis);
  return [lo - below, hi + above];
}

/** Cells with centre + shift in [lo, hi], as one half-open run (indices are contiguous on a monotonic axis). */
function centresWithin(axis: GridAxis, lo: number, hi: number, shift: number): [number, number] | undefined {
  const v = axis.values;
  const eps = tolerance(axis);
  let first = -1;
  let last = -1;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]! + shift;
    if (c >= lo - eps && c <= hi + eps) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? undefined : [first, last + 1];
}

/** The nearest cell to `value`, or undefined when the value is outside the axis's cells. */
export function nearestCell(axis: GridAxis, value: number): number | undefined {
  const v = axis.values;
  if (v.length === 1) return Math.abs(v[0]! - value) <= tolerance(axis) ? 0 : undefined;
  const [lo, hi] = axisBounds(axis);
  const eps = tolerance(axis);
  if (value < lo - eps || value > hi + eps) return undefined;
  let best = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]! - value) < Math.abs(v[best]! - value)) best = i;
  return best;
}

/** Cells of a non-longitude axis trimmed to [lo, hi] (either may be ±Infinity). */
export function trimAxis(axis: GridAxis, lo: number, hi: number): IndexRun[] {
  const inside = centresWithin(axis, lo, hi, 0);
  if (inside) return [{ start: inside[0], stop: inside[1], shift: 0 }];
  // Narrower than a cell: the cell holding the middle, if the interval lies within the cells.
  if (Number.isFinite(lo) && Number.isFinite(hi)) {
    const i = nearestCell(axis, (lo + hi) / 2);
    if (i !== undefined && axis.values.length > 1) return [{ start: i, stop: i + 1, shift: 0 }];
  }
  return [];
}

/**
 * Cells of a longitude axis in [lo, hi] degrees, in any frame: the interval is matched against
 * the centres shifted by -360, 0 and +360, west to east, each cell at most once.
 */
export function trimLongitude(axis: GridAxis, lo: number, hi: number): IndexRun[] {
  const west = Number.isFinite(lo) ? lo : -180;
  const east = Number.isFinite(hi) ? Math.min(hi, west + 360) : west + 360;
  const v = axis.values;
  const runs: Array<IndexRun & { key: number }> = [];
  const used = new Uint8Array(v.length);
  for (const shift of [-720, -360, 0, 360, 720]) {
    const r = centresWithin(axis, west, east, shift);
    if (!r) continue;
    // Keep only cells not taken by a previous shift (an interval of exactly 360° meets a cell twice).
    let [s, e] = r;
    while (s < e && used[s]) s++;
    while (e > s && used[e - 1]) e--;
    if (s >= e) continue;
    for (let i = s; i < e; i++) used[i] = 1;
    runs.push({ start: s, stop: e, shift, key: Math.min(v[s]!, v[e - 1]!) + shift });
  }
  if (runs.length === 0) {
    for (const shift of [-360, 0, 360]) {
      const i = nearestCell(axis, (west + east) / 2 - shift);
      if (i !== undefined && v.length > 1) return [{ start: i, stop: i + 1, shift }];
    }
    return [];
  }
  // West to east in the request's frame; a descending axis is kept in its own order within a run.
  runs.sort((a, b) => (axis.direction < 0 ? b.key - a.key : a.key - b.key));
  return runs.map(({ start, stop, shift }) => ({ start, stop, shift }));
}

/** The cell nearest to a longitude given in any frame. */
export function nearestLongitude(axis: GridAxis, lon: number): { index: number; shift: number } | undefined {
  let best: { index: number; shift: number; distance: number } | undefined;
  for (const shift of [-360, 0, 360]) {
    const i = nearestCell(axis, lon - shift);
    if (i === undefined) continue;
    const distance = Math.abs(axis.values[i]! + shift - lon);
    if (!best || distance < best.distance) best = { index: i, shift, distance };
  }
  return best ? { index: best.index, shift: best.shift } : undefined;
}

/** Intersection of two run lists over the same axis (both in output order): cells in both. */
export function intersectRuns(a: IndexRun[], b: IndexRun[]): IndexRun[] {
  const out: IndexRun[] = [];
  for (const x of a) {
    for (const y of b) {
      const start = Math.max(x.start, y.start);
      const stop = Math.min(x.stop, y.stop);
      if (start < stop && x.shift === y.shift) out.push({ start, stop, shift: x.shift });
    }
  }
  return out;
}

export function runCells(runs: IndexRun[]): number {
  return runs.reduce((n, r) => n + r.stop - r.start, 0);
}
