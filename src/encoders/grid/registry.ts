/**
 * The one registry of grid output formats. Every grid answer (Coverages, EDR cube, area, radius,
 * corridor, a position over several times and levels) is written by one of these from a
 * GridPayload: `prepare` checks the plan fits the format (a 400 before any read) and sizes the
 * answer (for the size limit and Content-Length); `body` streams it, reading as it is pulled.
 */
import { covJsonEstimate, checkCovJsonAxes, encodeCovJson } from './covjson.js';
import { encodeGeoTiff } from './geotiff.js';
import { encodeNetcdf } from './netcdf.js';
import type { GridPayload } from './payload.js';
import { checkTable, gridTable, tableRows } from './table.js';
import { arrowStream } from '../table/arrow.js';
import { csvRows } from '../table/csv.js';
import { geojsonFeatures } from '../table/geojson.js';

export type GridFormat = 'covjson' | 'netcdf' | 'geotiff' | 'csv' | 'geojson' | 'arrow';

export interface EncodedGrid {
  /** Size of the answer: exact (Content-Length) or an estimate, per `exact`. */
  bytes: number;
  exact: boolean;
  /** The answer's bytes (text pieces for the text formats); nothing is read before it is iterated. */
  body(): AsyncGenerator<Uint8Array | string>;
}

export interface GridEncoder {
  format: GridFormat;
  mediaType: string;
  /** Human name, in size-limit messages. */
  title: string;
  /** File name extension of downloads. */
  extension: string;
  /** Pieces pulled before the status line: a read failure in them is still an error answer. */
  prime: number;
  prepare(payload: GridPayload): EncodedGrid;
}

/** Rough characters per row of the tabular outputs: time, position, level, then each value. */
function rowBytes(payload: GridPayload, fixed: number, perValue: number): number {
  return Math.ceil(tableRows(payload.plan) * (fixed + payload.plan.fields.length * perValue)) + 1024;
}

export const GRID_ENCODERS: Record<GridFormat, GridEncoder> = {
  covjson: {
    format: 'covjson',
    mediaType: 'application/vnd.cov+json',
    title: 'CoverageJSON',
    extension: 'covjson',
    prime: 3,
    prepare: (payload) => {
      checkCovJsonAxes(payload.plan);
      return { bytes: covJsonEstimate(payload.plan), exact: false, body: () => encodeCovJson(payload) };
    },
  },
  netcdf: {
    format: 'netcdf',
    mediaType: 'application/x-netcdf',
    title: 'NetCDF (CF-1.8, NetCDF-3)',
    extension: 'nc',
    prime: 1,
    prepare: (payload) => {
      // Planned once: the size and the body come from the same file definition.
      const encoded = encodeNetcdf(payload);
      let body: AsyncGenerator<Uint8Array> | undefined = encoded.body;
      return {
        bytes: encoded.size,
        exact: true,
        body: () => {
          const b = body ?? encodeNetcdf(payload).body;
          body = undefined;
          return b;
        },
      };
    },
  },
  geotiff: {
    format: 'geotiff',
    mediaType: 'image/tiff; application=geotiff',
    title: 'GeoTIFF',
    extension: 'tif',
    prime: 1,
    prepare: (payload) => {
      const { size, exact } = encodeGeoTiff(payload);
      return { bytes: size, exact, body: () => encodeGeoTiff(payload).body };
    },
  },
  csv: {
    format: 'csv',
    mediaType: 'text/csv; charset=utf-8',
    title: 'CSV',
    extension: 'csv',
    prime: 2,
    prepare: (payload) => {
      checkTable(payload.plan);
      return { bytes: rowBytes(payload, 50, 10), exact: false, body: () => csvRows(gridTable(payload)) };
    },
  },
  geojson: {
    format: 'geojson',
    mediaType: 'application/geo+json',
    title: 'GeoJSON',
    extension: 'geojson',
    prime: 2,
    prepare: (payload) => {
      checkTable(payload.plan);
      return { bytes: rowBytes(payload, 110, 16), exact: false, body: () => geojsonFeatures(gridTable(payload)) };
    },
  },
  arrow: {
    format: 'arrow',
    mediaType: 'application/vnd.apache.arrow.stream',
    title: 'Apache Arrow IPC stream',
    extension: 'arrows',
    prime: 1,
    prepare: (payload) => {
      checkTable(payload.plan);
      return { bytes: rowBytes(payload, 32, 8), exact: false, body: () => arrowStream(gridTable(payload)) };
    },
  },
};
