/**
 * What an EDR query produces, independent of the output format. Two shapes cover every query:
 * - samples: located observations grouped in sets (a profile's levels, a station's or a
 *   trajectory's observations, the cells nearest a position or along a path);
 * - grid: a rectangular window of a gridded variable, optionally masked (polygon, circle, corridor).
 * Both are streamed: nothing here holds more than one set or one block of time steps.
 */
import type { PropertyValue } from '../../catalog/feature.js';
import { isoString } from '../../cf/time.js';

export interface EdrParameter {
  name: string;
  /** Human label: long_name, else standard_name, else the name. */
  label: string;
  units?: string;
  standardName?: string;
}

/** The vertical coordinate: depth (m, positive down), pressure (dbar, down) or height (up). */
export interface VerticalAxis {
  name: string;
  units?: string;
  positive: 'up' | 'down';
}

export type SampleDomain = 'Point' | 'PointSeries' | 'VerticalProfile' | 'Trajectory';

/** One feature's (or one position's) selected rows; NaN marks a missing value or coordinate. */
export interface SampleSet {
  id: string;
  domainType: SampleDomain;
  /** Epoch milliseconds per row. */
  t: Float64Array;
  /** Longitude, latitude per row (CRS84). */
  x: Float64Array;
  y: Float64Array;
  /** Vertical coordinate per row, when the data have one. */
  z?: Float64Array;
  /** Values per selected parameter, one per row. */
  values: Record<string, Float64Array>;
  /** The feature's own properties (platform, cycle…), for GeoJSON. */
  properties?: Record<string, PropertyValue>;
}

interface PayloadBase {
  collectionId: string;
  title: string;
  parameters: EdrParameter[];
  vertical?: VerticalAxis;
  /** A line for NetCDF `history` and CSV/Arrow metadata: the request that made this. */
  request: string;
}

export interface SamplesPayload extends PayloadBase {
  kind: 'samples';
  /** Domain type of the sets (CoverageCollection.domainType). */
  domainType: SampleDomain;
  /** Exactly one set is expected (a position on a grid): CoverageJSON answers a Coverage, not a collection. */
  single: boolean;
  /** Whether sets come from features with ids worth a column (in-situ data). */
  hasIds: boolean;
  sets: () => AsyncIterable<SampleSet>;
}

/** Values of consecutive time steps of a grid window: per parameter, [nt, nz, ny, nx] row-major. */
export interface GridBlock {
  /** Index of the block's first time step within the payload's `t`. */
  tStart: number;
  tCount: number;
  values: Record<string, Float64Array>;
}

export interface GridPayload extends PayloadBase {
  kind: 'grid';
  /** Cell centres of the window, in output order. */
  x: Float64Array;
  y: Float64Array;
  /** Epoch ms of each time step, when the grid has time. */
  t?: Float64Array;
  z?: Float64Array;
  /** ny × nx flags, 1 = selected; absent = every cell (a box). */
  mask?: Uint8Array;
  /** Blocks in time order for the given parameters (every parameter by default). */
  blocks: (parameters?: string[]) => AsyncIterable<GridBlock>;
}

export type EdrPayload = SamplesPayload | GridPayload;

/** An encoder turns a payload into bytes, lazily: the HTTP layer pipes them with backpressure. */
export type EdrEncoder = (payload: EdrPayload) => AsyncIterable<Uint8Array | string>;

export function gridSizes(p: GridPayload): { nt: number; nz: number; ny: number; nx: number } {
  return { nt: p.t?.length ?? 1, nz: p.z?.length ?? 1, ny: p.y.length, nx: p.x.length };
}

/** ISO 8601 with a Z, or null when unknown. */
export function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? isoString(ms) : null;
}

/**
 * A number as JSON text: NaN → null; 9 significant digits, which is every digit a float32 holds
 * (most stored data) and drops the binary noise of decoding (-1502 × 0.0001 = -0.15020000000000001).
 */
export function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(9))) : 'null';
}

/** The same rounding for CSV cells and Arrow-free text: empty when missing. */
export function textNumber(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(9))) : '';
}
