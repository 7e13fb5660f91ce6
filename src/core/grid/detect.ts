/**
 * Which variables of a file form a grid, and what each of their dimensions is: found from CF
 * (units degrees_east/north, standard_name, axis, coordinates, grid_mapping) and from the names
 * data centres really use (COADSX/COADSY/TIME, xgrid/ygrid on x/y, time on tdim). Metadata only:
 * no values are read here.
 */
import { axisRole } from '../../cf/axes.js';
import { attrString } from '../../cf/read.js';
import type { DatasetInfo, VariableInfo } from '../../readers/types.js';
import { crsFromEpsg, crsFromGridMapping, geographicCrs } from './crs.js';
import type { GridAxisRole, GridCrs, GridField } from './types.js';

/** What a GeoTIFF reader knows about its CRS (its `georef()`), when the file is one. */
export interface GeorefHint {
  epsg?: number;
  crsWkt?: string;
  geographic: boolean;
  georeferenced?: boolean;
}

export interface GridLayoutAxis {
  role: GridAxisRole;
  dim: string;
  size: number;
  /** The 1-D variable holding the dimension's coordinates, if any. */
  coordinate?: VariableInfo;
  label: string;
  names: string[];
  longitude?: boolean;
}

export interface GridLayout {
  /** In the fields' dimension order. */
  axes: GridLayoutAxis[];
  fields: GridField[];
  crs: GridCrs;
  warnings: string[];
}

const NON_NUMERIC = new Set(['char', 'string']);
const PROJECTED_X = /^(projection_x_coordinate|grid_longitude|projection_x_angular_coordinate)$/;
const PROJECTED_Y = /^(projection_y_coordinate|grid_latitude|projection_y_angular_coordinate)$/;
const METRES = /^(m|meters?|metres?|km|kilometers?|kilometres?)$/i;

type Horizontal = 'lon' | 'lat' | 'px' | 'py';

/** Horizontal or time/z role of a 1-D coordinate variable. */
function coordinateRole(v: VariableInfo): Horizontal | 't' | 'z' | undefined {
  const role = axisRole(v);
  if (role === 'lon') return 'lon';
  if (role === 'lat') return 'lat';
  if (role === 'time') return 't';
  if (role === 'z') return 'z';
  const std = attrString(v.attrs, 'standard_name') ?? '';
  const axis = (attrString(v.attrs, 'axis') ?? '').toUpperCase();
  const units = attrString(v.attrs, 'units') ?? '';
  if (PROJECTED_X.test(std) || axis === 'X' || (/^(x|xc|easting)$/i.test(v.name) && METRES.test(units))) return 'px';
  if (PROJECTED_Y.test(std) || axis === 'Y' || (/^(y|yc|northing)$/i.test(v.name) && METRES.test(units))) return 'py';
  return undefined;
}

/** The 1-D variable giving coordinates along `dim`: the coordinate variable, one the field names, or any 1-D variable with an axis role. */
function coordinateFor(info: DatasetInfo, dim: string, field: VariableInfo): VariableInfo | undefined {
  const oneD = info.variables.filter((v) => v.dims.length === 1 && v.dims[0] === dim && !NON_NUMERIC.has(v.dtype));
  const own = oneD.find((v) => v.name === dim);
  if (own) return own;
  const listed = (attrString(field.attrs, 'coordinates') ?? '').split(/\s+/).filter(Boolean);
  const named = oneD.find((v) => listed.includes(v.name));
  if (named) return named;
  return oneD.find((v) => coordinateRole(v) !== undefined);
}

function unique(names: Array<string | undefined>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    if (!n || seen.has(n.toLowerCase())) continue;
    seen.add(n.toLowerCase());
    out.push(n);
  }
  return out;
}

interface Candidate {
  field: VariableInfo;
  roles: Array<Horizontal | 't' | 'z' | undefined>;
  coords: Array<VariableInfo | undefined>;
}

function classify(info: DatasetInfo, v: VariableInfo): Candidate | undefined {
  if (NON_NUMERIC.has(v.dtype) || v.dims.length < 2) return undefined;
  if (typeof v.attrs['grid_mapping_name'] === 'string' || v.attrs['cf_role'] !== undefined) return undefined;
  // 2-D longitude/latitude/time arrays are auxiliary coordinates, not data.
  const ownRole = axisRole(v);
  if (ownRole === 'lon' || ownRole === 'lat' || ownRole === 'time') return undefined;
  const coords = v.dims.map((d) => coordinateFor(info, d, v));
  const roles = coords.map((c) => (c ? coordinateRole(c) : undefined));
  if (coords.some((c) => c?.name === v.name)) return undefined;
  const count = (r: string) => roles.filter((x) => x === r).length;
  const geographic = count('lon') === 1 && count('lat') === 1;
  const projected = count('px') === 1 && count('py') === 1;
  if (!geographic && !projected) return undefined;
  if (count('t') > 1 || count('z') > 1) return undefined;
  return { field: v, roles, coords };
}

/** Labels and accepted names per role (the first name is the label). */
function namesFor(
  role: GridAxisRole,
  geographic: boolean,
  dim: string,
  variable?: string,
): { label: string; names: string[] } {
  const base = ((): string[] => {
    switch (role) {
      case 'x':
        return geographic ? ['Lon', 'Long', 'Longitude', 'x', 'E'] : ['x', 'E', 'Easting'];
      case 'y':
        return geographic ? ['Lat', 'Latitude', 'y', 'N'] : ['y', 'N', 'Northing'];
      case 't':
        return ['time', 't', 'date'];
      case 'z':
        return ['z', 'h', 'depth', 'height', 'elevation', 'level'];
      default:
        return [dim];
    }
  })();
  const names = unique([...base, dim, variable]);
  return { label: names[0]!, names };
}

/**
 * The grid of a file: the variables sharing the most common set of dimensions that includes one
 * x and one y axis (most dimensions first), their axes and the CRS. `reason` when there is none.
 */
export function detectGrid(info: DatasetInfo, georef?: GeorefHint): GridLayout | { reason: string } {
  const candidates = info.variables.map((v) => classify(info, v)).filter((c): c is Candidate => c !== undefined);
  if (candidates.length === 0) {
    const phony = Object.keys(info.dims).some((d) => d.startsWith('phony_dim_'));
    return {
      reason: phony
        ? 'plain HDF5 without netCDF dimension scales or 1-D x/y coordinates (e.g. a BAG, georeferenced only by its XML metadata): not served as a grid'
        : 'no variable has 1-D longitude/latitude or projected x/y coordinates',
    };
  }
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = c.field.dims.join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const chosen = [...groups.values()].sort(
    (a, b) => b[0]!.field.dims.length - a[0]!.field.dims.length || b.length - a.length,
  )[0]!;
  const first = chosen[0]!;
  const geographic = first.roles.includes('lon');
  const warnings: string[] = [];
  const axes: GridLayoutAxis[] = first.field.dims.map((dim, i) => {
    const r = first.roles[i];
    const role: GridAxisRole =
      r === 'lon' || r === 'px' ? 'x' : r === 'lat' || r === 'py' ? 'y' : r === 't' ? 't' : r === 'z' ? 'z' : 'other';
    const coordinate = first.coords[i];
    const axis: GridLayoutAxis = {
      role,
      dim,
      size: info.dims[dim] ?? first.field.shape[i]!,
      ...namesFor(role, geographic, dim, coordinate?.name),
    };
    if (coordinate) axis.coordinate = coordinate;
    if (r === 'lon') axis.longitude = true;
    return axis;
  });
  let crs: GridCrs;
  const mappingName = attrString(first.field.attrs, 'grid_mapping')?.split(/[\s:]/)[0];
  const mapping = mappingName ? info.variables.find((v) => v.name === mappingName) : undefined;
  if (mapping) {
    const detected = crsFromGridMapping(mapping.name, mapping.attrs);
    warnings.push(...detected.warnings);
    crs = detected.crs;
    if (geographic && crs.kind === 'projected') {
      // 1-D longitude/latitude coordinates make the grid geographic whatever the mapping says.
      crs = { ...geographicCrs(), gridMapping: { variable: mapping.name, attrs: mapping.attrs } };
    }
  } else if (georef?.epsg !== undefined) {
    crs = crsFromEpsg(georef.epsg, georef.crsWkt);
  } else if (geographic) {
    crs = geographicCrs();
  } else {
    crs = { label: 'unknown projected CRS', kind: 'projected' };
    warnings.push(`projected x/y coordinates without a grid_mapping or EPSG code: served in native coordinates only`);
  }
  if (crs.kind === 'geographic' && !geographic) {
    // A geographic EPSG code on x/y axes (GeoTIFF in EPSG:4326 with generic axis names).
    for (const a of axes) {
      if (a.role === 'x') {
        Object.assign(a, namesFor('x', true, a.dim, a.coordinate?.name));
        a.longitude = true;
      }
      if (a.role === 'y') Object.assign(a, namesFor('y', true, a.dim, a.coordinate?.name));
    }
  }
  const fields: GridField[] = chosen.map((c) => ({
    name: c.field.name,
    dtype: c.field.dtype,
    dims: [...c.field.dims],
    attrs: c.field.attrs,
    ...(c.field.attrTypes ? { attrTypes: c.field.attrTypes } : {}),
  }));
  return { axes, fields, crs, warnings };
}
