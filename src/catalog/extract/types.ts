import type { DecodedReader } from '../../cf/read.js';
import type { GridSummary } from '../../core/grid/summary.js';
import type { MetadataTime } from '../../cf/metadata-time.js';
import type { DatasetInfo } from '../../readers/types.js';
import type { FeatureRecord } from '../feature.js';

/** What a file holds, decided once at discovery (DESIGN.md §2). */
export type CollectionKind = 'profile' | 'trajectory' | 'timeSeries' | 'grid';

export interface ParameterInfo {
  name: string;
  units?: string;
  standardName?: string;
  longName?: string;
}

export interface ExtractContext {
  /** Path relative to the data root, used in feature sources and ids. */
  relPath: string;
  info: DatasetInfo;
  data: DecodedReader;
}

export interface Extraction {
  kind: CollectionKind;
  features: FeatureRecord[];
  parameters: ParameterInfo[];
  /** For grids (no features): the CRS84 box and time span found from coordinates. */
  bbox?: [number, number, number, number];
  timeSpan?: [number, number];
  /** For grids without a time axis: the time their metadata names (ACDD, GDAL, TIFF tags). */
  dataTime?: MetadataTime;
  /** For grids: axes, CRS and time steps (see src/core/grid/summary.ts). */
  grid?: GridSummary;
}
