/**
 * Map views of a grid (WMS GetMap, OGC API - Maps, tiles): an image of width × height pixels over
 * a box in CRS84 or Web Mercator → a plan on the shared planner (the box the pixels cover, in the
 * grid's own CRS, decimated to about one cell per pixel) and, for every pixel, the output cell of
 * that plan nearest to the pixel's centre (or none: transparent). Only the chunks and the
 * resolution the view needs are read; polar stereographic grids are reprojected pixel by pixel.
 */
import { InvalidParameterValue } from '../errors.js';
import type { TimeInterval } from '../query/datetime.js';
import type { SubsetSpec } from '../query/subset.js';
import { planGrid, outputStrides, type GridPlan, type GridRequest } from './plan.js';
import { webMercator } from './projection.js';
import type { GridAxis, GridModel } from './types.js';

/** The CRSs a map can be drawn in (EPSG:4326 is CRS84 once its axes are swapped by the parser). */
type ViewCrs = 'CRS84' | 'EPSG:3857';

export interface MapView {
  crs: ViewCrs;
  /** [minX, minY, maxX, maxY] in `crs`, x first (longitude or Web Mercator easting). */
  bbox: [number, number, number, number];
  width: number;
  height: number;
}

export interface ViewSelection {
  field: string;
  /** An instant (nearest step); default: the last step. */
  datetime?: TimeInterval;
  /** A level of the vertical axis (nearest); default: the first. */
  elevation?: number;
}

export interface ViewPlan {
  /** Absent when the view does not meet the grid: every pixel is transparent. */
  plan?: GridPlan;
  /** Per pixel (row-major, top row first): the flat output index of its cell in the plan, or -1. */
  index: Int32Array;
}

/** Web Mercator's world: ±20037508.34 m both ways. */
export const MERCATOR_HALF_WORLD = Math.PI * 6378137;

const mercator = webMercator();

/** Longitude of each column and latitude of each row of a view (both separable in CRS84 and Web Mercator). */
export function viewCoordinates(view: MapView): { lons: Float64Array; lats: Float64Array } {
  const [x0, y0, x1, y1] = view.bbox;
  const lons = new Float64Array(view.width);
  const lats = new Float64Array(view.height);
  for (let i = 0; i < view.width; i++) {
    const x = x0 + ((i + 0.5) * (x1 - x0)) / view.width;
    lons[i] = view.crs === 'CRS84' ? x : (x / 6378137) * (180 / Math.PI);
  }
  for (let j = 0; j < view.height; j++) {
    const y = y1 - ((j + 0.5) * (y1 - y0)) / view.height;
    lats[j] = view.crs === 'CRS84' ? y : mercator.inverse(0, y)[1];
  }
  return { lons, lats };
}

function axisOf(model: GridModel, role: 'x' | 'y' | 'z' | 't'): GridAxis | undefined {
  return model.axes.find((a) => a.role === role);
}

function spacing(axis: GridAxis): number {
  const n = axis.values.length;
  return Math.abs(axis.step ?? (n > 1 ? (axis.values[n - 1]! - axis.values[0]!) / (n - 1) : 0));
}

/** Subsets and datetime that pick one step of every axis but x and y. */
function stepRequest(model: GridModel, sel: ViewSelection): GridRequest {
  const req: GridRequest = { properties: [sel.field], firstOfOtherAxes: true };
  const subsets: SubsetSpec[] = [];
  const t = axisOf(model, 't');
  if (sel.datetime) req.datetime = sel.datetime;
  else if (t && t.values.length > 1) {
    const last = Math.max(t.values[0]!, t.values[t.values.length - 1]!);
    req.datetime = { start: last, end: last };
  }
  const z = axisOf(model, 'z');
  if (z) {
    const value = sel.elevation ?? z.values[0]!;
    subsets.push({
      axis: z.label,
      kind: 'slice',
      low: { kind: 'number', value },
      high: { kind: 'number', value },
      text: `${z.label}(${value})`,
    });
  } else if (sel.elevation !== undefined) {
    throw new InvalidParameterValue('elevation', 'this layer has no vertical axis');
  }
  if (subsets.length > 0) req.subsets = subsets;
  return req;
}

/**
 * Index of the value nearest to v in monotonic `values`, or -1 when v lies beyond the outer
 * values by more than `edge` (half a cell).
 */
function nearestIndex(values: Float64Array, v: number, edge: number): number {
  const n = values.length;
  if (n === 0 || !Number.isFinite(v)) return -1;
  const asc = n < 2 || values[n - 1]! >= values[0]!;
  const lo = asc ? values[0]! : values[n - 1]!;
  const hi = asc ? values[n - 1]! : values[0]!;
  if (v < lo - edge || v > hi + edge) return -1;
  let a = 0;
  let b = n - 1;
  while (b - a > 1) {
    const mid = (a + b) >> 1;
    if (asc ? values[mid]! <= v : values[mid]! >= v) a = mid;
    else b = mid;
  }
  return Math.abs(values[a]! - v) <= Math.abs(values[b]! - v) ? a : b;
}

/** Plans the box, then again decimated to `target` cells per axis when that is fewer than the box holds. */
function planDecimated(
  model: GridModel,
  req: GridRequest,
  target: (axis: GridAxis, selected: number) => number,
): GridPlan {
  const full = planGrid(model, req);
  const sizes: NonNullable<NonNullable<GridRequest['scaling']>['sizes']> = [];
  full.axes.forEach((a) => {
    if (a.axis.role !== 'x' && a.axis.role !== 'y') return;
    const n = a.picks.length;
    const m = Math.max(1, Math.min(n, target(a.axis, n)));
    if (m < n) sizes.push({ axis: a.axis.label, value: m, parameter: a.axis.role === 'x' ? 'width' : 'height' });
  });
  return sizes.length === 0 ? full : planGrid(model, { ...req, scaling: { sizes } });
}

/** A bbox that selects nothing means a transparent image, not an error; anything else is the caller's mistake. */
function planOrNothing(make: () => GridPlan): GridPlan | undefined {
  try {
    return make();
  } catch (err) {
    if (err instanceof InvalidParameterValue && err.parameter === 'bbox') return undefined;
    throw err;
  }
}

/** The plan of a view and each pixel's cell in it. */
export function planView(model: GridModel, view: MapView, sel: ViewSelection): ViewPlan {
  const { width, height } = view;
  const index = new Int32Array(width * height).fill(-1);
  const base = stepRequest(model, sel);
  const xAxis = axisOf(model, 'x');
  const yAxis = axisOf(model, 'y');
  if (!xAxis || !yAxis) throw new InvalidParameterValue('layers', 'this field has no horizontal axes to draw a map of');
  const { lons, lats } = viewCoordinates(view);
  if (model.crs.kind === 'geographic') return planGeographic(model, base, lons, lats, index, xAxis, yAxis);
  return planProjected(model, base, lons, lats, index, xAxis, yAxis);
}

function minStep(values: Float64Array): number {
  let d = Infinity;
  for (let i = 1; i < values.length; i++) d = Math.min(d, Math.abs(values[i]! - values[i - 1]!));
  return d;
}

/** Half the local spacing at the ends of an axis selection, the source's when it is a single cell. */
function edgeOf(values: Float64Array, source: GridAxis): number {
  return (
    (values.length > 1
      ? Math.max(Math.abs(values[1]! - values[0]!), Math.abs(values[values.length - 1]! - values[values.length - 2]!))
      : spacing(source)) / 2
  );
}

function planGeographic(
  model: GridModel,
  base: GridRequest,
  lons: Float64Array,
  lats: Float64Array,
  index: Int32Array,
  xAxis: GridAxis,
  yAxis: GridAxis,
): ViewPlan {
  const width = lons.length;
  const height = lats.length;
  const dx = spacing(xAxis);
  const dy = spacing(yAxis);
  let west = lons[0]! - dx;
  let east = lons[width - 1]! + dx;
  if (east - west >= 360) east = (west = lons[0]!) + 360 - 1e-9;
  const south = Math.max(-90, Math.min(lats[0]!, lats[height - 1]!) - dy);
  const north = Math.min(90, Math.max(lats[0]!, lats[height - 1]!) + dy);
  const pixelX = width > 1 ? Math.abs(lons[1]! - lons[0]!) : east - west;
  const pixelY = height > 1 ? minStep(lats) : north - south;
  const req: GridRequest = {
    ...base,
    bbox: {
      box: [west, south, east, north],
      crs: { uri: 'CRS84', native: true, geographic: true, latitudeFirst: false },
    },
  };
  const plan = planOrNothing(() =>
    planDecimated(model, req, (axis, n) => Math.ceil((n * spacing(axis)) / (axis.role === 'x' ? pixelX : pixelY)) + 1),
  );
  if (!plan) return { index };
  indexGeographic(plan, lons, lats, index, xAxis, yAxis);
  return { plan, index };
}

function indexGeographic(
  plan: GridPlan,
  lons: Float64Array,
  lats: Float64Array,
  index: Int32Array,
  xAxis: GridAxis,
  yAxis: GridAxis,
): void {
  const width = lons.length;
  const height = lats.length;
  const strides = outputStrides(plan);
  const xi = plan.axes.findIndex((a) => a.axis.role === 'x');
  const yi = plan.axes.findIndex((a) => a.axis.role === 'y');
  const xs = plan.axes[xi]!.values;
  const ys = plan.axes[yi]!.values;
  const ex = edgeOf(xs, xAxis);
  const ey = edgeOf(ys, yAxis);
  const col = Int32Array.from(lons, (lon) => {
    // The plan's longitudes are in the request's frame, which starts at the view's west edge.
    let k = nearestIndex(xs, lon, ex);
    if (k < 0) k = nearestIndex(xs, lon + 360, ex);
    if (k < 0) k = nearestIndex(xs, lon - 360, ex);
    return k < 0 ? -1 : k * strides[xi]!;
  });
  for (let j = 0; j < height; j++) {
    const r = nearestIndex(ys, lats[j]!, ey);
    if (r < 0) continue;
    const off = r * strides[yi]!;
    for (let i = 0; i < width; i++) if (col[i]! >= 0) index[j * width + i] = off + col[i]!;
  }
}

function planProjected(
  model: GridModel,
  base: GridRequest,
  lons: Float64Array,
  lats: Float64Array,
  index: Int32Array,
  xAxis: GridAxis,
  yAxis: GridAxis,
): ViewPlan {
  const projection = model.crs.projection;
  if (!projection)
    throw new InvalidParameterValue(
      'crs',
      `this layer's grid is in ${model.crs.label}, which this server cannot reproject`,
    );
  const width = lons.length;
  const height = lats.length;
  const nx = new Float64Array(width * height);
  const ny = new Float64Array(width * height);
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const [x, y] = projection.forward(lons[i]!, lats[j]!);
      const p = j * width + i;
      nx[p] = x;
      ny[p] = y;
      if (Number.isFinite(x) && Number.isFinite(y)) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (!(x0 <= x1 && y0 <= y1)) return { index };
  // Finest pixel spacing in native units, from neighbouring pixels: the decimation keeps one cell per such step.
  let pixel = Infinity;
  for (let j = 0; j < height; j += Math.max(1, height >> 4)) {
    for (let i = 0; i + 1 < width; i++) {
      const p = j * width + i;
      const d = Math.hypot(nx[p + 1]! - nx[p]!, ny[p + 1]! - ny[p]!);
      if (d > 0) pixel = Math.min(pixel, d);
      if (j + 1 < height) {
        const e = Math.hypot(nx[p + width]! - nx[p]!, ny[p + width]! - ny[p]!);
        if (e > 0) pixel = Math.min(pixel, e);
      }
    }
  }
  const dx = spacing(xAxis);
  const dy = spacing(yAxis);
  const uri = model.crs.uri ?? model.crs.label;
  const req: GridRequest = {
    ...base,
    bbox: {
      box: [x0 - dx, y0 - dy, x1 + dx, y1 + dy],
      crs: { uri, native: true, geographic: false, latitudeFirst: false },
    },
  };
  const plan = planOrNothing(() =>
    planDecimated(model, req, (axis, n) => (Number.isFinite(pixel) ? Math.ceil((n * spacing(axis)) / pixel) + 1 : n)),
  );
  if (!plan) return { index };
  indexProjected(plan, nx, ny, index, xAxis, yAxis);
  return { plan, index };
}

function indexProjected(
  plan: GridPlan,
  nx: Float64Array,
  ny: Float64Array,
  index: Int32Array,
  xAxis: GridAxis,
  yAxis: GridAxis,
): void {
  const strides = outputStrides(plan);
  const xi = plan.axes.findIndex((a) => a.axis.role === 'x');
  const yi = plan.axes.findIndex((a) => a.axis.role === 'y');
  const xs = plan.axes[xi]!.values;
  const ys = plan.axes[yi]!.values;
  const ex = edgeOf(xs, xAxis);
  const ey = edgeOf(ys, yAxis);
  for (let p = 0; p < index.length; p++) {
    const c = nearestIndex(xs, nx[p]!, ex);
    if (c < 0) continue;
    const r = nearestIndex(ys, ny[p]!, ey);
    if (r >= 0) index[p] = c * strides[xi]! + r * strides[yi]!;
  }
}

/**
 * Each pixel's cell in another plan of the same grid and step (an overview: the whole grid
 * decimated), or -1: the lookup of planView against a plan made once for many views.
 */
export function indexView(model: GridModel, view: MapView, plan: GridPlan): Int32Array {
  const index = new Int32Array(view.width * view.height).fill(-1);
  const xAxis = axisOf(model, 'x')!;
  const yAxis = axisOf(model, 'y')!;
  const { lons, lats } = viewCoordinates(view);
  if (model.crs.kind === 'geographic') {
    indexGeographic(plan, lons, lats, index, xAxis, yAxis);
    return index;
  }
  const projection = model.crs.projection!;
  const nx = new Float64Array(index.length);
  const ny = new Float64Array(index.length);
  for (let j = 0; j < lats.length; j++) {
    for (let i = 0; i < lons.length; i++) {
      const [x, y] = projection.forward(lons[i]!, lats[j]!);
      nx[j * lons.length + i] = x;
      ny[j * lons.length + i] = y;
    }
  }
  indexProjected(plan, nx, ny, index, xAxis, yAxis);
  return index;
}

/**
 * The request of an overview: the whole grid every `factor`-th cell along x and y, at the step
 * (time, level, first of other axes) a view's plan picked.
 */
export function overviewRequest(plan: GridPlan, field: string, factor: number): GridRequest {
  const req: GridRequest = { properties: [field], firstOfOtherAxes: true };
  const factors: Array<{ axis: string; value: number }> = [];
  const subsets: SubsetSpec[] = [];
  for (const a of plan.axes) {
    if (a.axis.role === 'x' || a.axis.role === 'y') {
      if (a.axis.values.length > factor) factors.push({ axis: a.axis.label, value: factor });
    } else if (a.axis.role === 't') {
      req.datetime = { start: a.values[0]!, end: a.values[0]! };
    } else if (a.axis.role === 'z') {
      const value = a.values[0]!;
      subsets.push({
        axis: a.axis.label,
        kind: 'slice',
        low: { kind: 'number', value },
        high: { kind: 'number', value },
        text: `${a.axis.label}(${value})`,
      });
    }
  }
  if (factors.length > 0) req.scaling = { factors };
  if (subsets.length > 0) req.subsets = subsets;
  return req;
}

/**
 * Fractional position of v in monotonic `values` (k + t between values[k] and values[k+1]); the
 * end position within `edge` beyond the outer values, -1 further out.
 */
function fractionalIndex(values: Float64Array, v: number, edge: number): number {
  const n = values.length;
  if (n === 0 || !Number.isFinite(v)) return -1;
  const asc = n < 2 || values[n - 1]! >= values[0]!;
  const lo = asc ? values[0]! : values[n - 1]!;
  const hi = asc ? values[n - 1]! : values[0]!;
  if (v < lo - edge || v > hi + edge) return -1;
  if (v <= lo) return asc ? 0 : n - 1;
  if (v >= hi) return asc ? n - 1 : 0;
  let a = 0;
  let b = n - 1;
  while (b - a > 1) {
    const mid = (a + b) >> 1;
    if (asc ? values[mid]! <= v : values[mid]! >= v) a = mid;
    else b = mid;
  }
  const d = values[b]! - values[a]!;
  return d === 0 ? a : a + (v - values[a]!) / d;
}

/**
 * The columns of a plan that go once round the globe, as a cycle: the longitudes unwrapped into one
 * ascending run (a 0..360 grid seen from -180 to 180 picks columns that wrap), and the fractional
 * column of any longitude, the last column's neighbour being the first, so that bilinear blending
 * goes across the antimeridian (or the grid's own seam) instead of stopping at a stripe.
 * Undefined when the columns do not close the circle (a regional grid or view).
 */
function cyclicColumns(xs: Float64Array): { column: (lon: number) => number } | undefined {
  const n = xs.length;
  if (n < 3) return undefined;
  const u = Float64Array.from(xs);
  for (let i = 1; i < n; i++) {
    while (u[i]! <= u[i - 1]!) u[i] = u[i]! + 360;
  }
  const span = u[n - 1]! - u[0]!;
  const gap = u[0]! + 360 - u[n - 1]!;
  // Closes the circle: the step across the seam is about the plan's own step (1.5 of its mean step at most).
  if (!(gap > 0) || gap > (1.5 * span) / (n - 1)) return undefined;
  return {
    column(lon: number): number {
      if (!Number.isFinite(lon)) return -1;
      // Into [u[0], u[0] + 360): between the last column and the first one round, the seam.
      const v = u[0]! + ((((lon - u[0]!) % 360) + 360) % 360);
      if (v >= u[n - 1]!) return n - 1 + (v - u[n - 1]!) / gap;
      let a = 0;
      let b = n - 1;
      while (b - a > 1) {
        const mid = (a + b) >> 1;
        if (u[mid]! <= v) a = mid;
        else b = mid;
      }
      return a + (v - u[a]!) / (u[b]! - u[a]!);
    },
  };
}

/**
 * Bilinear values of a view's pixels from the plan's cells (the values as the plan's output
 * holds them): each pixel that has a nearest cell (index ≥ 0) gets the weighted mean of the four
 * cells around it, missing ones left out; NaN elsewhere. Coasts stay where nearest puts them.
 */
export function interpolateView(
  model: GridModel,
  view: MapView,
  plan: GridPlan,
  values: Float32Array | Float64Array,
  index: Int32Array,
): Float32Array {
  const out = new Float32Array(index.length).fill(NaN);
  const xAxis = axisOf(model, 'x')!;
  const yAxis = axisOf(model, 'y')!;
  const strides = outputStrides(plan);
  const xi = plan.axes.findIndex((a) => a.axis.role === 'x');
  const yi = plan.axes.findIndex((a) => a.axis.role === 'y');
  const xs = plan.axes[xi]!.values;
  const ys = plan.axes[yi]!.values;
  const sx = strides[xi]!;
  const sy = strides[yi]!;
  const ex = edgeOf(xs, xAxis);
  const ey = edgeOf(ys, yAxis);
  const { lons, lats } = viewCoordinates(view);
  const width = lons.length;
  const geographic = model.crs.kind === 'geographic';
  const projection = model.crs.projection;
  const seam = geographic ? cyclicColumns(xs) : undefined;
  const colOf = (lon: number): number => {
    if (seam) return seam.column(lon);
    let f = fractionalIndex(xs, lon, ex);
    if (f < 0) f = fractionalIndex(xs, lon + 360, ex);
    if (f < 0) f = fractionalIndex(xs, lon - 360, ex);
    return f;
  };
  const cols = geographic ? Float64Array.from(lons, colOf) : undefined;
  for (let j = 0; j < lats.length; j++) {
    const rowGeo = geographic ? fractionalIndex(ys, lats[j]!, ey) : -1;
    for (let i = 0; i < width; i++) {
      const p = j * width + i;
      if (index[p]! < 0 || Number.isNaN(values[index[p]!]!)) continue;
      let fx: number;
      let fy: number;
      if (geographic) {
        fx = cols![i]!;
        fy = rowGeo;
      } else {
        const [x, y] = projection!.forward(lons[i]!, lats[j]!);
        fx = fractionalIndex(xs, x, ex);
        fy = fractionalIndex(ys, y, ey);
      }
      if (fx < 0 || fy < 0) {
        out[p] = values[index[p]!]!;
        continue;
      }
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      // Across the antimeridian (or a grid's own seam) the last column's neighbour is the first.
      const x1 = seam && x0 === xs.length - 1 ? 0 : Math.min(x0 + 1, xs.length - 1);
      const y1 = Math.min(y0 + 1, ys.length - 1);
      const tx = fx - x0;
      const ty = fy - y0;
      let sum = 0;
      let weight = 0;
      const add = (c: number, r: number, w: number) => {
        const v = values[c * sx + r * sy]!;
        if (w > 0 && !Number.isNaN(v)) {
          sum += v * w;
          weight += w;
        }
      };
      add(x0, y0, (1 - tx) * (1 - ty));
      add(x1, y0, tx * (1 - ty));
      add(x0, y1, (1 - tx) * ty);
      add(x1, y1, tx * ty);
      out[p] = weight > 1e-12 ? sum / weight : values[index[p]!]!;
    }
  }
  return out;
}
