/**
 * CoverageJSON (application/vnd.cov+json) for EDR sample answers (in-situ data, grid positions
 * and trajectories), streamed; grid answers are written by src/encoders/grid/covjson.ts. Rules that clients and
 * the CoverageJSON schema enforce: the domain type fixes the axis names (x, y, z, t; `composite`
 * for Trajectory); time values are ISO strings; axis values are unique; `ranges[p].values` are laid
 * out row-major over `axisNames`; missing values are null; every domain has `referencing`.
 */
import { CRS84 } from '../../core/grid/crs.js';
import type { ParameterInfo, VerticalAxis } from '../table/rows.js';
import { isoOrNull, jsonNumber } from '../table/text.js';
import type { SampleSet, SamplesPayload } from './payload.js';

/** CF standard names resolve in the NERC vocabulary server: the id clients can look up. */
export function observedPropertyId(standardName: string): string {
  return `http://vocab.nerc.ac.uk/standard_name/${encodeURIComponent(standardName)}/`;
}

function parameterObject(p: ParameterInfo): Record<string, unknown> {
  return {
    type: 'Parameter',
    description: { en: p.label },
    observedProperty: { ...(p.standardName ? { id: observedPropertyId(p.standardName) } : {}), label: { en: p.label } },
    ...(p.units ? { unit: { label: { en: p.units }, symbol: p.units } } : {}),
  };
}

function parametersObject(ps: ParameterInfo[]): Record<string, unknown> {
  return Object.fromEntries(ps.map((p) => [p.name, parameterObject(p)]));
}

function referencing(axes: { t: boolean; z?: VerticalAxis | undefined }): unknown[] {
  const out: unknown[] = [{ coordinates: ['x', 'y'], system: { type: 'GeographicCRS', id: CRS84 } }];
  if (axes.t) out.push({ coordinates: ['t'], system: { type: 'TemporalRS', calendar: 'Gregorian' } });
  if (axes.z) {
    out.push({
      coordinates: ['z'],
      system: {
        type: 'VerticalCRS',
        cs: {
          csAxes: [
            {
              name: { en: axes.z.name },
              direction: axes.z.positive,
              ...(axes.z.units ? { unit: { symbol: axes.z.units } } : {}),
            },
          ],
        },
      },
    });
  }
  return out;
}

function values(arr: ArrayLike<number>, rows: number[]): string {
  return `[${rows.map((i) => jsonNumber(arr[i]!)).join(',')}]`;
}

/** Rows a domain can carry: known coordinates, and no repeated axis value (CoverageJSON axes are sets). */
function usableRows(s: SampleSet): number[] {
  const rows: number[] = [];
  const n = s.t.length;
  // Profiles and series are keyed by one number: a numeric set, no string per row.
  const axis = s.domainType === 'VerticalProfile' ? s.z : s.domainType === 'PointSeries' ? s.t : undefined;
  if (axis || s.domainType === 'VerticalProfile') {
    const seen = new Set<number>();
    for (let i = 0; i < n; i++) {
      const v = axis?.[i];
      if (v === undefined || !Number.isFinite(v) || seen.has(v)) continue;
      seen.add(v);
      rows.push(i);
    }
    return rows;
  }
  if (s.domainType === 'Point') return n > 0 ? [0] : [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(s.t[i]!) || !Number.isFinite(s.x[i]!) || !Number.isFinite(s.y[i]!)) continue;
    const key = `${s.t[i]},${s.x[i]},${s.y[i]},${s.z?.[i] ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(i);
  }
  return rows;
}

/** One sample set as a Coverage object (without parameters), or undefined when it has no usable row. */
function sampleCoverage(
  s: SampleSet,
  vertical: VerticalAxis | undefined,
  parameters: ParameterInfo[],
  withParameters: boolean,
): string | undefined {
  const rows = usableRows(s);
  if (rows.length === 0) return undefined;
  const r0 = rows[0]!;
  const single = (v: number) => `{"values":[${jsonNumber(v)}]}`;
  const time = (i: number) => JSON.stringify(isoOrNull(s.t[i]!));
  const axes: string[] = [];
  let axisNames: string[];
  let hasT = false;
  let zAxis: VerticalAxis | undefined;
  switch (s.domainType) {
    case 'VerticalProfile':
      axes.push(`"x":${single(s.x[r0]!)}`, `"y":${single(s.y[r0]!)}`, `"z":{"values":${values(s.z!, rows)}}`);
      if (Number.isFinite(s.t[r0]!)) {
        axes.push(`"t":{"values":[${time(r0)}]}`);
        hasT = true;
      }
      zAxis = vertical;
      axisNames = ['z'];
      break;
    case 'PointSeries': {
      axes.push(`"x":${single(s.x[r0]!)}`, `"y":${single(s.y[r0]!)}`, `"t":{"values":[${rows.map(time).join(',')}]}`);
      hasT = true;
      const z0 = s.z?.[r0];
      if (z0 !== undefined && Number.isFinite(z0) && rows.every((i) => s.z![i] === z0)) {
        axes.push(`"z":${single(z0)}`);
        zAxis = vertical;
      }
      axisNames = ['t'];
      break;
    }
    case 'Point': {
      axes.push(`"x":${single(s.x[r0]!)}`, `"y":${single(s.y[r0]!)}`);
      if (Number.isFinite(s.t[r0]!)) {
        axes.push(`"t":{"values":[${time(r0)}]}`);
        hasT = true;
      }
      const z0 = s.z?.[r0];
      if (z0 !== undefined && Number.isFinite(z0)) {
        axes.push(`"z":${single(z0)}`);
        zAxis = vertical;
      }
      axisNames = [];
      break;
    }
    case 'Trajectory': {
      const withZ = s.z !== undefined && rows.every((i) => Number.isFinite(s.z![i]!));
      const tuples = rows.map(
        (i) => `[${time(i)},${jsonNumber(s.x[i]!)},${jsonNumber(s.y[i]!)}${withZ ? `,${jsonNumber(s.z![i]!)}` : ''}]`,
      );
      axes.push(
        `"composite":{"dataType":"tuple","coordinates":${JSON.stringify(withZ ? ['t', 'x', 'y', 'z'] : ['t', 'x', 'y'])},"values":[${tuples.join(',')}]}`,
      );
      hasT = true;
      if (withZ) zAxis = vertical ?? { name: 'z', positive: 'down' };
      axisNames = ['composite'];
      break;
    }
  }
  const domain = `{"type":"Domain","domainType":"${s.domainType}","axes":{${axes.join(',')}},"referencing":${JSON.stringify(referencing({ t: hasT, z: zAxis }))}}`;
  const shape = axisNames.length === 0 ? [] : [rows.length];
  const ranges = parameters.map((p) => {
    const arr = s.values[p.name];
    const vals = arr ? values(arr, axisNames.length === 0 ? [r0] : rows) : `[${rows.map(() => 'null').join(',')}]`;
    return `${JSON.stringify(p.name)}:{"type":"NdArray","dataType":"float","axisNames":${JSON.stringify(axisNames)},"shape":${JSON.stringify(shape)},"values":${vals}}`;
  });
  const params = withParameters ? `"parameters":${JSON.stringify(parametersObject(parameters))},` : '';
  return `{"type":"Coverage","id":${JSON.stringify(s.id)},"domain":${domain},${params}"ranges":{${ranges.join(',')}}}`;
}

/** A CoverageCollection with one coverage per set (or a single Coverage when the payload says so). */
export async function* samplesCoverageJson(p: SamplesPayload): AsyncGenerator<string> {
  if (p.single) {
    for await (const s of p.sets()) {
      const cov = sampleCoverage(s, p.vertical, p.parameters, true);
      if (cov) {
        yield cov;
        return;
      }
    }
  }
  yield `{"type":"CoverageCollection","domainType":"${p.domainType}","parameters":${JSON.stringify(parametersObject(p.parameters))},"coverages":[`;
  let first = true;
  for await (const s of p.sets()) {
    const cov = sampleCoverage(s, p.vertical, p.parameters, false);
    if (!cov) continue;
    yield first ? cov : `,${cov}`;
    first = false;
  }
  yield ']}';
}
