// Builds a folder of single-profile Argo files from the real multi-profile file, with our own
// reader and writer: `tsx bench/make-profiles.ts [COUNT] [OUTDIR]`.
// Each replica is a different (synthetic) float number whose profiles keep the real values; the
// longitudes are shifted per replica so that a bbox query selects a realistic fraction.
// `loadArgoTemplate` is shared with the GDAC-tree generator (gdac-tree.ts).
import { mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  writeNetcdf3,
  type NcAttrs,
  type NcChunk,
  type NcDataSource,
  type NcFileDef,
  type NcVarDef,
  type NcWriteType,
} from '../src/encoders/netcdf3/writer.js';
import { openReader } from '../src/readers/registry.js';
import type { RawArray, VariableInfo } from '../src/readers/types.js';

const SOURCE = process.env['ODAS_SHARED_DATA']
  ? join(process.env['ODAS_SHARED_DATA'], 'argo', '1900857_prof.nc')
  : join(import.meta.dirname, '..', '..', 'shared', 'data', 'argo', '1900857_prof.nc');

function attrsOf(v: { attrs: Record<string, unknown> }, type?: NcWriteType): NcAttrs {
  const out: NcAttrs = {};
  for (const [k, a] of Object.entries(v.attrs)) {
    if (typeof a === 'string') out[k] = a;
    else if (typeof a === 'number')
      out[k] =
        type && ['_FillValue', 'valid_min', 'valid_max', 'missing_value'].includes(k) ? a : { type: 'f8', value: a };
    else if (Array.isArray(a)) out[k] = { type: 'f8', value: a.map(Number) };
  }
  return out;
}

/** The real multi-profile file's structure with N_PROF = 1, and the values of each of its profiles. */
export interface ArgoTemplate {
  fileDef: NcFileDef;
  /** Profiles in the source file. */
  profiles: number;
  /** Values of a single-profile file holding source profile `p`, for float `platform`, longitudes shifted by `lonShift` degrees. */
  source(p: number, platform: string, lonShift?: number): NcDataSource;
}

/**
 * Reads the real `1900857_prof.nc` once. `withHistory` keeps the N_HISTORY record variables
 * (with zero records, as in the source) so the header matches a GDAC single-profile file's.
 */
export async function loadArgoTemplate(withHistory = false): Promise<ArgoTemplate> {
  const reader = await openReader(SOURCE);
  const info = await reader.info();
  const nProf = info.dims['N_PROF']!;
  const vars = info.variables.filter(
    (v) =>
      v.dtype !== 'u1' &&
      v.dtype !== 'u2' &&
      v.dtype !== 'u4' &&
      v.dtype !== 'i8' &&
      v.dtype !== 'u8' &&
      v.dtype !== 'string',
  );
  const whole = new Map<string, RawArray>();
  for (const v of vars) whole.set(v.name, await reader.readRaw(v.name));
  await reader.close();
  const dims = Object.entries(info.dims).map(([name, size]) =>
    name === info.unlimited ? { name, size: 0, unlimited: true } : { name, size: name === 'N_PROF' ? 1 : size },
  );
  const defs: NcVarDef[] = vars.map((v: VariableInfo) => ({
    name: v.name,
    type: v.dtype as NcWriteType,
    dims: v.dims,
    attrs: attrsOf(v, v.dtype as NcWriteType),
  }));
  const fileDef: NcFileDef = {
    format: 'cdf1',
    dims,
    attrs: attrsOf(info),
    variables: withHistory ? defs : defs.filter((d) => !d.dims.includes(info.unlimited ?? '\0')),
  };
  const source =
    (p: number, platform: string, lonShift = 0): NcDataSource =>
    (name: string): NcChunk[] | undefined => {
      const v = vars.find((x) => x.name === name);
      const raw = whole.get(name);
      if (!v || !raw) return undefined;
      const data = raw.data as ArrayLike<number>;
      if (v.dims[0] !== 'N_PROF') return [data];
      const per = raw.shape.slice(1).reduce((a, b) => a * b, 1);
      let part = Array.from({ length: per }, (_, k) => data[p * per + k]!);
      if (name === 'PLATFORM_NUMBER') part = Array.from(platform.padEnd(8, ' '), (c) => c.charCodeAt(0));
      if (name === 'LONGITUDE' && lonShift !== 0)
        part = part.map((x) => (x > 9e4 ? x : ((((x + lonShift + 180) % 360) + 360) % 360) - 180));
      return [v.dtype === 'char' ? Uint8Array.from(part) : part];
    };
  return { fileDef, profiles: nProf, source };
}

export async function makeProfiles(
  count: number,
  outDir: string,
): Promise<{ files: number; seconds: number; bytes: number }> {
  const t0 = Date.now();
  await mkdir(outDir, { recursive: true });
  const template = await loadArgoTemplate();
  const nProf = template.profiles;
  let bytes = 0;
  for (let n = 0; n < count; n++) {
    const replica = Math.floor(n / nProf);
    const p = n % nProf;
    const platform = String(1900857 + replica * 1000);
    const file = join(outDir, `D${platform}_${String(p).padStart(3, '0')}.nc`);
    const handle = await open(file, 'w');
    try {
      for await (const chunk of writeNetcdf3(template.fileDef, template.source(p, platform, replica * 7.3))) {
        await handle.write(chunk);
        bytes += chunk.length;
      }
    } finally {
      await handle.close();
    }
  }
  return { files: count, seconds: (Date.now() - t0) / 1000, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = Number(process.argv[2] ?? 10_000);
  const out = process.argv[3] ?? join(import.meta.dirname, 'out', 'argo10k', 'profiles');
  const r = await makeProfiles(count, out);
  const s = await stat(out);
  process.stdout.write(
    `${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s → ${out} (${s.isDirectory() ? 'folder' : ''})\n`,
  );
}
