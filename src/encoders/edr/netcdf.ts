/**
 * NetCDF-3 output of EDR sample answers through the streaming writer: CF discrete sampling
 * geometries (contiguous ragged arrays: profile, timeSeries, trajectory), with ACDD attributes so
 * harvesters and xarray find the metadata. Grid answers are written by src/encoders/grid/netcdf.ts.
 */
import type { NcAttrs, NcDimDef, NcFileDef, NcVarDef } from '../netcdf3/writer.js';
import { writeNetcdf3 } from '../netcdf3/writer.js';
import { isoOrNull } from '../table/text.js';
import type { SampleDomain, SamplesPayload } from './payload.js';
import { Spool } from './spool.js';

const FILL_F4 = 9.969209968386869e36;
const TIME_UNITS = 'seconds since 1970-01-01 00:00:00';

function globalAttrs(p: SamplesPayload, extra: NcAttrs): NcAttrs {
  return {
    Conventions: 'CF-1.8, ACDD-1.3',
    title: p.title,
    source: `odas collection ${p.collectionId}`,
    history: `${new Date().toISOString()} odas: ${p.request}`,
    ...extra,
  };
}

function rangeAttrs(xs: Float64Array, ys: Float64Array, ts?: Float64Array): NcAttrs {
  const fin = (a: Float64Array) => Array.from(a).filter(Number.isFinite);
  const out: NcAttrs = {};
  const x = fin(xs),
    y = fin(ys);
  if (x.length) Object.assign(out, { geospatial_lon_min: Math.min(...x), geospatial_lon_max: Math.max(...x) });
  if (y.length) Object.assign(out, { geospatial_lat_min: Math.min(...y), geospatial_lat_max: Math.max(...y) });
  const t = ts ? fin(ts) : [];
  if (t.length)
    Object.assign(out, {
      time_coverage_start: isoOrNull(Math.min(...t))!,
      time_coverage_end: isoOrNull(Math.max(...t))!,
    });
  return out;
}

function paramVar(p: SamplesPayload, name: string, dims: string[], coordinates?: string): NcVarDef {
  const q = p.parameters.find((x) => x.name === name)!;
  return {
    name,
    type: 'f4',
    dims,
    attrs: {
      _FillValue: FILL_F4,
      long_name: q.label,
      ...(q.units ? { units: q.units } : {}),
      ...(q.standardName ? { standard_name: q.standardName } : {}),
      ...(coordinates ? { coordinates } : {}),
    },
  };
}

function zAttrs(p: SamplesPayload): NcAttrs {
  const v = p.vertical;
  return {
    long_name: v?.name ?? 'vertical coordinate',
    axis: 'Z',
    positive: v?.positive ?? 'down',
    ...(v?.units ? { units: v.units } : {}),
  };
}

const FEATURE_TYPE: Record<SampleDomain, string> = {
  VerticalProfile: 'profile',
  PointSeries: 'timeSeries',
  Trajectory: 'trajectory',
  Point: 'point',
};
const FEATURE_DIM: Record<SampleDomain, string> = {
  VerticalProfile: 'profile',
  PointSeries: 'station',
  Trajectory: 'trajectory',
  Point: 'point',
};
const CF_ROLE: Record<SampleDomain, string> = {
  VerticalProfile: 'profile_id',
  PointSeries: 'timeseries_id',
  Trajectory: 'trajectory_id',
  Point: 'point_id',
};

export async function* samplesNetcdf(p: SamplesPayload): AsyncGenerator<Uint8Array> {
  const spool = new Spool();
  try {
    // Pass 1: per-feature metadata in memory (small), per-observation columns spooled.
    const ids: string[] = [];
    const rowSize: number[] = [];
    const fx: number[] = [],
      fy: number[] = [],
      ft: number[] = [];
    const hasZ = p.vertical !== undefined;
    for await (const s of p.sets()) {
      const n = s.t.length;
      if (n === 0) continue;
      ids.push(s.id);
      rowSize.push(n);
      fx.push(s.x[0]!);
      fy.push(s.y[0]!);
      ft.push(s.t[0]!);
      await spool.push(
        'time',
        s.t.map((ms) => ms / 1000),
      );
      await spool.push('lat', s.y);
      await spool.push('lon', s.x);
      if (hasZ) await spool.push('z', s.z ?? new Float64Array(n).fill(NaN));
      for (const q of p.parameters) await spool.push(q.name, s.values[q.name] ?? new Float64Array(n).fill(NaN));
    }
    const total = rowSize.reduce((a, b) => a + b, 0);
    const domain = ids.length === 0 ? 'Point' : p.domainType;
    const featureDim = FEATURE_DIM[domain];
    const perFeature = domain === 'VerticalProfile' || domain === 'PointSeries';
    const dims: NcDimDef[] = [{ name: 'obs', size: total, ...(total === 0 ? { unlimited: true } : {}) }];
    const vars: NcVarDef[] = [];
    const data = new Map<string, () => AsyncIterable<ArrayLike<number> | string[]>>();
    const obsCoords: string[] = [];
    if (domain !== 'Point') {
      const strlen = Math.max(1, ...ids.map((id) => Buffer.byteLength(id)));
      dims.push({ name: featureDim, size: ids.length }, { name: 'id_strlen', size: strlen });
      vars.push({
        name: `${featureDim}_id`,
        type: 'char',
        dims: [featureDim, 'id_strlen'],
        attrs: { cf_role: CF_ROLE[domain], long_name: `${featureDim} identifier` },
      });
      vars.push({
        name: 'row_size',
        type: 'i4',
        dims: [featureDim],
        attrs: { sample_dimension: 'obs', long_name: `number of observations for this ${featureDim}` },
      });
      data.set(`${featureDim}_id`, async function* () {
        yield ids;
      });
      data.set('row_size', async function* () {
        yield rowSize;
      });
    }
    const coord = (name: string, attrs: NcAttrs, onFeature: boolean, values: number[], column: string) => {
      vars.push({
        name,
        type: 'f8',
        dims: [onFeature ? featureDim : 'obs'],
        attrs: name === 'time' ? { ...attrs } : attrs,
      });
      data.set(
        name,
        onFeature
          ? async function* () {
              yield name === 'time' ? values.map((ms) => ms / 1000) : values;
            }
          : () => spool.read(column),
      );
      if (!onFeature) obsCoords.push(name);
    };
    coord(
      'time',
      { standard_name: 'time', units: TIME_UNITS, calendar: 'proleptic_gregorian', axis: 'T', _FillValue: NaN },
      domain === 'VerticalProfile',
      ft,
      'time',
    );
    coord(
      'lat',
      { standard_name: 'latitude', units: 'degrees_north', axis: 'Y', _FillValue: NaN },
      perFeature,
      fy,
      'lat',
    );
    coord(
      'lon',
      { standard_name: 'longitude', units: 'degrees_east', axis: 'X', _FillValue: NaN },
      perFeature,
      fx,
      'lon',
    );
    if (hasZ) {
      vars.push({ name: 'z', type: 'f8', dims: ['obs'], attrs: { ...zAttrs(p), _FillValue: NaN } });
      data.set('z', () => spool.read('z'));
      obsCoords.push('z');
    }
    const coordinates = ['time', 'lat', 'lon', ...(hasZ ? ['z'] : [])].join(' ');
    for (const q of p.parameters) {
      vars.push(paramVar(p, q.name, ['obs'], coordinates));
      data.set(q.name, () => spool.read(q.name));
    }
    const def: NcFileDef = {
      dims,
      variables: vars,
      attrs: globalAttrs(p, {
        featureType: FEATURE_TYPE[domain],
        cdm_data_type: FEATURE_TYPE[domain],
        ...rangeAttrs(Float64Array.from(fx), Float64Array.from(fy), Float64Array.from(ft)),
      }),
    };
    yield* writeNetcdf3(def, (name) => data.get(name)?.());
  } finally {
    await spool.close();
  }
}
