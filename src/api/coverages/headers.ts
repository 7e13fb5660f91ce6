/**
 * Response headers of a coverage answer (OGC API - Coverages core, /req/core/response-headers):
 * the CRS of the data, the spatial extent of the returned cells and their time, so a client knows
 * what it got before (or without) parsing the body. Computed from the plan, before any read.
 */
import { isoString } from '../../cf/time.js';
import { CRS84 } from '../../core/grid/crs.js';
import type { AxisSelection, GridPlan } from '../../core/grid/plan.js';

/** Outer cell edges of a selection along a spatial axis: centres ± half a cell. */
function edges(sel: AxisSelection): [number, number] {
  const v = sel.values;
  const n = v.length;
  const lo = Math.min(v[0]!, v[n - 1]!);
  const hi = Math.max(v[0]!, v[n - 1]!);
  const half = n > 1 ? Math.abs(v[n - 1]! - v[0]!) / (n - 1) / 2 : Math.abs(sel.axis.step ?? 0) / 2;
  return [lo - half, hi + half];
}

function text(n: number): string {
  return String(Math.round(n * 1e9) / 1e9);
}

/** Content-Crs, Content-Bbox (x,y order of that CRS: CRS84 and projected grids are easting first) and Content-Datetime. */
export function coverageHeaders(plan: GridPlan): Record<string, string> {
  const headers: Record<string, string> = { 'content-crs': `<${plan.model.crs.uri ?? CRS84}>` };
  const x = plan.axes.find((a) => a.axis.role === 'x');
  const y = plan.axes.find((a) => a.axis.role === 'y');
  if (x && y && x.values.length > 0 && y.values.length > 0) {
    const [x0, x1] = edges(x);
    const [y0, y1] = edges(y);
    headers['content-bbox'] = [x0, y0, x1, y1].map(text).join(',');
  }
  const t = plan.axes.find((a) => a.axis.role === 't');
  if (t && t.values.length > 0) {
    let first = Infinity;
    let last = -Infinity;
    for (const v of t.values) {
      first = Math.min(first, v);
      last = Math.max(last, v);
    }
    headers['content-datetime'] = first === last ? isoString(first) : `${isoString(first)}/${isoString(last)}`;
  }
  return headers;
}
