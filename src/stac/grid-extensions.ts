/**
 * STAC extension fields of grids, from the grid summary the catalog keeps (no file is read):
 * projection (the native CRS, shape and geotransform) and datacube (dimensions and variables).
 */
import type { Collection } from '../catalog/collection.js';
import type { GridAxisSummary, GridSummary } from '../core/grid/summary.js';

export const DATACUBE_EXTENSION = 'https://stac-extensions.github.io/datacube/v2.2.0/schema.json';
export const PROJECTION_EXTENSION = 'https://stac-extensions.github.io/projection/v1.1.0/schema.json';

const iso = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString().replace('.000Z', 'Z');
const CRS84 = /\/OGC\/1\.3\/CRS84$/;

/** EPSG code of the grid's CRS (CRS84 is EPSG:4326 with the axes swapped: STAC writes 4326 for it). */
function epsgOf(g: GridSummary): number | undefined {
  const code = /\/EPSG\/0\/(\d+)$/.exec(g.crs ?? '')?.[1];
  if (code) return Number(code);
  return CRS84.test(g.crs ?? '') || (g.crs === undefined && g.kind === 'geographic') ? 4326 : undefined;
}

function dimension(a: GridAxisSummary, g: GridSummary): Record<string, unknown> {
  const lo = Math.min(a.first, a.last);
  const hi = Math.max(a.first, a.last);
  if (a.role === 't') return { type: 'temporal', extent: [iso(lo), iso(hi)] };
  if (a.role === 'x' || a.role === 'y') {
    const epsg = epsgOf(g);
    return {
      type: 'spatial',
      axis: a.role,
      extent: [lo, hi],
      ...(a.step !== undefined ? { step: Math.abs(a.step) } : {}),
      reference_system: epsg ?? g.crs ?? 4326,
    };
  }
  if (a.role === 'z')
    return {
      type: 'spatial',
      axis: 'z',
      extent: [lo, hi],
      ...(a.step !== undefined ? { step: Math.abs(a.step) } : {}),
      ...(a.units ? { unit: a.units } : {}),
    };
  return { type: a.label || 'other', extent: [lo, hi], ...(a.units ? { unit: a.units } : {}) };
}

/** cube:dimensions and cube:variables of one file's grid; `time` narrows the temporal dimension (one item's steps). */
export function gridCube(c: Collection, g: GridSummary, time?: [number, number]): Record<string, unknown> {
  const dims: Record<string, unknown> = {};
  for (const a of g.axes)
    dims[a.dim] = a.role === 't' && time ? { type: 'temporal', extent: [iso(time[0]), iso(time[1])] } : dimension(a, g);
  const variables: Record<string, unknown> = {};
  for (const name of g.fields) {
    const p = c.parameters.find((x) => x.name === name);
    variables[name] = {
      dimensions: g.axes.map((a) => a.dim),
      type: 'data',
      ...(p?.units ? { unit: p.units } : {}),
      ...(p?.longName ? { description: p.longName } : {}),
    };
  }
  return { 'cube:dimensions': dims, 'cube:variables': variables };
}

/** Datacube fields of a grid collection: its first file's grid, time spanning every file. */
export function collectionCube(c: Collection): Record<string, unknown> | undefined {
  const g = c.grid?.[0]?.summary;
  if (!g) return undefined;
  const first = c.grid?.[0]?.summary.time?.values;
  const last = c.grid?.[c.grid.length - 1]?.summary.time?.values;
  const span: [number, number] | undefined =
    first?.length && last?.length ? [first[0]!, last[last.length - 1]!] : undefined;
  return gridCube(c, g, span);
}

/**
 * Projection fields of a grid: EPSG code, shape [rows, columns] and the affine transform of the
 * cell edges (rasterio order: x step, 0, west or east edge, 0, y step, first row's edge), and the
 * native bbox. Undefined when the CRS is unknown.
 */
export function projFields(g: GridSummary): Record<string, unknown> | undefined {
  const epsg = epsgOf(g);
  if (epsg === undefined) return undefined;
  const x = g.axes.find((a) => a.role === 'x');
  const y = g.axes.find((a) => a.role === 'y');
  if (!x || !y) return undefined;
  const out: Record<string, unknown> = { 'proj:epsg': epsg, 'proj:shape': [y.size, x.size] };
  if (x.step !== undefined && y.step !== undefined) {
    out['proj:transform'] = [x.step, 0, x.first - x.step / 2, 0, y.step, y.first - y.step / 2];
    const xs = [x.first - x.step / 2, x.last + x.step / 2];
    const ys = [y.first - y.step / 2, y.last + y.step / 2];
    out['proj:bbox'] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }
  return out;
}
