/**
 * The grid model: what a gridded collection is, independent of its file format and of any API.
 * Axes carry their coordinate values; fields are the variables defined on all the axes; the CRS
 * says how x/y relate to longitude and latitude. Built by detect.ts + model.ts, queried by
 * select.ts and plan.ts, read by read.ts.
 */
import type { AttrTypes, Attrs, DType } from '../../readers/types.js';

/** What an axis measures. `other` is any further dimension (a band, an ensemble member). */
export type GridAxisRole = 'x' | 'y' | 'z' | 't' | 'other';

export interface GridAxis {
  role: GridAxisRole;
  /** Dimension name in the files. */
  dim: string;
  /** Coordinate variable holding the values; absent for a dimension without one (indices serve). */
  variable?: string;
  /** Label used in metadata and CoverageJSON-independent outputs: Lon, Lat, x, y, time, z, or the dim name. */
  label: string;
  /** Every name a request may use for this axis (subset, scale-axes), compared case-insensitively. */
  names: string[];
  /**
   * Cell centres in axis units: degrees for longitude/latitude, CRS units (metres) for projected
   * x/y, epoch milliseconds for time, the coordinate variable's units for z and others (indices
   * when there is no coordinate variable).
   */
  values: Float64Array;
  /** Attributes of the coordinate variable (units, standard_name, positive, calendar…). */
  attrs: Attrs;
  /** Storage type of the coordinate variable. */
  dtype: DType;
  /** 1 ascending, -1 descending, 0 a single cell. */
  direction: 1 | -1 | 0;
  /** Spacing when the cells are evenly spaced (relative tolerance 1e-5), signed like the axis. */
  step?: number;
  /** True for a longitude axis: requests wrap around the globe (a -180..180 box on a 0..360 grid). */
  longitude?: boolean;
}

/** How native x/y relate to longitude/latitude. */
export interface Projection {
  /** Longitude/latitude in degrees to native x/y; NaN where the projection is undefined. */
  forward(lon: number, lat: number): [number, number];
  /** Native x/y to longitude/latitude in degrees. */
  inverse(x: number, y: number): [number, number];
  /** Points this projection maps from longitude/latitude that a box must include (e.g. the pole of a polar projection). */
  singularities?: Array<[lon: number, lat: number]>;
}

export interface GridCrs {
  /** OGC URI (http://www.opengis.net/def/crs/...), or undefined when the CRS is unknown. */
  uri?: string;
  /** Short human label: "CRS84", "EPSG:3411". */
  label: string;
  /** geographic: x is longitude, y latitude (degrees); projected: x/y in CRS units. */
  kind: 'geographic' | 'projected';
  /** Present when this server can transform longitude/latitude to native x/y and back. */
  projection?: Projection;
  /** The CF grid_mapping variable of the source, carried to NetCDF output. */
  gridMapping?: { variable: string; attrs: Attrs };
  /** Well-known text of the CRS when the source gives one. */
  wkt?: string;
}

/** A variable served as a coverage field (a "property" / "range field"). */
export interface GridField {
  name: string;
  dtype: DType;
  /** Dimension names, identical for every field of a grid (the axes' dims, in this order). */
  dims: string[];
  attrs: Attrs;
  /** Stored types of the numeric attributes, when the reader knows them (see VariableInfo). */
  attrTypes?: AttrTypes;
}

/** One file of the grid: a single file, or one step range of a folder aggregated along time. */
export interface GridFileSlot {
  /** Absolute path. */
  path: string;
  /** Path relative to the collection's data root (logs, errors). */
  rel: string;
  /** First index of this file along the time axis of the grid (0 without a time axis). */
  timeStart: number;
  /** Time steps in this file (1 without a time axis). */
  timeCount: number;
}

export interface GridModel {
  /** Axes in the fields' dimension order. */
  axes: GridAxis[];
  fields: GridField[];
  crs: GridCrs;
  /** Files in time order; one when the grid is a single file. */
  files: GridFileSlot[];
  /** Global attributes of the first file. */
  attrs: Attrs;
  /** Raw time coordinate with its CF units, when every file shares the units (exact NetCDF output). */
  rawTime?: { values: Float64Array; units: string; calendar?: string };
}

/** Native-CRS box [minX, minY, maxX, maxY]. */
export type NativeBox = [number, number, number, number];
