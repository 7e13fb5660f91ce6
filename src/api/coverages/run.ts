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
import { findAxis, planGrid, type GridRequest } from '../../core/grid/plan.js';
import type { OpenReader } from '../../core/grid/read.js';
import type { GridModel } from '../../core/grid/types.js';
import { prepareGridAnswer, type GridAnswer } from '../grid-answer.js';
import { defaultTime } from './describe.js';
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

/**
 * A GeoTIFF holds one band per field: a request that does not choose time (no datetime, no
 * subset on time) gets the default step (the latest, see defaultTime) instead of one band per
 * step. Clients that cannot choose time (GDAL, QGIS) read a coherent raster; datetime=../..
 * still asks for every step as bands.
 */
function withDefaultTime(request: GridRequest, model: GridModel): void {
  const t = model.axes.find((a) => a.role === 't');
  const at = defaultTime(model);
  if (!t || at === undefined || t.values.length < 2 || request.datetime) return;
  if (request.subsets?.some((s) => findAxis(model, s.axis) === t)) return;
  request.datetime = { start: at, end: at };
}

/** Validates the query against the collection's grid and sets up the encoder; 4xx errors name the parameter. */
export async function prepareCoverage(
  c: Collection,
  query: Record<string, unknown>,
  formatName: CoverageFormatName,
  opts: PrepareOptions = {},
): Promise<PreparedCoverage> {
  if (c.kind !== 'grid')
    throw new NotFound(`Collection '${c.id}' holds ${c.kind} features, not a coverage: use /collections/${c.id}/items`);
  const model = await collectionGrid(c, opts.log);
  const { request, dryRun } = parseCoverageQuery(query, model);
  if (formatName === 'geotiff') withDefaultTime(request, model);
  const plan = planGrid(model, request);
  const format = COVERAGE_FORMATS.find((f) => f.name === formatName)!;
  const answer = prepareGridAnswer(c, plan, formatName, {
    signal: opts.signal,
    request: `GET ${opts.requestUrl ?? `/collections/${c.id}/coverage`}`,
    ...(opts.open ? { open: opts.open } : {}),
  });
  return { ...answer, model, format, dryRun };
}
