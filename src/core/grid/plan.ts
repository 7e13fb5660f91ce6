/**
 * Grid planning, for every API that answers with grid cells (Coverages, every EDR grid query): a
 * request (bbox, subset, datetime, fields, scaling, z levels, a geometry the cells must fall in)
 * against a grid → per-axis source indices in output order, output coordinates, an optional cell
 * mask and size estimates, all before any data is read. Errors are 400s naming the parameter and
 * what the grid offers instead.
 */
import { isoString } from '../../cf/time.js';
import { DTYPE_BYTES } from '../../readers/dtype.js';
import { EmptySelection, InvalidParameterValue } from '../errors.js';
import { parseInstant, type TimeInterval } from '../query/datetime.js';
import { selectLevels, type ZSelection } from '../query/z.js';
import type { SubsetBound, SubsetSpec } from '../query/subset.js';
import type { RequestCrs } from './crs.js';
import {
  axisBounds,
  intersectRuns,
  nearestCell,
  nearestLongitude,
  runCells,
  trimAxis,
  trimLongitude,
  type IndexRun,
} from './select.js';
import type { GridAxis, GridField, GridModel, NativeBox } from './types.js';

interface AxisValueRequest {
  axis: string;
  value: number;
}

export interface ScalingRequest {
  /** scale-factor: every axis keeps n / factor cells. */
  factor?: number;
  /** scale-axes: per-axis factors. */
  factors?: AxisValueRequest[];
  /**
   * scale-size, width, height, EDR resolution-x|y|z: per-axis cell counts, with the parameter each
   * came from. `atMost`: a count above the selection's is clamped to it (EDR) instead of a 400.
   */
  sizes?: Array<AxisValueRequest & { parameter: string; atMost?: boolean }>;
  /** resolution: per-axis target spacing in axis units. */
  resolutions?: AxisValueRequest[];
}

/** Cells kept by a geometry (EDR area, radius, corridor): the others are answered as missing. */
interface WithinRequest {
  /** The parameter the geometry came from, named by errors (coords). */
  parameter: string;
  /** Whether a cell centre at this longitude/latitude (degrees) is selected. */
  inside: (lon: number, lat: number) => boolean;
}

export interface GridRequest {
  /**
   * [minX, minY, maxX, maxY] in `crs` (longitude first for geographic CRSs; west > east crosses the
   * antimeridian). `parameter` names it in errors (bbox by default; EDR's coords give their box).
   */
  bbox?: { box: [number, number, number, number]; crs: RequestCrs; parameter?: string };
  subsets?: SubsetSpec[];
  /** CRS of x/y subset values; the grid's own by default. */
  subsetCrs?: RequestCrs;
  datetime?: TimeInterval;
  properties?: string[];
  excludeProperties?: string[];
  scaling?: ScalingRequest;
  /** EDR z: levels of the vertical axis, chosen after scaling (a 400 when none is left). */
  z?: ZSelection;
  /** EDR: axes other than x, y, z, t (a band, a member) keep their first cell. */
  firstOfOtherAxes?: boolean;
  /** EDR area, radius, corridor: a cell mask over the (y, x) cells of the box. */
  within?: WithinRequest;
  /**
   * Index-space hyperslabs (OPeNDAP `[start:stride:stop]`, ERDDAP griddap once its coordinate
   * values are resolved to indices): exactly cells start, start+stride, … up to stop (inclusive)
   * of the named axis, no scaling on top.
   */
  slabs?: IndexSlab[];
}

export interface IndexSlab {
  /** The axis' dimension name (or any of its names). */
  axis: string;
  start: number;
  stride: number;
  /** Inclusive, as in DAP and ERDDAP. */
  stop: number;
  /** What errors name: the projection or query the slab came from. */
  parameter: string;
}

/** Selected (y, x) output cells of a masked plan. */
interface CellMask {
  /** ny × nx flags, row-major with y first whatever the axis order: 1 = selected. */
  flags: Uint8Array;
  ny: number;
  nx: number;
  /** Selected (y, x) cells. */
  selected: number;
}

export interface AxisSelection {
  axis: GridAxis;
  /** Source indices in output order (global along an aggregated time axis). */
  picks: Int32Array;
  /** Output coordinates: source values (longitudes shifted into the request's frame). */
  values: Float64Array;
}

export interface GridPlan {
  model: GridModel;
  /** In the grid's dimension order. */
  axes: AxisSelection[];
  fields: GridField[];
  /** Output cells per axis. */
  shape: number[];
  /** Output cells per field. */
  cells: number;
  /** Upper bound of the bytes the readers decode for all fields (spans of the picks). */
  sourceBytes: number;
  /** Absent: every cell is answered (a box). Present: unselected cells are missing values or left out. */
  mask?: CellMask;
}

/** How an axis is named to users, with its alternatives. */
function axisNames(model: GridModel): string {
  return model.axes
    .map((a) => (a.names.length > 1 ? `${a.label} (or ${a.names.slice(1).join(', ')})` : a.label))
    .join('; ');
}

export function findAxis(model: GridModel, name: string): GridAxis | undefined {
  const lower = name.toLowerCase();
  return model.axes.find((a) => a.names.some((n) => n.toLowerCase() === lower));
}

const LON_NAMES = new Set(['lon', 'long', 'longitude']);
const LAT_NAMES = new Set(['lat', 'latitude']);

function formatCoordinate(axis: GridAxis, v: number): string {
  if (axis.role === 't') return Number.isFinite(v) ? isoString(v) : String(v);
  return String(Math.round(v * 1e6) / 1e6);
}

function extentText(axis: GridAxis): string {
  const [lo, hi] =
    axis.role === 't'
      ? [
          Math.min(axis.values[0]!, axis.values[axis.values.length - 1]!),
          Math.max(axis.values[0]!, axis.values[axis.values.length - 1]!),
        ]
      : axisBounds(axis);
  if (axis.role === 't') {
    const n = axis.values.length;
    return n === 1
      ? `its one time step is ${formatCoordinate(axis, lo)}`
      : `its ${n} time steps run from ${formatCoordinate(axis, lo)} to ${formatCoordinate(axis, hi)}`;
  }
  return `its ${axis.label} cells span ${formatCoordinate(axis, lo)} to ${formatCoordinate(axis, hi)}`;
}

/** The value of a subset bound on an axis: a date-time on the time axis, a number elsewhere. */
function boundValue(axis: GridAxis, b: SubsetBound, spec: SubsetSpec, end: 'low' | 'high'): number {
  if (b.kind === 'open') return end === 'low' ? -Infinity : Infinity;
  if (axis.role === 't') {
    if (b.kind !== 'text')
      throw new InvalidParameterValue(
        'subset',
        `'${spec.text}': ${axis.label} takes RFC 3339 date-times in quotes, e.g. ${axis.label}("2000-01-01T00:00:00Z")`,
      );
    return parseInstant(b.value, 'subset', end === 'high' && spec.kind === 'trim');
  }
  if (b.kind !== 'number')
    throw new InvalidParameterValue('subset', `'${spec.text}': ${axis.label} takes numbers, got '${b.value}'`);
  return b.value;
}

function sliceRuns(axis: GridAxis, value: number): IndexRun[] {
  if (axis.longitude) {
    const hit = nearestLongitude(axis, value);
    return hit ? [{ start: hit.index, stop: hit.index + 1, shift: hit.shift }] : [];
  }
  const i = nearestCell(axis, value);
  return i === undefined ? [] : [{ start: i, stop: i + 1, shift: 0 }];
}

function trimRuns(axis: GridAxis, lo: number, hi: number): IndexRun[] {
  return axis.longitude ? trimLongitude(axis, lo, hi) : trimAxis(axis, lo, hi);
}

/** Runs with every cell once: the two halves of a box split at the antimeridian may both meet a cell centred on 180°. */
function withoutRepeats(runs: IndexRun[]): IndexRun[] {
  const seen = new Set<number>();
  const out: IndexRun[] = [];
  for (const r of runs) {
    let start = r.start;
    while (start < r.stop && seen.has(start)) start++;
    let stop = start;
    while (stop < r.stop && !seen.has(stop)) seen.add(stop++);
    if (stop > start) out.push({ start, stop, shift: r.shift });
  }
  return out;
}

/** Longitude intervals of a CRS84 box, split at the antimeridian when west > east. */
function lonIntervals(west: number, east: number): Array<[number, number]> {
  return west <= east
    ? [[west, east]]
    : [
        [west, 180],
        [-180, east],
      ];
}

/** The native-CRS envelope of a CRS84 box on a projected grid: its outline densely projected, plus any pole inside. */
function projectBox(model: GridModel, box: [number, number, number, number], parameter: string): NativeBox {
  const projection = model.crs.projection;
  if (!projection) {
    throw new InvalidParameterValue(
      parameter,
      `this collection's grid is in ${model.crs.label}, which this server cannot transform longitude/latitude into: give the box in ${model.crs.uri ?? 'its native x/y coordinates'}${model.crs.uri ? ` (${parameter === 'bbox' ? 'bbox-crs' : 'subset-crs'}=${model.crs.uri})` : ''}`,
    );
  }
  const [west, south, east, north] = box;
  const xs: number[] = [];
  const ys: number[] = [];
  const add = (lon: number, lat: number) => {
    const [x, y] = projection.forward(lon, lat);
    if (Number.isFinite(x) && Number.isFinite(y)) {
      xs.push(x);
      ys.push(y);
    }
  };
  const n = 64;
  for (const [w, e] of lonIntervals(west, east)) {
    for (let i = 0; i <= n; i++) {
      const lon = w + ((e - w) * i) / n;
      const lat = south + ((north - south) * i) / n;
      add(lon, south);
      add(lon, north);
      add(w, lat);
      add(e, lat);
    }
    for (const [plon, plat] of projection.singularities ?? []) {
      if (plat >= south && plat <= north && plon >= w && plon <= e) add(plon, plat);
    }
  }
  if (xs.length === 0)
    throw new InvalidParameterValue(parameter, `the box ${box.join(',')} cannot be projected into ${model.crs.label}`);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

interface Selections {
  /** Cells kept per axis; undefined while nothing constrains the axis (every cell, unshifted). */
  runs: Array<IndexRun[] | undefined>;
  /** What constrained each axis, for the error when nothing is left. */
  by: string[][];
}

function constrain(
  model: GridModel,
  sel: Selections,
  axis: GridAxis,
  runs: IndexRun[],
  parameter: string,
  what: string,
): void {
  const i = model.axes.indexOf(axis);
  const current = sel.runs[i];
  const next = current ? intersectRuns(current, runs) : runs;
  sel.by[i]!.push(what);
  if (next.length === 0) {
    const detail =
      runs.length === 0
        ? `${what} selects no cell of the coverage: ${extentText(axis)}`
        : `${sel.by[i]!.join(' and ')} have no cell of ${axis.label} in common`;
    throw new EmptySelection(parameter, detail);
  }
  sel.runs[i] = next;
}

function applyGeographicBox(
  model: GridModel,
  sel: Selections,
  box: [number, number, number, number],
  parameter: string,
  what: string,
): void {
  const x = model.axes.find((a) => a.role === 'x')!;
  const y = model.axes.find((a) => a.role === 'y')!;
  const [west, south, east, north] = box;
  if (model.crs.kind === 'geographic') {
    constrain(
      model,
      sel,
      x,
      withoutRepeats(lonIntervals(west, east).flatMap(([w, e]) => trimRuns(x, w, e))),
      parameter,
      what,
    );
    constrain(model, sel, y, trimRuns(y, south, north), parameter, what);
    return;
  }
  const [x0, y0, x1, y1] = projectBox(model, box, parameter);
  constrain(
    model,
    sel,
    x,
    trimRuns(x, x0, x1),
    parameter,
    `${what} (${model.crs.label} x ${Math.round(x0)}..${Math.round(x1)})`,
  );
  constrain(
    model,
    sel,
    y,
    trimRuns(y, y0, y1),
    parameter,
    `${what} (${model.crs.label} y ${Math.round(y0)}..${Math.round(y1)})`,
  );
}

function applyBbox(model: GridModel, sel: Selections, bbox: NonNullable<GridRequest['bbox']>): void {
  const parameter = bbox.parameter ?? 'bbox';
  const what = `${parameter === 'bbox' ? 'bbox' : `box of ${parameter}`} ${bbox.box.join(',')}`;
  if (bbox.crs.geographic) {
    applyGeographicBox(model, sel, bbox.box, parameter, what);
    return;
  }
  const x = model.axes.find((a) => a.role === 'x')!;
  const y = model.axes.find((a) => a.role === 'y')!;
  constrain(model, sel, x, trimRuns(x, bbox.box[0], bbox.box[2]), parameter, what);
  constrain(model, sel, y, trimRuns(y, bbox.box[1], bbox.box[3]), parameter, what);
}

function applySubsets(
  model: GridModel,
  sel: Selections,
  subsets: SubsetSpec[],
  subsetCrs: RequestCrs | undefined,
): void {
  const projected = model.crs.kind === 'projected';
  const geographicValues = projected && subsetCrs?.geographic === true;
  const geoBox: [number, number, number, number] = [-180, -90, 180, 90];
  let geo = false;
  for (const spec of subsets) {
    const lower = spec.axis.toLowerCase();
    const axis = findAxis(model, spec.axis);
    // On a projected grid, Lon/Lat (or x/y with subset-crs=CRS84) are degrees: they make a box to project.
    const asLon = projected && (LON_NAMES.has(lower) || (geographicValues && axis?.role === 'x'));
    const asLat = projected && (LAT_NAMES.has(lower) || (geographicValues && axis?.role === 'y'));
    if (asLon || asLat) {
      if (spec.low.kind === 'text' || spec.high.kind === 'text')
        throw new InvalidParameterValue('subset', `'${spec.text}': longitudes and latitudes are numbers`);
      const lo = spec.low.kind === 'number' ? spec.low.value : asLon ? -180 : -90;
      const hi = spec.high.kind === 'number' ? spec.high.value : asLon ? 180 : 90;
      // Lon(170:-170) crosses the antimeridian, as a bbox with west > east does.
      if (lo > hi && !asLon) throw new InvalidParameterValue('subset', `'${spec.text}': low ${lo} is above high ${hi}`);
      if (asLon) [geoBox[0], geoBox[2]] = [lo, hi];
      else [geoBox[1], geoBox[3]] = [lo, hi];
      geo = true;
      continue;
    }
    if (!axis) {
      throw new InvalidParameterValue(
        'subset',
        `unknown axis '${spec.axis}' in '${spec.text}'; this coverage's axes are: ${axisNames(model)}`,
      );
    }
    if (spec.kind === 'slice') {
      if (spec.low.kind === 'open' && axis.role !== 't') {
        throw new InvalidParameterValue(
          'subset',
          `'${spec.text}': a slice needs a value (* alone is the latest time step; use ${spec.axis}(*:*) for the whole axis)`,
        );
      }
      // time(*): the latest step.
      const v =
        spec.low.kind === 'open'
          ? Math.max(axis.values[0]!, axis.values[axis.values.length - 1]!)
          : boundValue(axis, spec.low, spec, 'low');
      constrain(model, sel, axis, sliceRuns(axis, v), 'subset', `'${spec.text}'`);
      continue;
    }
    const lo = boundValue(axis, spec.low, spec, 'low');
    const hi = boundValue(axis, spec.high, spec, 'high');
    if (lo > hi && axis.longitude) {
      // Lon(170:-170): across the antimeridian, the two sides read as one selection, west to east.
      constrain(
        model,
        sel,
        axis,
        withoutRepeats(lonIntervals(lo, hi).flatMap(([w, e]) => trimRuns(axis, w, e))),
        'subset',
        `'${spec.text}'`,
      );
      continue;
    }
    if (lo > hi)
      throw new InvalidParameterValue(
        'subset',
        `'${spec.text}': low ${formatCoordinate(axis, lo)} is above high ${formatCoordinate(axis, hi)}`,
      );
    constrain(model, sel, axis, trimRuns(axis, lo, hi), 'subset', `'${spec.text}'`);
  }
  if (geo) applyGeographicBox(model, sel, geoBox, 'subset', `subset Lon/Lat box ${geoBox.join(',')}`);
}

function applyDatetime(model: GridModel, sel: Selections, interval: TimeInterval): void {
  const t = model.axes.find((a) => a.role === 't');
  if (!t) throw new InvalidParameterValue('datetime', 'this coverage has no time axis');
  const what = `datetime ${Number.isFinite(interval.start) ? isoString(interval.start) : '..'}/${Number.isFinite(interval.end) ? isoString(interval.end) : '..'}`;
  // An instant picks the step nearest to it (within the steps' extent); an interval trims.
  const runs =
    interval.start === interval.end ? sliceRuns(t, interval.start) : trimRuns(t, interval.start, interval.end);
  constrain(model, sel, t, runs, 'datetime', what);
}

/** Index slabs as runs (each covering exactly the span its strided cells sample) and their targets, by axis position. */
function applySlabs(model: GridModel, sel: Selections, slabs: IndexSlab[]): Map<number, Target> {
  const targets = new Map<number, Target>();
  for (const slab of slabs) {
    const axis = model.axes.find((a) => a.dim === slab.axis) ?? findAxis(model, slab.axis);
    if (!axis)
      throw new InvalidParameterValue(
        slab.parameter,
        `unknown dimension '${slab.axis}'; dimensions: ${model.axes.map((a) => a.dim).join(', ')}`,
      );
    const n = axis.values.length;
    const { start, stride, stop } = slab;
    if (![start, stride, stop].every(Number.isInteger) || start < 0 || stride < 1 || stop < start) {
      throw new InvalidParameterValue(
        slab.parameter,
        `[${start}:${stride}:${stop}] on ${axis.dim} is not a valid hyperslab: start ≤ stop, both ≥ 0, stride ≥ 1`,
      );
    }
    if (stop >= n)
      throw new InvalidParameterValue(
        slab.parameter,
        `[${start}:${stride}:${stop}] on ${axis.dim}: the index ${stop} is past its last index ${n - 1}`,
      );
    const i = model.axes.indexOf(axis);
    if (targets.has(i)) throw new InvalidParameterValue(slab.parameter, `two hyperslabs on ${axis.dim}`);
    const size = Math.floor((stop - start) / stride) + 1;
    constrain(
      model,
      sel,
      axis,
      [{ start, stop: start + (size - 1) * stride + 1, shift: 0 }],
      slab.parameter,
      `[${start}:${stride}:${stop}]`,
    );
    targets.set(i, { size, stride });
  }
  return targets;
}

/**
 * Cells to keep along an axis after scaling (nearest-neighbour decimation only): a count, and a
 * stride when a whole factor asks for every k-th cell (which keeps the spacing regular).
 */
interface Target {
  size: number;
  stride?: number;
}

function targetSizes(sizes: number[], model: GridModel, scaling: ScalingRequest | undefined): Target[] {
  const target: Target[] = sizes.map((size) => ({ size }));
  if (!scaling) return target;
  const axisOf = (name: string, parameter: string): number => {
    const axis = findAxis(model, name);
    if (!axis)
      throw new InvalidParameterValue(
        parameter,
        `unknown axis '${name}'; this coverage's axes are: ${axisNames(model)}`,
      );
    return model.axes.indexOf(axis);
  };
  const setSize = (i: number, m: number, parameter: string, atMost = false) => {
    if (atMost) m = Math.min(m, sizes[i]!);
    if (m > sizes[i]!) {
      throw new InvalidParameterValue(
        parameter,
        `asks for ${m} cells along ${model.axes[i]!.label}, which has ${sizes[i]} in this subset: only downsampling (nearest neighbour) is supported`,
      );
    }
    target[i] = { size: m };
  };
  const setFactor = (i: number, f: number, parameter: string) => {
    if (f < 1)
      throw new InvalidParameterValue(
        parameter,
        `factor ${f} would upsample: only factors ≥ 1 (downsampling) are supported`,
      );
    const n = sizes[i]!;
    if (Number.isInteger(f)) target[i] = { size: Math.max(1, Math.floor(n / f)), stride: f };
    else setSize(i, Math.max(1, Math.round(n / f)), parameter);
  };
  if (scaling.factor !== undefined) sizes.forEach((_, i) => setFactor(i, scaling.factor!, 'scale-factor'));
  for (const { axis, value } of scaling.factors ?? []) setFactor(axisOf(axis, 'scale-axes'), value, 'scale-axes');
  for (const { axis, value } of scaling.resolutions ?? []) {
    const i = axisOf(axis, 'resolution');
    const a = model.axes[i]!;
    const n = a.values.length;
    const spacing = Math.abs(a.step ?? (n > 1 ? (a.values[n - 1]! - a.values[0]!) / (n - 1) : 0));
    const factor = spacing > 0 ? value / spacing : 1;
    // A spacing finer than the grid's keeps every cell (no upsampling); within 0.1 % of a whole factor counts as whole.
    const whole = Math.round(factor);
    setFactor(i, factor <= 1 ? 1 : Math.abs(factor - whole) < 1e-3 * whole ? whole : factor, 'resolution');
  }
  for (const { axis, value, parameter, atMost } of scaling.sizes ?? []) {
    // EDR names axes by role (x, y, z); a grid without that axis is not scaled along it.
    const i = atMost ? model.axes.findIndex((a) => a.role === axis) : axisOf(axis, parameter);
    if (i < 0) continue;
    if (!Number.isInteger(value)) throw new InvalidParameterValue(parameter, `${value} is not a whole number of cells`);
    setSize(i, value, parameter, atMost);
  }
  return target;
}

/**
 * Source indices (output order) and output coordinates of one axis: its runs, decimated to the
 * target. With a stride, every stride-th cell, the sampled span centred in the selection; with a
 * size only, the cell under the centre of each output cell.
 */
function select(axis: GridAxis, runs: IndexRun[], target: Target): AxisSelection {
  const n = runCells(runs);
  const m = target.size;
  const indices = new Int32Array(n);
  const shifts = new Float64Array(n);
  let k = 0;
  for (const r of runs) {
    for (let i = r.start; i < r.stop; i++) {
      indices[k] = i;
      shifts[k++] = r.shift;
    }
  }
  const picks = new Int32Array(m);
  const values = new Float64Array(m);
  const offset = target.stride ? Math.floor((n - ((m - 1) * target.stride + 1)) / 2) : 0;
  for (let j = 0; j < m; j++) {
    const at =
      m === n ? j : target.stride ? offset + j * target.stride : Math.min(n - 1, Math.floor(((j + 0.5) * n) / m));
    picks[j] = indices[at]!;
    values[j] = axis.values[indices[at]!]! + shifts[at]!;
  }
  return { axis, picks, values };
}

/** Bytes spanned by the picks of one axis (runs of increasing indices), an upper bound of what a read touches. */
function pickSpan(picks: Int32Array): number {
  if (picks.length === 0) return 0;
  let total = 0;
  let lo = picks[0]!;
  let hi = picks[0]!;
  for (let i = 1; i < picks.length; i++) {
    const p = picks[i]!;
    if (p > hi) hi = p;
    else {
      total += hi - lo + 1;
      lo = hi = p;
    }
  }
  return total + hi - lo + 1;
}

function chooseFields(model: GridModel, req: GridRequest): GridField[] {
  const names = model.fields.map((f) => f.name);
  const check = (list: string[], parameter: string) => {
    if (list.length === 0 || list.some((p) => p === ''))
      throw new InvalidParameterValue(
        parameter,
        `expected a comma-separated list of fields; available: ${names.join(', ')}`,
      );
    const unknown = list.filter((p) => !names.includes(p));
    if (unknown.length > 0)
      throw new InvalidParameterValue(
        parameter,
        `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; available: ${names.join(', ')}`,
      );
  };
  let fields = model.fields;
  if (req.properties) {
    check(req.properties, 'properties');
    fields = req.properties
      .filter((p, i, all) => all.indexOf(p) === i)
      .map((p) => model.fields.find((f) => f.name === p)!);
  }
  if (req.excludeProperties) {
    check(req.excludeProperties, 'exclude-properties');
    fields = fields.filter((f) => !req.excludeProperties!.includes(f.name));
    if (fields.length === 0)
      throw new InvalidParameterValue('exclude-properties', 'excludes every field of the coverage');
  }
  return fields;
}

/** Plan a coverage request: validate it against the grid and compute what to read and return. */
export function planGrid(model: GridModel, req: GridRequest): GridPlan {
  const fields = chooseFields(model, req);
  const sel: Selections = {
    runs: model.axes.map(() => undefined),
    by: model.axes.map(() => []),
  };
  if (req.bbox) applyBbox(model, sel, req.bbox);
  if (req.subsets && req.subsets.length > 0) applySubsets(model, sel, req.subsets, req.subsetCrs);
  if (req.datetime) applyDatetime(model, sel, req.datetime);
  const strided = applySlabs(model, sel, req.slabs ?? []);
  const runs = model.axes.map((a, i) => sel.runs[i] ?? [{ start: 0, stop: a.values.length, shift: 0 }]);
  const sizes = targetSizes(runs.map(runCells), model, req.scaling);
  // A slab's picks are exact: its stride, from its first cell (select() centres other strides).
  strided.forEach((target, i) => {
    sizes[i] = target;
  });
  const axes = model.axes.map((a, i) => levels(select(a, runs[i]!, sizes[i]!), req));
  const shape = axes.map((a) => a.picks.length);
  const cells = shape.reduce((p, n) => p * n, 1);
  const span = axes.reduce((p, a) => p * pickSpan(a.picks), 1);
  const sourceBytes = fields.reduce((total, f) => total + span * DTYPE_BYTES[f.dtype], 0);
  const plan: GridPlan = { model, axes, fields, shape, cells, sourceBytes };
  if (req.within) plan.mask = cellMask(plan, req.within);
  return plan;
}

/** EDR's z levels and first cell of other axes, applied to an axis's (scaled) selection. */
function levels(sel: AxisSelection, req: GridRequest): AxisSelection {
  const { axis } = sel;
  if (axis.role === 'z' && req.z) {
    const kept = selectLevels(req.z, sel.values);
    if (kept.length === 0)
      throw new EmptySelection(
        'z',
        `no level of ${axis.label} in the selection; levels: ${Array.from(axis.values).slice(0, 50).join(', ')}`,
      );
    return {
      axis,
      picks: Int32Array.from(kept, (k) => sel.picks[k]!),
      values: Float64Array.from(kept, (k) => sel.values[k]!),
    };
  }
  if (axis.role === 'other' && req.firstOfOtherAxes && sel.picks.length > 1)
    return { axis, picks: sel.picks.slice(0, 1), values: sel.values.slice(0, 1) };
  return sel;
}

/** The (y, x) cells of a plan whose centre lies inside the geometry; a 400 when there is none. */
function cellMask(plan: GridPlan, within: WithinRequest): CellMask {
  const x = plan.axes.find((a) => a.axis.role === 'x')!.values;
  const y = plan.axes.find((a) => a.axis.role === 'y')!.values;
  const crs = plan.model.crs;
  const projection = crs.kind === 'projected' ? crs.projection : undefined;
  if (crs.kind === 'projected' && !projection)
    throw new InvalidParameterValue(
      within.parameter,
      `no transformation from ${crs.label} to longitude/latitude: use a bbox (cube) query`,
    );
  const flags = new Uint8Array(x.length * y.length);
  let selected = 0;
  for (let iy = 0; iy < y.length; iy++) {
    for (let ix = 0; ix < x.length; ix++) {
      const [lon, lat] = projection ? projection.inverse(x[ix]!, y[iy]!) : [x[ix]!, y[iy]!];
      if (within.inside(lon, lat)) {
        flags[iy * x.length + ix] = 1;
        selected++;
      }
    }
  }
  if (selected === 0)
    throw new EmptySelection(within.parameter, 'no cell centre of the grid lies inside the requested geometry');
  return { flags, ny: y.length, nx: x.length, selected };
}

/** Row-major strides of the plan's output (cells of one step along each axis). */
export function outputStrides(plan: GridPlan): number[] {
  const strides = new Array<number>(plan.shape.length);
  let acc = 1;
  for (let d = plan.shape.length - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= plan.shape[d]!;
  }
  return strides;
}

/**
 * Whether the output cell at flat index k (row-major over the plan's axes) is selected; undefined
 * for a plan without a mask (every cell is).
 */
export function maskTest(plan: GridPlan): ((k: number) => boolean) | undefined {
  const mask = plan.mask;
  if (!mask) return undefined;
  const strides = outputStrides(plan);
  const yi = plan.axes.findIndex((a) => a.axis.role === 'y');
  const xi = plan.axes.findIndex((a) => a.axis.role === 'x');
  const [sy, ny, sx, nx] = [strides[yi]!, plan.shape[yi]!, strides[xi]!, plan.shape[xi]!];
  return (k) => mask.flags[(Math.floor(k / sy) % ny) * nx + (Math.floor(k / sx) % nx)] === 1;
}
