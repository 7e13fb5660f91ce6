import type { FormatName } from '../negotiate.js';

export interface CoverageFormat {
  name: FormatName;
  /** The `f` value links carry. */
  f: string;
  mediaType: string;
  title: string;
}

/** Output formats of /coverage, the first being the default when neither f nor Accept decides. */
export const COVERAGE_FORMATS: CoverageFormat[] = [
  { name: 'covjson', f: 'covjson', mediaType: 'application/prs.coverage+json', title: 'CoverageJSON' },
  { name: 'netcdf', f: 'netcdf', mediaType: 'application/x-netcdf', title: 'NetCDF (CF-1.8, NetCDF-3)' },
  { name: 'geotiff', f: 'tif', mediaType: 'image/tiff; application=geotiff', title: 'GeoTIFF' },
];

export const OFFERED: FormatName[] = COVERAGE_FORMATS.map((f) => f.name);
