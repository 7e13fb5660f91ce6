/**
 * The levels of each profile, kept in the catalog next to its feature: an EDR query over ten
 * thousand profiles reads them from one database instead of opening ten thousand files. Values are
 * the CF-decoded ones the files give (NaN where missing), float32 when the file stores float32
 * (exact), float64 otherwise; trailing missing levels are not stored.
 */
import type { DecodedReader } from '../cf/read.js';
import type { DatasetInfo } from '../readers/types.js';

const FORMAT = 2;

/**
 * Encode one profile's columns (all of the same length). Levels after the last one with any value
 * are not stored (a multi-profile file pads every profile to its longest): decoding gives them back
 * as NaN. Stored raw, not compressed: decoding 10 000 profiles costs a copy each, not an inflate.
 */
function encodeProfileData(columns: Array<{ name: string; values: Float64Array; f32: boolean }>): Uint8Array {
  const n = columns[0]?.values.length ?? 0;
  let kept = 0;
  for (const c of columns)
    for (let i = n - 1; i >= kept; i--)
      if (!Number.isNaN(c.values[i]!)) {
        kept = i + 1;
        break;
      }
  const names = Buffer.from(JSON.stringify(columns.map((c) => [c.name, c.f32 ? 4 : 8])));
  // Column data starts on an 8-byte boundary so it can be viewed as typed arrays.
  const head = 12 + names.length;
  const start = Math.ceil(head / 8) * 8;
  const widths = columns.map((c) => (c.f32 ? 4 : 8));
  const out = Buffer.alloc(start + widths.reduce((s, w) => s + Math.ceil((kept * w) / 8) * 8, 0));
  out.writeUInt16LE(FORMAT, 0);
  out.writeUInt16LE(names.length, 2);
  out.writeUInt32LE(n, 4);
  out.writeUInt32LE(kept, 8);
  names.copy(out, 12);
  let at = start;
  columns.forEach((c, k) => {
    const w = widths[k]!;
    const dst =
      w === 4
        ? new Float32Array(out.buffer, out.byteOffset + at, kept)
        : new Float64Array(out.buffer, out.byteOffset + at, kept);
    dst.set(c.values.subarray(0, kept));
    at += Math.ceil((kept * w) / 8) * 8;
  });
  return out;
}

/** The columns of one profile, by variable name. */
export function decodeProfileData(blob: Uint8Array): Map<string, Float64Array> {
  // An aligned copy: SQLite hands blobs back at any byte offset.
  const b = Buffer.from(blob);
  if (b.readUInt16LE(0) !== FORMAT) throw new Error(`profile data format ${b.readUInt16LE(0)} is not ${FORMAT}`);
  const namesLength = b.readUInt16LE(2);
  const n = b.readUInt32LE(4);
  const kept = b.readUInt32LE(8);
  const names = JSON.parse(b.subarray(12, 12 + namesLength).toString()) as Array<[string, 4 | 8]>;
  let at = Math.ceil((12 + namesLength) / 8) * 8;
  const aligned = b.byteOffset % 8 === 0 ? b : Buffer.from(new Uint8Array(b));
  const out = new Map<string, Float64Array>();
  for (const [name, width] of names) {
    const v = new Float64Array(n);
    v.set(
      width === 4
        ? new Float32Array(aligned.buffer, aligned.byteOffset + at, kept)
        : new Float64Array(aligned.buffer, aligned.byteOffset + at, kept),
    );
    if (kept < n) v.fill(NaN, kept);
    out.set(name, v);
    at += Math.ceil((kept * width) / 8) * 8;
  }
  return out;
}

/**
 * Each profile's levels of the vertical coordinate and the measured parameters of an Argo-style
 * (N_PROF, N_LEVELS) file, by profile index. Variables are read whole, once per file.
 */
export async function profileLevels(
  info: DatasetInfo,
  data: DecodedReader,
  names: string[],
): Promise<Map<number, Uint8Array>> {
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
    out.set(
      p,
      encodeProfileData(
        vars.map((v, k) => ({
          name: v.name,
          values: whole[k]!.subarray(p * nLev, (p + 1) * nLev),
          f32: v.dtype === 'f4' && v.attrs['scale_factor'] === undefined && v.attrs['add_offset'] === undefined,
        })),
      ),
    );
  }
  return out;
}
