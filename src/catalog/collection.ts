import type { GridSummary } from '../core/grid/summary.js';
import type { CollectionKind, ParameterInfo } from './extract/types.js';
import type { FeatureStore } from './feature-store.js';

/** One dataset served by every API: a file, a folder of homogeneous files, or a configured set. */
export interface Collection {
  id: string;
  title: string;
  description: string;
  keywords: string[];
  license?: string;
  attribution?: string;
  providers?: Array<{ name: string; url?: string; roles?: string[] }>;
  kind: CollectionKind;
  /** Absolute, real path of the data root the files belong to. */
  root: string;
  /**
   * Files relative to `root`: all of them for grids (a time aggregation reads them), the first few
   * for feature collections (each feature names its own file; `fileCount` says how many there are).
   */
  files: string[];
  fileCount: number;
  /** Files that will belong to this collection are still being read: what it lists may grow. */
  indexing?: boolean;
  /** Storage formats of the files (to start the HDF5 workers only when some collection needs them). */
  formats: Array<'netcdf3' | 'hdf5' | 'geotiff' | 'zarr'>;
  /** Global attributes of the first file (ACDD subset). */
  attrs: Record<string, string>;
  parameters: ParameterInfo[];
  /** CRS84 extent: [west, south, east, north]. */
  bbox?: [number, number, number, number];
  /** Epoch ms [start, end]. */
  timeSpan?: [number, number];
  /** For profile, trajectory and time-series collections. */
  features?: FeatureStore;
  /** For grid collections: each file's grid summary, in the order of `files`. */
  grid?: Array<{ file: string; summary: GridSummary }>;
}

export function isFeatureCollection(c: Collection): c is Collection & { features: FeatureStore } {
  return c.kind !== 'grid' && c.features !== undefined;
}
