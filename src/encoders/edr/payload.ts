/**
 * What an EDR query on in-situ data (and a grid position or trajectory: the cells nearest given
 * points) produces, independent of the output format: located observations grouped in sets (a
 * profile's levels, a station's or a trajectory's observations, the cells nearest a position or
 * along a path). Grid answers (cube, area, radius, corridor) are a GridPayload
 * (src/encoders/grid/payload.ts) written by the grid encoders instead.
 * Sets are streamed: nothing here holds more than one set.
 */
import type { PropertyValue } from '../../catalog/feature.js';
import type { ParameterInfo, VerticalAxis } from '../table/rows.js';

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

export interface SamplesPayload {
  kind: 'samples';
  collectionId: string;
  title: string;
  parameters: ParameterInfo[];
  vertical?: VerticalAxis;
  /** A line for NetCDF `history` and CSV/Arrow metadata: the request that made this. */
  request: string;
  /** Domain type of the sets (CoverageCollection.domainType). */
  domainType: SampleDomain;
  /** Exactly one set is expected (a position on a grid): CoverageJSON answers a Coverage, not a collection. */
  single: boolean;
  /** Whether sets come from features with ids worth a column (in-situ data). */
  hasIds: boolean;
  sets: () => AsyncIterable<SampleSet>;
}
