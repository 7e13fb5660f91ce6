import { attrString } from '../../cf/read.js';
import type { FeatureRecord, PropertyValue } from '../feature.js';
import { round, safeId } from '../feature.js';
import { charsPerElement, finiteRange, hasDims, isoOrNull, parameterInfo, wrapLon } from './common.js';
import type { ExtractContext, Extraction, ParameterInfo } from './types.js';

/** Argo core and BGC measured parameters live on (N_PROF, N_LEVELS); everything else is metadata. */
function profileParameters(ctx: ExtractContext): ParameterInfo[] {
  return ctx.info.variables
    .filter((v) => v.dims.length === 2 && v.dims[0] === 'N_PROF' && v.dims[1] === 'N_LEVELS')
    .filter(
      (v) => v.dtype !== 'char' && !/_(QC|ADJUSTED|ADJUSTED_ERROR|dPRES)$/.test(v.name) && !/^PROFILE_/.test(v.name),
    )
    .map(parameterInfo);
}

export function isArgoMeta(ctx: ExtractContext): boolean {
  const type = attrString(ctx.info.attrs, 'data_type') ?? '';
  return /meta-?data/i.test(type) || /_meta\.nc$/i.test(ctx.relPath);
}

export function isArgoProfile(ctx: ExtractContext): boolean {
  return hasDims(ctx.info, 'N_PROF', 'N_LEVELS') && ctx.data.has('JULD') && ctx.data.has('PLATFORM_NUMBER');
}

export function isArgoTrajectory(ctx: ExtractContext): boolean {
  return hasDims(ctx.info, 'N_MEASUREMENT') && ctx.data.has('JULD') && ctx.data.has('LATITUDE');
}

/** One Point feature per profile of an Argo `_prof`, `_Sprof` or single-profile file. */
export async function extractArgoProfiles(ctx: ExtractContext): Promise<Extraction> {
  const { data } = ctx;
  const n = ctx.info.dims['N_PROF'] ?? 0;
  const [platform, cycles, juld, lat, lon, direction, dataMode, positionQc, project, pi, centre, platformType, pres] =
    await Promise.all([
      data.strings('PLATFORM_NUMBER'),
      data.numbersIfAny('CYCLE_NUMBER'),
      data.times('JULD'),
      data.numbers('LATITUDE'),
      data.numbers('LONGITUDE'),
      charsPerElement(data, 'DIRECTION'),
      charsPerElement(data, 'DATA_MODE'),
      charsPerElement(data, 'POSITION_QC'),
      data.stringsIfAny('PROJECT_NAME'),
      data.stringsIfAny('PI_NAME'),
      data.stringsIfAny('DATA_CENTRE'),
      data.stringsIfAny('PLATFORM_TYPE'),
      data.numbersIfAny('PRES'),
    ]);
  const parameters = profileParameters(ctx);
  const names = parameters.map((p) => p.name).join(',');
  const units = parameters.map((p) => p.units ?? '').join(',');
  const levels = ctx.info.dims['N_LEVELS'] ?? 0;
  const seen = new Map<string, number>();
  const features: FeatureRecord[] = [];
  for (let i = 0; i < n; i++) {
    const cycle = cycles?.[i];
    const dir = direction?.[i] ?? '';
    const base = `${platform[i] ?? 'unknown'}_${Number.isFinite(cycle) ? String(cycle).padStart(3, '0') : 'x'}${dir === 'D' ? 'D' : ''}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const id = safeId(count === 1 ? base : `${base}_${count}`);
    const x = lon[i]!;
    const y = lat[i]!;
    const valid = Number.isFinite(x) && Number.isFinite(y) && Math.abs(y) <= 90;
    let nLevels = 0;
    let presMax = NaN;
    if (pres) {
      const row = pres.subarray(i * levels, (i + 1) * levels);
      for (const p of row) if (Number.isFinite(p)) nLevels++;
      presMax = finiteRange(row)?.[1] ?? NaN;
    }
    const properties: Record<string, PropertyValue> = {
      platform_number: platform[i] || null,
      cycle_number: Number.isFinite(cycle) ? cycle! : null,
      datetime: isoOrNull(juld[i]!),
      data_mode: dataMode?.[i] || null,
      direction: dir || null,
      position_qc: positionQc?.[i] || null,
      project_name: project?.[i] || null,
      pi_name: pi?.[i] || null,
      data_centre: centre?.[i] || null,
      platform_type: platformType?.[i] || null,
      n_levels: nLevels,
      pres_max: Number.isFinite(presMax) ? round(presMax, 3) : null,
      parameters: names,
      parameter_units: units,
    };
    features.push({
      id,
      geometry: valid ? { type: 'Point', coordinates: [round(wrapLon(x), 6), round(y, 6)] } : null,
      start: juld[i]!,
      end: juld[i]!,
      properties,
      source: { file: ctx.relPath, index: i },
    });
  }
  return { kind: 'profile', features, parameters };
}

/** One LineString per Argo trajectory file, through its valid positions in time order. */
export async function extractArgoTrajectory(ctx: ExtractContext): Promise<Extraction> {
  const { data } = ctx;
  const [platform, juld, lat, lon, cycles, project, pi, centre] = await Promise.all([
    data.strings('PLATFORM_NUMBER'),
    data.times('JULD'),
    data.numbers('LATITUDE'),
    data.numbers('LONGITUDE'),
    data.numbersIfAny('CYCLE_NUMBER'),
    data.stringsIfAny('PROJECT_NAME'),
    data.stringsIfAny('PI_NAME'),
    data.stringsIfAny('DATA_CENTRE'),
  ]);
  const coords: Array<[number, number]> = [];
  for (let i = 0; i < lat.length; i++) {
    if (Number.isFinite(lat[i]) && Number.isFinite(lon[i]))
      coords.push([round(wrapLon(lon[i]!), 6), round(lat[i]!, 6)]);
  }
  const span = finiteRange(juld);
  const cycleRange = cycles ? finiteRange(cycles) : undefined;
  const parameters = ctx.info.variables
    .filter((v) => v.dims.length === 1 && v.dims[0] === 'N_MEASUREMENT' && v.dtype !== 'char')
    .filter((v) => ['PRES', 'TEMP', 'PSAL', 'DOXY', 'CNDC'].includes(v.name))
    .map(parameterInfo);
  const id = safeId(`${platform[0] ?? 'unknown'}_traj`);
  const feature: FeatureRecord = {
    id,
    geometry:
      coords.length >= 2
        ? { type: 'LineString', coordinates: coords }
        : coords.length === 1
          ? { type: 'Point', coordinates: coords[0]! }
          : null,
    start: span?.[0] ?? NaN,
    end: span?.[1] ?? NaN,
    properties: {
      platform_number: platform[0] || null,
      datetime: isoOrNull(span?.[0] ?? NaN),
      start_datetime: isoOrNull(span?.[0] ?? NaN),
      end_datetime: isoOrNull(span?.[1] ?? NaN),
      cycle_min: cycleRange ? cycleRange[0] : null,
      cycle_max: cycleRange ? cycleRange[1] : null,
      n_positions: coords.length,
      n_measurements: lat.length,
      project_name: project?.[0] || null,
      pi_name: pi?.[0] || null,
      data_centre: centre?.[0] || null,
      parameters: parameters.map((p) => p.name).join(','),
      parameter_units: parameters.map((p) => p.units ?? '').join(','),
    },
    source: { file: ctx.relPath, index: 0 },
  };
  return { kind: 'trajectory', features: [feature], parameters };
}
