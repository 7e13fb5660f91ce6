import { arrowStream } from '../../encoders/edr/arrow.js';
import { gridCoverageJson, samplesCoverageJson } from '../../encoders/edr/coverage-json.js';
import { csvRows } from '../../encoders/edr/csv.js';
import { geojsonFeatures } from '../../encoders/edr/geojson.js';
import { netcdf } from '../../encoders/edr/netcdf.js';
import type { EdrPayload } from '../../encoders/edr/payload.js';

export const EDR_FORMATS = ['covjson', 'geojson', 'csv', 'netcdf', 'arrow'] as const;
export type EdrFormat = (typeof EDR_FORMATS)[number];

/** File name extension of downloads (NetCDF, Arrow, CSV are saved rather than shown). */
export const EXTENSIONS: Record<EdrFormat, string> = { covjson: 'covjson', geojson: 'geojson', csv: 'csv', netcdf: 'nc', arrow: 'arrows' };

export function encodeEdr(format: EdrFormat, p: EdrPayload): AsyncIterable<string | Uint8Array> {
  switch (format) {
    case 'covjson':
      return p.kind === 'grid' ? gridCoverageJson(p) : samplesCoverageJson(p);
    case 'geojson':
      return geojsonFeatures(p);
    case 'csv':
      return csvRows(p);
    case 'netcdf':
      return netcdf(p);
    case 'arrow':
      return arrowStream(p);
  }
}
