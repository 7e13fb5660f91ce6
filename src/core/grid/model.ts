/**
 * Building the grid model of a collection: the layout detect.ts finds, with the coordinate values
 * read once (x/y/z from the first file, time from every file), files in time order.
 */
import { attrString, DecodedReader } from '../../cf/read.js';
import { decodeTimes, TimeUnitsError } from '../../cf/time.js';
import type { Reader } from '../../readers/types.js';
import { detectGrid, type GeorefHint, type GridLayoutAxis } from './detect.js';
import type { GridSummary } from './summary.js';
import type { GridAxis, GridFileSlot, GridModel } from './types.js';

/** Relative tolerance under which spacings count as equal (float32 coordinates are noisy). */
const REGULAR_TOLERANCE = 1e-5;

export interface BuiltGrid {
  model: GridModel;
  /** Things about the files worth a log line (contradicting attributes, dropped files). */
  warnings: string[];
}

/**
 * Direction and regular step of a coordinate, or undefined when it is not strictly monotonic.
 * `float32`: the values were stored as float32, whose rounding (a few 1e-6 at 40°) exceeds the
 * relative tolerance on small spacings, so it is allowed for too.
 */
export function monotony(values: Float64Array, float32 = false): { direction: 1 | -1 | 0; step?: number } | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) return undefined;
  if (n === 1) return { direction: 0 };
  const direction = values[1]! > values[0]! ? 1 : -1;
  for (let i = 1; i < n; i++) {
    const d = values[i]! - values[i - 1]!;
    if (d === 0 || Math.sign(d) !== direction) return undefined;
  }
  const mean = (values[n - 1]! - values[0]!) / (n - 1);
  const largest = Math.max(Math.abs(values[0]!), Math.abs(values[n - 1]!));
  const allowed = Math.abs(mean) * REGULAR_TOLERANCE + (float32 ? 4 * 2 ** -23 * largest : 0);
  let regular = true;
  for (let i = 1; i < n && regular; i++) {
    if (Math.abs(values[i]! - values[i - 1]! - mean) > allowed) regular = false;
  }
  return regular ? { direction, step: mean } : { direction };
}

function indexValues(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => i);
}

/** A georef() when the reader has one (GeoTIFF), typed structurally so any reader may offer it. */
function georefOf(reader: Reader): GeorefHint | undefined {
  const candidate = reader as Reader & { georef?: () => GeorefHint };
  return typeof candidate.georef === 'function' ? candidate.georef() : undefined;
}

async function axisOf(
  layout: GridLayoutAxis,
  data: DecodedReader,
  warnings: string[],
): Promise<{ axis: GridAxis; raw?: Float64Array }> {
  const base = { role: layout.role, dim: layout.dim, label: layout.label, names: layout.names };
  const v = layout.coordinate;
  if (!v) {
    return {
      axis: {
        ...base,
        values: indexValues(layout.size),
        attrs: {},
        dtype: 'i4',
        direction: layout.size > 1 ? 1 : 0,
        ...(layout.size > 1 ? { step: 1 } : {}),
      },
    };
  }
  let values: Float64Array;
  let raw: Float64Array | undefined;
  if (layout.role === 't') {
    raw = await data.numbers(v.name);
    try {
      values = decodeTimes(raw, attrString(v.attrs, 'units') ?? '', attrString(v.attrs, 'calendar'));
    } catch (err) {
      if (!(err instanceof TimeUnitsError)) throw err;
      warnings.push(`time coordinate '${v.name}': ${err.message}; served as plain numbers`);
      const m = monotony(raw);
      return {
        axis: {
          ...base,
          role: 'other',
          label: layout.dim,
          variable: v.name,
          values: raw,
          attrs: v.attrs,
          dtype: v.dtype,
          direction: m?.direction ?? 1,
          ...(m?.step ? { step: m.step } : {}),
        },
      };
    }
  } else {
    values = await data.numbers(v.name);
  }
  const m = monotony(values, v.dtype === 'f4');
  if (!m) {
    warnings.push(
      `coordinate '${v.name}' is not strictly monotonic (or has missing values): its dimension '${layout.dim}' is indexed by position`,
    );
    return {
      axis: {
        ...base,
        values: indexValues(layout.size),
        attrs: v.attrs,
        dtype: v.dtype,
        direction: layout.size > 1 ? 1 : 0,
        ...(layout.size > 1 ? { step: 1 } : {}),
      },
    };
  }
  const axis: GridAxis = { ...base, variable: v.name, values, attrs: v.attrs, dtype: v.dtype, direction: m.direction };
  if (m.step !== undefined) axis.step = m.step;
  if (layout.longitude) axis.longitude = true;
  return raw ? { axis, raw } : { axis };
}

/** The grid of one open file, or the reason it has none. */
export async function gridFromReader(
  reader: Reader,
  slot: { path: string; rel: string },
): Promise<BuiltGrid | { reason: string }> {
  const info = await reader.info();
  const layout = detectGrid(info, georefOf(reader));
  if ('reason' in layout) return layout;
  const warnings = [...layout.warnings];
  const data = await DecodedReader.of(reader);
  const axes: GridAxis[] = [];
  let rawTime: GridModel['rawTime'];
  for (const la of layout.axes) {
    const { axis, raw } = await axisOf(la, data, warnings);
    axes.push(axis);
    if (axis.role === 't' && raw && la.coordinate) {
      const units = attrString(la.coordinate.attrs, 'units') ?? '';
      const calendar = attrString(la.coordinate.attrs, 'calendar');
      rawTime = { values: raw, units, ...(calendar ? { calendar } : {}) };
    }
    if (axes.filter((a) => a.role === 't').length > 1) return { reason: 'more than one time axis' };
  }
  const t = axes.find((a) => a.role === 't');
  const model: GridModel = {
    axes,
    fields: layout.fields,
    crs: layout.crs,
    files: [{ path: slot.path, rel: slot.rel, timeStart: 0, timeCount: t ? t.values.length : 1 }],
    attrs: info.attrs,
  };
  if (rawTime) model.rawTime = rawTime;
  return { model, warnings };
}

/** Whether two files' grids line up: same axes, same sizes, same x/y/z coordinates (to the first and last cell). */
function compatible(model: GridModel, other: GridSummary): string | undefined {
  for (const a of model.axes) {
    if (a.role === 't') continue;
    const o = other.axes.find((x) => x.dim === a.dim);
    if (!o) return `has no dimension '${a.dim}'`;
    if (o.size !== a.values.length) return `has ${o.size} cells along '${a.dim}', not ${a.values.length}`;
    const first = a.values[0]!;
    const last = a.values[a.values.length - 1]!;
    const tolerance = Math.abs(a.step ?? 1) * 1e-3;
    if (Math.abs(o.first - first) > tolerance || Math.abs(o.last - last) > tolerance)
      return `has '${a.dim}' from ${o.first} to ${o.last}, not ${first} to ${last}`;
  }
  return undefined;
}

/**
 * One grid over a folder of files along time: `first` is the model of the earliest file, `others`
 * the summaries discovery kept of the rest (their time steps). Files whose grid differs are left
 * out with a warning; files without a time axis cannot be concatenated (only the first is served).
 */
export function aggregateAlongTime(
  first: BuiltGrid,
  others: Array<{ path: string; rel: string; summary: GridSummary }>,
): BuiltGrid {
  const warnings = [...first.warnings];
  const { model } = first;
  const ti = model.axes.findIndex((a) => a.role === 't');
  if (others.length === 0) return first;
  if (ti < 0) {
    warnings.push(
      `${others.length + 1} files share a folder but have no time axis to concatenate along: serving only ${model.files[0]!.rel}`,
    );
    return { model, warnings };
  }
  const tAxis = model.axes[ti]!;
  const slots: GridFileSlot[] = [{ ...model.files[0]!, timeStart: 0, timeCount: tAxis.values.length }];
  const times: number[] = Array.from(tAxis.values);
  const raws: number[] | undefined = model.rawTime ? Array.from(model.rawTime.values) : undefined;
  let sameUnits = raws !== undefined;
  let last = times[times.length - 1]!;
  for (const o of others) {
    const why = compatible(model, o.summary);
    const ts = o.summary.time?.values;
    if (why || !ts || ts.length === 0) {
      warnings.push(`${o.rel} left out of the aggregation: it ${why ?? 'has no time steps'}`);
      continue;
    }
    if (!(ts[0]! > last)) {
      warnings.push(`${o.rel} left out of the aggregation: its time steps overlap those of the files before it`);
      continue;
    }
    slots.push({ path: o.path, rel: o.rel, timeStart: times.length, timeCount: ts.length });
    times.push(...ts);
    last = ts[ts.length - 1]!;
    if (
      sameUnits &&
      o.summary.time!.units === model.rawTime!.units &&
      o.summary.time!.calendar === model.rawTime!.calendar
    )
      raws!.push(...o.summary.time!.raw);
    else sameUnits = false;
  }
  const values = Float64Array.from(times);
  const m = monotony(values);
  const axis: GridAxis = { ...tAxis, values, direction: m?.direction ?? 1 };
  delete axis.step;
  if (m?.step !== undefined) axis.step = m.step;
  const axes = model.axes.map((a, i) => (i === ti ? axis : a));
  const aggregated: GridModel = { ...model, axes, files: slots };
  if (sameUnits && raws && model.rawTime) aggregated.rawTime = { ...model.rawTime, values: Float64Array.from(raws) };
  else delete aggregated.rawTime;
  return { model: aggregated, warnings };
}
