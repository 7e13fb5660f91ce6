import { GRID_ENCODERS } from '../../encoders/grid/registry.js';
import type { FormatName } from '../negotiate.js';

export type CoverageFormatName = 'covjson' | 'netcdf' | 'geotiff';

export interface CoverageFormat {
  name: CoverageFormatName;
  /** The `f` value links carry. */
  f: string;
  mediaType: string;
  title: string;
}

/** Output formats of /coverage (encoders of the grid registry), the first being the default when neither f nor Accept decides. */
export const COVERAGE_FORMATS: CoverageFormat[] = (
  [
    ['covjson', 'covjson'],
    ['netcdf', 'netcdf'],
    ['geotiff', 'tif'],
  ] as const
).map(([name, f]) => ({ name, f, mediaType: GRID_ENCODERS[name].mediaType, title: GRID_ENCODERS[name].title }));

export const OFFERED: FormatName[] = COVERAGE_FORMATS.map((f) => f.name);
