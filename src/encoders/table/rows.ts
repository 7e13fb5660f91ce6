/**
 * The tabular view every CSV, GeoJSON and Arrow answer is written from, whether its rows are grid
 * cells (src/encoders/grid/table.ts) or in-situ samples (src/encoders/edr/table.ts): one row per
 * cell or sample with its time, longitude/latitude, level and the value of each parameter.
 */

/** A column of values: a parameter with its label and units. */
export interface ParameterInfo {
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

export interface RowBatch {
  n: number;
  /** The feature id shared by the batch's rows (in-situ sets). */
  id?: string;
  /** Epoch milliseconds per row (NaN: unknown). */
  t: Float64Array;
  /** Longitude, latitude per row (CRS84). */
  x: Float64Array;
  y: Float64Array;
  z?: Float64Array;
  /** Decoded values per parameter (NaN: missing). */
  values: Record<string, Float64Array>;
}

export interface Table {
  collectionId: string;
  /** The request that made this (Arrow metadata). */
  request: string;
  parameters: ParameterInfo[];
  vertical?: VerticalAxis;
  /** Rows carry a feature id worth a column. */
  withId: boolean;
  /** Rows carry a level. */
  withZ: boolean;
  /** The rows, batch by batch, read as they are pulled. */
  batches(): AsyncIterable<RowBatch>;
}
