import { parameterInfo } from './common.js';
import { gridFromReader } from '../../core/grid/model.js';
import { summarizeGrid, summaryTimeSpan } from '../../core/grid/summary.js';
import { metadataTime } from '../../cf/metadata-time.js';
import type { ExtractContext, Extraction, ParameterInfo } from './types.js';

/**
 * Gridded files (NetCDF, HDF5, GeoTIFF): no features; the grid's fields as parameters, its extent
 * and time span, and the grid summary the Coverages API describes and aggregates folders with.
 * The reason when the file holds no grid this server can serve.
 */
export async function extractGrid(ctx: ExtractContext): Promise<Extraction | { reason: string }> {
  const built = await gridFromReader(ctx.data.reader, { path: ctx.relPath, rel: ctx.relPath });
  if ('reason' in built) return built;
  const summary = summarizeGrid(built.model);
  const parameters: ParameterInfo[] = built.model.fields.map(parameterInfo);
  const timeSpan = summaryTimeSpan(summary);
  // Without a time axis, the time the file's metadata names (STAC items need one).
  const dataTime = summary.time?.values.length ? undefined : metadataTime(ctx.info.attrs);
  return {
    kind: 'grid',
    features: [],
    parameters,
    ...(summary.bbox ? { bbox: summary.bbox } : {}),
    ...(timeSpan ? { timeSpan } : {}),
    ...(dataTime ? { dataTime } : {}),
    grid: summary,
  };
}
