import type { DecodedReader } from '../../cf/read.js';
import { attrString } from '../../cf/read.js';
import { decodeChars, decodeStrings } from '../../cf/decode.js';
import { isoString } from '../../cf/time.js';
import type { DatasetInfo, VariableInfo } from '../../readers/types.js';
import type { ParameterInfo } from './types.js';

/** One flag per element of a char variable without a string dimension (Argo DATA_MODE, DIRECTION); blank → ''. */
export async function charsPerElement(data: DecodedReader, name: string): Promise<string[] | undefined> {
  const v = data.variable(name);
  if (!v) return undefined;
  const raw = await data.reader.readRaw(name);
  if (v.dims.length <= 1) return decodeChars(raw).map((c) => c.replace('\0', '').trim());
  return decodeStrings(raw, { trim: true });
}

/** Name, units, standard_name and long_name of a variable or a grid field. */
export function parameterInfo(v: Pick<VariableInfo, 'name' | 'attrs'>): ParameterInfo {
  const p: ParameterInfo = { name: v.name };
  const units = attrString(v.attrs, 'units');
  const std = attrString(v.attrs, 'standard_name');
  const long = attrString(v.attrs, 'long_name');
  if (units) p.units = units;
  if (std) p.standardName = std;
  if (long) p.longName = long;
  return p;
}

export function hasDims(info: DatasetInfo, ...names: string[]): boolean {
  return names.every((n) => n in info.dims);
}

/** Finite min/max of an array, or undefined when every value is missing. */
export function finiteRange(values: ArrayLike<number>): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : undefined;
}

export function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? isoString(ms) : null;
}

/** A longitude in [-180, 180], as GeoJSON clients expect. */
export function wrapLon(lon: number): number {
  return lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
}
