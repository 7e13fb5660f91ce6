import { extractArgoProfiles, extractArgoTrajectory, isArgoMeta, isArgoProfile, isArgoTrajectory } from './argo.js';
import { extractTimeSeries, extractTrajectory, featureType } from './dsg.js';
import { extractGrid } from './grid.js';
import type { ExtractContext, Extraction } from './types.js';

export type ClassifyResult = Extraction | { skip: string };

/**
 * Decide what a file is and index it. Argo conventions first (their files carry no usable
 * featureType), then CF featureType, then the shape of the coordinates.
 */
export async function extract(ctx: ExtractContext): Promise<ClassifyResult> {
  if (isArgoMeta(ctx)) return { skip: 'Argo meta-data file (float metadata, not a collection)' };
  if (isArgoTrajectory(ctx)) return extractArgoTrajectory(ctx);
  if (isArgoProfile(ctx)) return extractArgoProfiles(ctx);
  const ft = featureType(ctx);
  if (ft === 'trajectory') {
    const r = await extractTrajectory(ctx);
    if (r) return r;
  }
  if (ft === 'timeseries' || ft === 'station' || 'station' in ctx.info.dims) {
    const r = await extractTimeSeries(ctx);
    if (r) return r;
  }
  const grid = await extractGrid(ctx);
  if (!('reason' in grid)) return grid;
  return {
    skip: `no Argo, CF discrete-sampling or gridded structure recognised (featureType '${ft || 'none'}'; grid: ${grid.reason})`,
  };
}
