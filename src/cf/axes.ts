import type { DatasetInfo, VariableInfo } from '../readers/types.js';

/** CF axis roles a variable can play, found from units, standard_name, axis and real-world names. */
export type AxisRole = 'lon' | 'lat' | 'time' | 'z';

const LON_UNITS = /^degrees?_?(east|e)$/i;
const LAT_UNITS = /^degrees?_?(north|n)$/i;
const LON_NAMES = /^(lon|long|longitude|nav_lon|x_lon|coadsx)$/i;
const LAT_NAMES = /^(lat|latitude|nav_lat|y_lat|coadsy)$/i;
const TIME_NAMES = /^(time|t|juld|date_time|tdim)$/i;
const Z_NAMES = /^(depth|z|lev|level|height|altitude|deph)$/i;

function str(v: VariableInfo, name: string): string {
  const a = v.attrs[name];
  return typeof a === 'string' ? a.trim() : '';
}

export function axisRole(v: VariableInfo): AxisRole | undefined {
  const units = str(v, 'units');
  const std = str(v, 'standard_name').toLowerCase();
  const axis = str(v, 'axis').toUpperCase();
  if (std === 'longitude' || LON_UNITS.test(units) || (axis === 'X' && LON_NAMES.test(v.name))) return 'lon';
  if (std === 'latitude' || LAT_UNITS.test(units) || (axis === 'Y' && LAT_NAMES.test(v.name))) return 'lat';
  if (std === 'time' || axis === 'T' || /\bsince\b/i.test(units)) return 'time';
  if (
    std === 'depth' ||
    (std === 'sea_water_pressure' && axis === 'Z') ||
    axis === 'Z' ||
    std === 'altitude' ||
    std === 'height'
  )
    return 'z';
  if (LON_NAMES.test(v.name)) return 'lon';
  if (LAT_NAMES.test(v.name)) return 'lat';
  if (TIME_NAMES.test(v.name)) return 'time';
  if (Z_NAMES.test(v.name)) return 'z';
  return undefined;
}

/** The first variable playing `role`, preferring coordinate variables (named after their dimension). */
export function findAxis(info: DatasetInfo, role: AxisRole, dims?: string[]): VariableInfo | undefined {
  const candidates = info.variables.filter(
    (v) => axisRole(v) === role && (!dims || v.dims.every((d) => dims.includes(d))),
  );
  const coord = candidates.find((v) => v.dims.length === 1 && v.dims[0] === v.name);
  return coord ?? candidates.find((v) => v.dims.length <= 1) ?? candidates[0];
}

/** Names of variables that are coordinates, dimension scales, QC or bookkeeping rather than measurements. */
export function isCoordinateLike(v: VariableInfo, info: DatasetInfo): boolean {
  if (v.dims.length === 1 && v.dims[0] === v.name) return true;
  if (axisRole(v)) return true;
  if (v.dtype === 'char' || v.dtype === 'string') return true;
  if (/_QC$|_qc$|^qc_|_ERROR$|_flag$|^crs$|^projection$/i.test(v.name)) return true;
  if (typeof v.attrs['cf_role'] === 'string' || typeof v.attrs['grid_mapping_name'] === 'string') return true;
  return info.variables.some((o) => typeof o.attrs['grid_mapping'] === 'string' && o.attrs['grid_mapping'] === v.name);
}
