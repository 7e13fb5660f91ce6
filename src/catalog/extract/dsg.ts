import { findAxis, isCoordinateLike } from '../../cf/axes.js';
import { attrString } from '../../cf/read.js';
import type { VariableInfo } from '../../readers/types.js';
import type { FeatureRecord, PropertyValue } from '../feature.js';
import { round, safeId } from '../feature.js';
import { finiteRange, isoOrNull, parameterInfo, wrapLon } from './common.js';
import type { ExtractContext, Extraction } from './types.js';

/** Trajectories drawn with at most this many vertices: enough for maps and bbox tests, small in JSON. */
const MAX_VERTICES = 2000;

export function featureType(ctx: ExtractContext): string {
  const ft = attrString(ctx.info.attrs, 'featureType') ?? attrString(ctx.info.attrs, 'cdm_data_type') ?? '';
  return ft.toLowerCase();
}

/** The variable with `cf_role` (timeseries_id, trajectory_id, profile_id), if any. */
function roleVariable(ctx: ExtractContext, role: string): VariableInfo | undefined {
  return ctx.info.variables.find((v) => v.attrs['cf_role'] === role);
}

function measured(ctx: ExtractContext, dims: (v: VariableInfo) => boolean): VariableInfo[] {
  return ctx.info.variables.filter(
    (v) => dims(v) && !isCoordinateLike(v, ctx.info) && v.dtype !== 'char' && v.dtype !== 'string',
  );
}

function commonProperties(ctx: ExtractContext): Record<string, PropertyValue> {
  const a = ctx.info.attrs;
  return {
    platform_type: attrString(a, 'platform_type') ?? attrString(a, 'inst_type') ?? null,
    project_name: attrString(a, 'project') ?? attrString(a, 'cruise_name') ?? null,
    institution: attrString(a, 'institution') ?? null,
  };
}

/** A glider or drifter file: one trajectory along the time dimension (CF featureType=trajectory, single trajectory). */
export async function extractTrajectory(ctx: ExtractContext): Promise<Extraction | undefined> {
  const lat = findAxis(ctx.info, 'lat');
  const lon = findAxis(ctx.info, 'lon');
  const time = findAxis(ctx.info, 'time');
  if (!lat || !lon || !time || lat.dims.length !== 1) return undefined;
  const obsDim = lat.dims[0]!;
  const [ys, xs, ts] = await Promise.all([
    ctx.data.numbers(lat.name),
    ctx.data.numbers(lon.name),
    ctx.data.times(time.name),
  ]);
  const valid: number[] = [];
  for (let i = 0; i < ys.length; i++) if (Number.isFinite(ys[i]) && Number.isFinite(xs[i])) valid.push(i);
  const stride = Math.max(1, Math.ceil(valid.length / MAX_VERTICES));
  const coords: Array<[number, number]> = [];
  for (let k = 0; k < valid.length; k += stride) {
    const i = valid[k]!;
    coords.push([round(wrapLon(xs[i]!), 6), round(ys[i]!, 6)]);
  }
  if (valid.length > 0 && (valid.length - 1) % stride !== 0) {
    const i = valid[valid.length - 1]!;
    coords.push([round(wrapLon(xs[i]!), 6), round(ys[i]!, 6)]);
  }
  const span = finiteRange(ts);
  const parameters = measured(ctx, (v) => v.dims.length === 1 && v.dims[0] === obsDim).map(parameterInfo);
  const a = ctx.info.attrs;
  const name =
    attrString(a, 'deployment_name') ??
    attrString(a, 'id') ??
    attrString(a, 'title') ??
    ctx.relPath.replace(/\.[^.]+$/, '');
  const feature: FeatureRecord = {
    id: safeId(name),
    geometry:
      coords.length >= 2
        ? { type: 'LineString', coordinates: coords }
        : coords.length === 1
          ? { type: 'Point', coordinates: coords[0]! }
          : null,
    start: span?.[0] ?? NaN,
    end: span?.[1] ?? NaN,
    properties: {
      trajectory_id: name,
      platform_name:
        attrString(a, 'glider_name') ?? attrString(a, 'platform_name') ?? attrString(a, 'platform') ?? null,
      wmo_id: attrString(a, 'wmo_id') ?? attrString(a, 'glider_wmo') ?? null,
      ...commonProperties(ctx),
      datetime: isoOrNull(span?.[0] ?? NaN),
      start_datetime: isoOrNull(span?.[0] ?? NaN),
      end_datetime: isoOrNull(span?.[1] ?? NaN),
      n_observations: ys.length,
      parameters: parameters.map((p) => p.name).join(','),
      parameter_units: parameters.map((p) => p.units ?? '').join(','),
    },
    source: { file: ctx.relPath, index: 0 },
  };
  return { kind: 'trajectory', features: [feature], parameters };
}

/** Moorings and tide gauges: one Point per station (CF timeSeries, station × time). */
export async function extractTimeSeries(ctx: ExtractContext): Promise<Extraction | undefined> {
  const lat = findAxis(ctx.info, 'lat');
  const lon = findAxis(ctx.info, 'lon');
  const time = findAxis(ctx.info, 'time');
  if (!lat || !lon || !time || lat.dims.length > 1 || time.dims.length !== 1) return undefined;
  const stationDim = lat.dims[0];
  const timeDim = time.dims[0]!;
  const [ys, xs, ts] = await Promise.all([
    ctx.data.numbers(lat.name),
    ctx.data.numbers(lon.name),
    ctx.data.times(time.name),
  ]);
  const idVar = roleVariable(ctx, 'timeseries_id');
  let stationIds: string[] | undefined;
  if (idVar) {
    stationIds =
      idVar.dtype === 'char' || idVar.dtype === 'string'
        ? await ctx.data.strings(idVar.name)
        : Array.from(await ctx.data.numbers(idVar.name), (v) => (Number.isFinite(v) ? String(v) : ''));
  }
  const span = finiteRange(ts);
  const parameters = measured(
    ctx,
    (v) => v.dims.includes(timeDim) && v.dims.every((d) => d === timeDim || d === stationDim),
  ).map(parameterInfo);
  const a = ctx.info.attrs;
  const stem = ctx.relPath.replace(/^.*\//, '').replace(/\.[^.]+$/, '');
  const features: FeatureRecord[] = [];
  for (let i = 0; i < ys.length; i++) {
    const label =
      stationIds?.[i] && stationIds[i] !== '0' ? `${stem}_${stationIds[i]}` : ys.length === 1 ? stem : `${stem}_${i}`;
    const valid = Number.isFinite(xs[i]) && Number.isFinite(ys[i]);
    features.push({
      id: safeId(label),
      geometry: valid ? { type: 'Point', coordinates: [round(wrapLon(xs[i]!), 6), round(ys[i]!, 6)] } : null,
      start: span?.[0] ?? NaN,
      end: span?.[1] ?? NaN,
      properties: {
        station_id: stationIds?.[i] ?? String(i),
        station_name:
          attrString(a, 'station_name') ?? attrString(a, 'mooring_number') ?? attrString(a, 'platform') ?? null,
        ...commonProperties(ctx),
        datetime: isoOrNull(span?.[0] ?? NaN),
        start_datetime: isoOrNull(span?.[0] ?? NaN),
        end_datetime: isoOrNull(span?.[1] ?? NaN),
        n_observations: ts.length,
        parameters: parameters.map((p) => p.name).join(','),
        parameter_units: parameters.map((p) => p.units ?? '').join(','),
      },
      source: { file: ctx.relPath, index: i },
    });
  }
  return { kind: 'timeSeries', features, parameters };
}
