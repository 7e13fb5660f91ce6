/**
 * ERDDAP griddap queries → the shared grid plan: `sst[(2016-07-07T00:00:00Z)][(42):(45)][(30):2:(35)]`.
 * Parentheses hold axis values (ISO 8601 or epoch seconds on time; the nearest cell is taken, a
 * value more than one cell spacing outside the axis is an error), bare numbers are indices;
 * `last` and `last-n` are indices from the end, `(last)` and `(last-x)` values from the last one.
 * A descending axis (latitude stored north to south) takes its two values in either order.
 * Every data variable of one query shares the constraints, as in ERDDAP.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import type { GridRequest, IndexSlab } from '../../core/grid/plan.js';
import type { GridAxis, GridModel } from '../../core/grid/types.js';

/** What errors name as the parameter: ERDDAP calls every query problem a query error. */
const QUERY = 'query';

export interface GriddapQuery {
  /** Data variables (fields); empty for an axis-only request. */
  fields: string[];
  /** Axis positions asked for alone (axis-only request). */
  axes: number[];
  /** One slab per axis of the grid. */
  slabs: IndexSlab[];
}

/** The name an axis goes by in ERDDAP URLs and answers: its coordinate variable's. */
export function erddapAxisName(axis: GridAxis): string {
  return axis.variable ?? axis.dim;
}

function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function spacing(axis: GridAxis): number {
  const n = axis.values.length;
  return n > 1 ? Math.abs(axis.values[n - 1]! - axis.values[0]!) / (n - 1) : 0;
}

/** A value in the axis' own units: epoch ms on time (ERDDAP gives ISO 8601 or epoch seconds). */
function axisValue(axis: GridAxis, text: string, where: string): number {
  const n = axis.values.length;
  const last = /^last\s*(?:([+-])\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?))?$/.exec(text);
  if (last) {
    const delta = last[2] ? Number(last[2]) * (axis.role === 't' ? 1000 : 1) : 0;
    return axis.values[n - 1]! + (last[1] === '-' ? -delta : delta);
  }
  if (axis.role === 't') {
    if (/^-?\d+(\.\d*)?([eE][+-]?\d+)?$/.test(text)) return Number(text) * 1000;
    const ms = Date.parse(/[Zz]|[+-]\d\d:?\d\d$/.test(text) || !/T/.test(text) ? text : `${text}Z`);
    if (!Number.isFinite(ms))
      throw new InvalidParameterValue(
        QUERY,
        `${where}: '${text}' is not an ISO 8601 time (e.g. 2016-07-07T00:00:00Z) or epoch seconds`,
      );
    return ms;
  }
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v))
    throw new InvalidParameterValue(QUERY, `${where}: '${text}' is not a number`);
  return v;
}

function describe(axis: GridAxis, v: number): string {
  return axis.role === 't' ? new Date(v).toISOString().replace('.000Z', 'Z') : String(v);
}

/** The index nearest to a value; beyond one spacing outside the axis, ERDDAP's error. */
function nearestIndex(axis: GridAxis, v: number, where: string): number {
  const n = axis.values.length;
  const lo = Math.min(axis.values[0]!, axis.values[n - 1]!);
  const hi = Math.max(axis.values[0]!, axis.values[n - 1]!);
  const tol = spacing(axis);
  const name = erddapAxisName(axis);
  if (v < lo - tol)
    throw new InvalidParameterValue(
      QUERY,
      `${where}: ${describe(axis, v)} is less than the ${name} axis minimum ${describe(axis, lo)}`,
    );
  if (v > hi + tol)
    throw new InvalidParameterValue(
      QUERY,
      `${where}: ${describe(axis, v)} is greater than the ${name} axis maximum ${describe(axis, hi)}`,
    );
  let best = 0;
  for (let i = 1; i < n; i++) if (Math.abs(axis.values[i]! - v) < Math.abs(axis.values[best]! - v)) best = i;
  return best;
}

interface Bound {
  index: number;
  byValue: boolean;
}

function bound(axis: GridAxis, token: string, where: string): Bound {
  const t = token.trim();
  const n = axis.values.length;
  if (t.startsWith('(') && t.endsWith(')'))
    return { index: nearestIndex(axis, axisValue(axis, t.slice(1, -1).trim(), where), where), byValue: true };
  const last = /^last\s*(?:-\s*(\d+))?$/.exec(t);
  if (last) {
    const i = n - 1 - Number(last[1] ?? 0);
    if (i < 0)
      throw new InvalidParameterValue(
        QUERY,
        `${where}: '${t}' is before the first index of ${erddapAxisName(axis)} (it has ${n})`,
      );
    return { index: i, byValue: false };
  }
  if (!/^\d+$/.test(t))
    throw new InvalidParameterValue(
      QUERY,
      `${where}: '${t}' is neither an index, last[-n], nor a value in parentheses`,
    );
  const i = Number(t);
  if (i >= n)
    throw new InvalidParameterValue(
      QUERY,
      `${where}: index ${i} is greater than the last index (${n - 1}) of ${erddapAxisName(axis)}`,
    );
  return { index: i, byValue: false };
}

function slabOf(axis: GridAxis, text: string, where: string): IndexSlab {
  const parts = splitTopLevel(text, ':');
  if (parts.length > 3)
    throw new InvalidParameterValue(QUERY, `${where}: expected [start], [start:stop] or [start:stride:stop]`);
  const start = bound(axis, parts[0]!, where);
  const stop = parts.length === 1 ? start : bound(axis, parts[parts.length - 1]!, where);
  let stride = 1;
  if (parts.length === 3) {
    const s = parts[1]!.trim();
    if (!/^\d+$/.test(s) || Number(s) < 1)
      throw new InvalidParameterValue(QUERY, `${where}: the stride '${s}' must be a whole number ≥ 1`);
    stride = Number(s);
  }
  let [a, b] = [start.index, stop.index];
  if (a > b) {
    // Values on a descending axis (latitude north to south) come in either order; indices must not.
    if (!(start.byValue && stop.byValue))
      throw new InvalidParameterValue(QUERY, `${where}: start index ${a} is greater than stop index ${b}`);
    [a, b] = [b, a];
  }
  return { axis: axis.dim, start: a, stride, stop: b, parameter: QUERY };
}

/** Parses a griddap query (already %-decoded); an empty query is every data variable, whole. */
export function parseGriddapQuery(model: GridModel, query: string): GriddapQuery {
  const [projection = '', ...rest] = query.split('&');
  const extra = rest.filter((p) => p.trim() !== '' && !p.startsWith('.'));
  if (extra.length > 0)
    throw new InvalidParameterValue(
      QUERY,
      `griddap takes no constraints after '&' ('${extra[0]}'): give ranges in brackets, e.g. var[(t0):(t1)]`,
    );
  const items = splitTopLevel(projection, ',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const fieldNames = model.fields.map((f) => f.name);
  const axisNames = model.axes.map(erddapAxisName);
  const fields: string[] = [];
  const axes: number[] = [];
  let shared: { text: string; slabs: IndexSlab[] } | undefined;
  const axisSlabs = new Map<number, IndexSlab>();
  for (const item of items.length > 0 ? items : fieldNames) {
    const m = /^([^[]+)((?:\[[^\]]*\])*)$/.exec(item);
    if (!m) throw new InvalidParameterValue(QUERY, `cannot parse '${item}': expected name[start:stride:stop]…`);
    const name = m[1]!.trim();
    const brackets = [...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((b) => b[1]!);
    const a = axisNames.indexOf(name);
    if (a >= 0) {
      if (brackets.length > 1) throw new InvalidParameterValue(QUERY, `'${item}': the axis ${name} takes one [range]`);
      axes.push(a);
      axisSlabs.set(
        a,
        brackets.length === 1
          ? slabOf(model.axes[a]!, brackets[0]!, `${name}[${brackets[0]}]`)
          : { axis: model.axes[a]!.dim, start: 0, stride: 1, stop: model.axes[a]!.values.length - 1, parameter: QUERY },
      );
      continue;
    }
    if (!fieldNames.includes(name))
      throw new InvalidParameterValue(
        QUERY,
        `Unrecognized variable="${name}". This dataset's variables: ${[...axisNames, ...fieldNames].join(', ')}`,
      );
    if (brackets.length !== 0 && brackets.length !== model.axes.length) {
      throw new InvalidParameterValue(
        QUERY,
        `'${item}' has ${brackets.length} [range]s; ${name} has ${model.axes.length} axes (${axisNames.join(', ')})`,
      );
    }
    const slabs =
      brackets.length === 0
        ? model.axes.map((ax) => ({ axis: ax.dim, start: 0, stride: 1, stop: ax.values.length - 1, parameter: QUERY }))
        : model.axes.map((ax, d) => slabOf(ax, brackets[d]!, `${name}[${brackets[d]}]`));
    const key = slabs.map((s) => `${s.start}:${s.stride}:${s.stop}`).join('/');
    if (shared && shared.text !== key)
      throw new InvalidParameterValue(
        QUERY,
        `every data variable of one request must have the same constraints ('${item}' differs)`,
      );
    shared = { text: key, slabs };
    fields.push(name);
  }
  if (fields.length > 0 && axes.length > 0)
    throw new InvalidParameterValue(
      QUERY,
      'ask for axis variables or data variables, not both (the axes come with the data)',
    );
  const slabs =
    shared?.slabs ??
    model.axes.map(
      (ax, d) =>
        axisSlabs.get(d) ?? { axis: ax.dim, start: 0, stride: 1, stop: ax.values.length - 1, parameter: QUERY },
    );
  return { fields, axes, slabs };
}

export function gridRequestOf(q: GriddapQuery): GridRequest {
  return { ...(q.fields.length > 0 ? { properties: q.fields } : {}), slabs: q.slabs };
}
