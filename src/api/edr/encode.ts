/**
 * EDR output formats. Grid answers go through the grid registry (the same encoders as Coverages,
 * src/api/grid-answer.ts); sample answers (in-situ data, grid positions and trajectories) through
 * the samples' CoverageJSON and NetCDF writers and the shared tabular ones.
 */
import { samplesCoverageJson } from '../../encoders/edr/coverage-json.js';
import { samplesNetcdf } from '../../encoders/edr/netcdf.js';
import type { SamplesPayload } from '../../encoders/edr/payload.js';
import { samplesTable } from '../../encoders/edr/table.js';
import { GRID_ENCODERS } from '../../encoders/grid/registry.js';
import { arrowStream } from '../../encoders/table/arrow.js';
import { csvRows } from '../../encoders/table/csv.js';
import { geojsonFeatures } from '../../encoders/table/geojson.js';
import { prepareGridAnswer, type GridAnswer } from '../grid-answer.js';
import type { EdrAnswer, EdrGridAnswer } from './grid.js';

export const EDR_FORMATS = ['covjson', 'geojson', 'csv', 'netcdf', 'arrow'] as const;
export type EdrFormat = (typeof EDR_FORMATS)[number];

/** File name extension of downloads (the grid registry's). */
export function extensionOf(format: EdrFormat): string {
  return GRID_ENCODERS[format].extension;
}

/** A grid answer set up with the registry's encoder: checked (400) and sized, nothing read yet. */
export function edrGridAnswer(a: EdrGridAnswer, format: EdrFormat): GridAnswer {
  return prepareGridAnswer(a.collection, a.plan, format, { signal: a.signal, request: a.request });
}

export function encodeSamples(format: EdrFormat, p: SamplesPayload): AsyncGenerator<string | Uint8Array> {
  switch (format) {
    case 'covjson':
      return samplesCoverageJson(p);
    case 'geojson':
      return geojsonFeatures(samplesTable(p));
    case 'csv':
      return csvRows(samplesTable(p));
    case 'netcdf':
      return samplesNetcdf(p);
    case 'arrow':
      return arrowStream(samplesTable(p));
  }
}

/** The bytes of any EDR answer in a format (tests and benchmarks; the route adds the size limit). */
export function encodeEdr(format: EdrFormat, answer: EdrAnswer): AsyncGenerator<string | Uint8Array> {
  return answer.kind === 'grid' ? edrGridAnswer(answer, format).body() : encodeSamples(format, answer);
}
