/**
 * What discovery keeps of a grid file (serialised in the index cache): enough to describe the
 * collection (extent, cell counts, resolution, CRS) and to aggregate a folder along time without
 * opening every file again.
 */
import type { GridAxisRole, GridModel, NativeBox, Projection } from './types.js';

export interface GridAxisSummary {
  role: GridAxisRole;
  dim: string;
  label: string;
  size: number;
  /** First and last cell centres, in axis units (epoch ms for time). */
  first: number;
  last: number;
  /** Regular spacing, signed; absent for irregular axes. */
  step?: number;
  units?: string;
}

export interface GridSummary {
  /** OGC URI of the native CRS (absent when unknown). */
  crs?: string;
  crsLabel: string;
  kind: 'geographic' | 'projected';
  axes: GridAxisSummary[];
  fields: string[];
  /** Time steps of this file: epoch ms, the stored values and their CF units. */
  time?: { values: number[]; raw: number[]; units: string; calendar?: string };
  /** Extent of the cells in CRS84 (a grid across the antimeridian spans -180..180). */
  bbox?: [number, number, number, number];
  /** Extent of the cells in the native CRS, for projected grids. */
  nativeBox?: NativeBox;
}

/** Lower and upper edge of the cells of an axis (half a cell beyond the outer centres). */
function cellEdges(values: Float64Array, step?: number): [number, number] {
  const n = values.length;
  const lo = Math.min(values[0]!, values[n - 1]!);
  const hi = Math.max(values[0]!, values[n - 1]!);
  const half = n > 1 ? Math.abs(step ?? (values[n - 1]! - values[0]!) / (n - 1)) / 2 : 0;
  return [lo - half, hi + half];
}

function round(v: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Longitude extent [west, east] in -180..180 of cells spanning lo..hi in any frame (0..360 grids included). */
function longitudeExtent(lo: number, hi: number): [number, number] {
  if (hi - lo >= 360 - 1e-6) return [-180, 180];
  let west = lo;
  let east = hi;
  while (west >= 180) {
    west -= 360;
    east -= 360;
  }
  while (west < -180) {
    west += 360;
    east += 360;
  }
  // Across the antimeridian: the collection extent model has no wrapped boxes, so take the whole circle.
  return east > 180 ? [-180, 180] : [west, east];
}

/** CRS84 extent of a native box through a projection: its outline densely sampled, plus any pole inside it. */
export function projectedExtent(
  box: NativeBox,
  projection: Projection,
  samples = 64,
): [number, number, number, number] {
  const [x0, y0, x1, y1] = box;
  let west = Infinity;
  let east = -Infinity;
  let south = Infinity;
  let north = -Infinity;
  const add = (x: number, y: number) => {
    const [lon, lat] = projection.inverse(x, y);
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return;
    west = Math.min(west, lon);
    east = Math.max(east, lon);
    south = Math.min(south, lat);
    north = Math.max(north, lat);
  };
  for (let i = 0; i <= samples; i++) {
    const f = i / samples;
    add(x0 + f * (x1 - x0), y0);
    add(x0 + f * (x1 - x0), y1);
    add(x0, y0 + f * (y1 - y0));
    add(x1, y0 + f * (y1 - y0));
  }
  for (const [lon, lat] of projection.singularities ?? []) {
    const [x, y] = projection.forward(lon, lat);
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
      west = -180;
      east = 180;
      if (lat > 0) north = 90;
      else south = -90;
    }
  }
  return [round(west), round(south), round(east), round(north)];
}

export function summarizeGrid(model: GridModel): GridSummary {
  const summary: GridSummary = {
    crsLabel: model.crs.label,
    kind: model.crs.kind,
    axes: model.axes.map((a) => {
      const s: GridAxisSummary = {
        role: a.role,
        dim: a.dim,
        label: a.label,
        size: a.values.length,
        first: a.values[0]!,
        last: a.values[a.values.length - 1]!,
      };
      if (a.step !== undefined) s.step = a.step;
      const units = a.attrs['units'];
      if (typeof units === 'string' && a.role !== 't') s.units = units;
      return s;
    }),
    fields: model.fields.map((f) => f.name),
  };
  if (model.crs.uri) summary.crs = model.crs.uri;
  const t = model.axes.find((a) => a.role === 't');
  if (t && model.rawTime) {
    summary.time = { values: Array.from(t.values), raw: Array.from(model.rawTime.values), units: model.rawTime.units };
    if (model.rawTime.calendar) summary.time.calendar = model.rawTime.calendar;
  }
  const x = model.axes.find((a) => a.role === 'x')!;
  const y = model.axes.find((a) => a.role === 'y')!;
  const [xlo, xhi] = cellEdges(x.values, x.step);
  const [ylo, yhi] = cellEdges(y.values, y.step);
  if (model.crs.kind === 'geographic') {
    const [west, east] = longitudeExtent(xlo, xhi);
    summary.bbox = [round(west), round(Math.max(-90, ylo)), round(east), round(Math.min(90, yhi))];
  } else {
    summary.nativeBox = [xlo, ylo, xhi, yhi];
    if (model.crs.projection) summary.bbox = projectedExtent(summary.nativeBox, model.crs.projection);
  }
  return summary;
}

/** Time span [first, last] (epoch ms) of a summary, if it has a time axis. */
export function summaryTimeSpan(summary: GridSummary): [number, number] | undefined {
  const v = summary.time?.values;
  if (!v || v.length === 0) return undefined;
  return [Math.min(v[0]!, v[v.length - 1]!), Math.max(v[0]!, v[v.length - 1]!)];
}
