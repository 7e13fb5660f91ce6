/**
 * What an EDR query produces, independent of the output format. Two shapes cover every query:
 * - samples: located observations grouped in sets (a profile's levels, a station's or a
 *   trajectory's observations, the cells nearest a position or along a path);
 * - grid: a rectangular window of a gridded variable, optionally masked (polygon, circle, corridor).
 * Both are streamed: nothing here holds more than one set or one block of time steps.
 */
import type { PropertyValue } from '../../catalog/feature.js';
import { isoString } from '../../cf/time.js';
import { numberText } from '../../core/number-text.js';

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

/** Axes of a grid payload, in the order of its values (the source's dimension order). */
export type GridDim = 't' | 'z' | 'y' | 'x';

/** Consecutive values of a grid window, per parameter, starting at flat index `start` (row-major over `order`). */
export interface GridBlock {
  start: number;
  length: number;
  values: Record<string, Float64Array>;
}

export interface GridPayload extends PayloadBase {
  kind: 'grid';
  /** Layout of the values: the window's axes, slowest first (e.g. t, y, x). */
  order: GridDim[];
  /** Cell centres of the window, in output order. */
  x: Float64Array;
  y: Float64Array;
  /** Epoch ms of each time step, when the grid has time. */
  t?: Float64Array;
  z?: Float64Array;
  /** ny × nx flags (row-major, y then x), 1 = selected; absent = every cell (a box). */
  mask?: Uint8Array;
  /**
   * Set when x/y are a projected CRS's coordinates (metres), not longitude/latitude: CoverageJSON and
   * NetCDF keep the native axes with this CRS; the tabular outputs give each cell's longitude/latitude.
   */
  projected?: { uri?: string; label: string; toLonLat?: (x: number, y: number) => [number, number] };
  /** Values in layout order for the given parameters (every parameter by default), aligned across parameters. */
  blocks: (parameters?: string[]) => AsyncIterable<GridBlock>;
}

export type EdrPayload = SamplesPayload | GridPayload;

/** An encoder turns a payload into bytes, lazily: the HTTP layer pipes them with backpressure. */
export type EdrEncoder = (payload: EdrPayload) => AsyncIterable<Uint8Array | string>;

export function gridSizes(p: GridPayload): { nt: number; nz: number; ny: number; nx: number } {
  return { nt: p.t?.length ?? 1, nz: p.z?.length ?? 1, ny: p.y.length, nx: p.x.length };
}

/** Size of one axis of a grid payload. */
export function dimSize(p: GridPayload, d: GridDim): number {
  return d === 't' ? p.t?.length ?? 1 : d === 'z' ? p.z?.length ?? 1 : d === 'y' ? p.y.length : p.x.length;
}

/**
 * Per flat index of the layout: the index along each axis. Returned as a function of the flat
 * index so encoders walk any layout (t,y,x; t,z,y,x; y,x; even x,y) the same way.
 */
export function gridIndexer(p: GridPayload): (k: number) => { t: number; z: number; y: number; x: number } {
  const sizes = p.order.map((d) => dimSize(p, d));
  const strides = new Array<number>(sizes.length);
  let acc = 1;
  for (let i = sizes.length - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= sizes[i]!;
  }
  return (k) => {
    const out = { t: 0, z: 0, y: 0, x: 0 };
    for (let i = 0; i < sizes.length; i++) out[p.order[i]!] = Math.floor(k / strides[i]!) % sizes[i]!;
    return out;
  };
}

/** ISO 8601 with a Z, or null when unknown. */
export function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? isoString(ms) : null;
}


/** A number as JSON text: NaN → null. */
export function jsonNumber(v: number): string {
  return Number.isFinite(v) ? numberText(v) : 'null';
}

/** The same text for CSV cells: empty when missing. */
export function textNumber(v: number): string {
  return Number.isFinite(v) ? numberText(v) : '';
}
