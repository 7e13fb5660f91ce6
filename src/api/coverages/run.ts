/**
 * The coverage path without HTTP: a query on a grid collection → plan → encoder, sized before any
 * data is read. The route sends what this returns; benchmarks and tests can drive it directly,
 * e.g. `(await prepareCoverage(c, { bbox: '…' }, 'netcdf')).body()` on a generated file.
 */
import type { Logger } from 'pino';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { NotFound } from '../../core/errors.js';
import { planCoverage, type CoveragePlan } from '../../core/grid/plan.js';
import { readField, type OpenReader } from '../../core/grid/read.js';
import type { GridModel } from '../../core/grid/types.js';
import { checkCovJsonAxes, covJsonEstimate, encodeCovJson } from '../../encoders/grid/covjson.js';
import { encodeGeoTiff } from '../../encoders/grid/geotiff.js';
import { encodeNetcdf } from '../../encoders/grid/netcdf.js';
import type { GridPayload } from '../../encoders/grid/payload.js';
import { openReader } from '../../readers/registry.js';
import { COVERAGE_FORMATS, type CoverageFormat } from './formats.js';
import { parseCoverageQuery } from './query.js';

export type CoverageFormatName = 'covjson' | 'netcdf' | 'geotiff';

export interface PreparedCoverage {
  model: GridModel;
  plan: CoveragePlan;
  format: CoverageFormat;
  /** Size of the answer: exact for NetCDF and uncompressed GeoTIFF, an estimate otherwise. */
  bytes: number;
  exact: boolean;
  /** The query asked for the estimate only (dry-run=true). */
  dryRun: boolean;
  /** The answer's bytes (text pieces for CoverageJSON); nothing is read before it is iterated. */
  body(): AsyncGenerator<Uint8Array | string>;
}

export interface PrepareOptions {
  /** Aborting stops the reads in flight. */
  signal?: AbortSignal;
  /** The request as the history attribute should name it. */
  requestUrl?: string;
  log?: Pick<Logger, 'warn'>;
  /** How files are opened (default: the reader registry). */
  open?: OpenReader;
}

/** Validates the query against the collection's grid and sets up the encoder; 4xx errors name the parameter. */
export async function prepareCoverage(c: Collection, query: Record<string, unknown>, formatName: CoverageFormatName, opts: PrepareOptions = {}): Promise<PreparedCoverage> {
  if (c.kind !== 'grid') throw new NotFound(`Collection '${c.id}' holds ${c.kind} features, not a coverage: use /collections/${c.id}/items`);
  const model = await collectionGrid(c, opts.log);
  const { request, dryRun } = parseCoverageQuery(query, model);
  const plan = planCoverage(model, request);
  const format = COVERAGE_FORMATS.find((f) => f.name === formatName)!;
  const open = opts.open ?? openReader;
  const payload: GridPayload = {
    plan,
    read: (p, field) => readField(p, field, open, opts.signal ? { signal: opts.signal } : {}),
    collectionId: c.id,
    title: c.title,
    description: c.description,
    requestUrl: opts.requestUrl ?? `/collections/${c.id}/coverage`,
  };
  const base = { model, plan, format, dryRun };
  switch (formatName) {
    case 'netcdf': {
      const { size } = encodeNetcdf(payload);
      return { ...base, bytes: size, exact: true, body: () => encodeNetcdf(payload).body };
    }
    case 'geotiff': {
      // Validated here (a 400 before any read), written when iterated.
      const { size, exact } = encodeGeoTiff(payload);
      return { ...base, bytes: size, exact, body: () => encodeGeoTiff(payload).body };
    }
    case 'covjson':
      checkCovJsonAxes(plan);
      return { ...base, bytes: covJsonEstimate(plan), exact: false, body: () => encodeCovJson(payload) };
  }
}
