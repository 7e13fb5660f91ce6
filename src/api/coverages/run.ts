/**
 * The coverage path without HTTP: a query on a grid collection → plan → the grid answer pipeline
 * (src/api/grid-answer.ts), sized before any data is read. The route sends what this returns;
 * benchmarks and tests can drive it directly, e.g.
 * `(await prepareCoverage(c, { bbox: '…' }, 'netcdf')).body()` on a generated file.
 */
import type { Logger } from 'pino';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { NotFound } from '../../core/errors.js';
import { planGrid } from '../../core/grid/plan.js';
import type { OpenReader } from '../../core/grid/read.js';
import type { GridModel } from '../../core/grid/types.js';
import { prepareGridAnswer, type GridAnswer } from '../grid-answer.js';
import { COVERAGE_FORMATS, type CoverageFormat, type CoverageFormatName } from './formats.js';
import { parseCoverageQuery } from './query.js';

export interface PreparedCoverage extends GridAnswer {
  model: GridModel;
  format: CoverageFormat;
  /** The query asked for the estimate only (dry-run=true). */
  dryRun: boolean;
}

export interface PrepareOptions {
  /** Aborting stops the reads in flight. */
  signal?: AbortSignal;
  /** The request URL as the history attribute should name it. */
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
  const plan = planGrid(model, request);
  const format = COVERAGE_FORMATS.find((f) => f.name === formatName)!;
  const answer = prepareGridAnswer(c, plan, formatName, {
    signal: opts.signal,
    request: `GET ${opts.requestUrl ?? `/collections/${c.id}/coverage`}`,
    ...(opts.open ? { open: opts.open } : {}),
  });
  return { ...answer, model, format, dryRun };
}
