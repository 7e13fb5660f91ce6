/**
 * The levels of each profile, kept in the catalog next to its feature: an EDR query over ten
 * thousand profiles reads them from one database instead of opening ten thousand files. Values are
 * the CF-decoded ones the files give (NaN where missing), float32 when the file stores float32
 * (exact), float64 otherwise; the whole record is deflated (trailing missing levels cost nothing).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { DecodedReader } from '../cf/read.js';
import type { DatasetInfo } from '../readers/types.js';

const FORMAT = 1;

/** Encode one profile's columns (all of the same length). */
export function encodeProfileData(columns: Array<{ name: string; values: Float64Array; f32: boolean }>): Uint8Array {
  const n = columns[0]?.values.length ?? 0;
  const names = Buffer.from(JSON.stringify(columns.map((c) => [c.name, c.f32 ? 4 : 8])));
  const size = 8 + names.length + columns.reduce((s, c) => s + n * (c.f32 ? 4 : 8), 0);
  const out = Buffer.alloc(size);
  out.writeUInt16LE(FORMAT, 0);
  out.writeUInt16LE(names.length, 2);
  out.writeUInt32LE(n, 4);
  names.copy(out, 8);
  let at = 8 + names.length;
  for (const c of columns) {
    if (c.f32) for (let i = 0; i < n; i++, at += 4) out.writeFloatLE(c.values[i]!, at);
    else for (let i = 0; i < n; i++, at += 8) out.writeDoubleLE(c.values[i]!, at);
  }
  return deflateRawSync(out, { level: 1 });
}

/** The columns of one profile, by variable name. */
export function decodeProfileData(blob: Uint8Array): Map<string, Float64Array> {
  const b = inflateRawSync(blob);
  if (b.readUInt16LE(0) !== FORMAT) throw new Error(`profile data format ${b.readUInt16LE(0)} is not ${FORMAT}`);
  const namesLength = b.readUInt16LE(2);
  const n = b.readUInt32LE(4);
  const names = JSON.parse(b.subarray(8, 8 + namesLength).toString()) as Array<[string, 4 | 8]>;
  let at = 8 + namesLength;
  const out = new Map<string, Float64Array>();
  for (const [name, width] of names) {
    const v = new Float64Array(n);
    if (width === 4) for (let i = 0; i < n; i++, at += 4) v[i] = b.readFloatLE(at);
    else for (let i = 0; i < n; i++, at += 8) v[i] = b.readDoubleLE(at);
    out.set(name, v);
  }
  return out;
}

/**
 * Each profile's levels of the vertical coordinate and the measured parameters of an Argo-style
 * (N_PROF, N_LEVELS) file, by profile index. Variables are read whole, once per file.
 */
export async function profileLevels(info: DatasetInfo, data: DecodedReader, names: string[]): Promise<Map<number, Uint8Array>> {
  const nProf = info.dims['N_PROF'] ?? 0;
  const nLev = info.dims['N_LEVELS'] ?? 0;
  const out = new Map<number, Uint8Array>();
  if (nProf === 0 || nLev === 0) return out;
  const vars = names.flatMap((name) => {
    const v = data.variable(name);
    return v && v.dims.length === 2 && v.dims[0] === 'N_PROF' && v.dims[1] === 'N_LEVELS' ? [v] : [];
  });
  const whole = await Promise.all(vars.map((v) => data.numbers(v.name)));
  for (let p = 0; p < nProf; p++) {
    // float32 is exact for float32 variables that are not packed (scale_factor/add_offset give doubles).
    out.set(p, encodeProfileData(vars.map((v, k) => ({ name: v.name, values: whole[k]!.subarray(p * nLev, (p + 1) * nLev), f32: v.dtype === 'f4' && v.attrs['scale_factor'] === undefined && v.attrs['add_offset'] === undefined }))));
  }
  return out;
}
