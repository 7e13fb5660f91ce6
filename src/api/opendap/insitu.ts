/**
 * An in-situ collection (Argo profiles, trajectories, moorings) as an OPeNDAP dataset of CF
 * Discrete Sampling Geometry arrays, for DAP2 and DAP4 alike.
 *
 * Why arrays and not DAP2 Sequences: netCDF-C (behind python-netCDF4, xarray, Ferret, Panoply,
 * ncread) reads a DAP2 Sequence only when every member is a scalar, always whole (no slicing: every
 * read re-reads the whole sequence), as a variable of a made-up record dimension; nested sequences
 * (profile → levels) are dropped, and its DAP4 client reads no sequence at all. CF DSG arrays are what
 * the files of the field already hold, what `xarray.open_dataset(url)` turns into a sensible dataset,
 * and they slice: `TEMP[10:2:20][0:1:49]` reads those profiles' first 50 levels and nothing else.
 *
 * Layout: CF's incomplete multidimensional representation (CF 1.11 §9.3.2). An instance dimension
 * with one row per feature in catalog order (`N_PROF` for profiles, as Argo names it; the file's
 * station dimension or `trajectory` otherwise) and an element dimension as long as the longest
 * feature (`N_LEVELS`; the file's observation dimension, `obs` when a variable has its name),
 * shorter features padded with _FillValue. For one Argo multi-profile file this is exactly its own
 * N_PROF × N_LEVELS variables with their names and attributes; for a folder or a GDAC family, each
 * file's profiles in turn. Per-file variables (a trajectory file's PLATFORM_NUMBER) become one value
 * per instance; variables on other dimensions (N_CALIB, N_HISTORY, N_CYCLE) are left out; `featureType`
 * is set and, when no variable has a `cf_role`, one is added: each feature's catalog id. Character
 * variables keep their string dimension (DAP4 Char arrays; DAP2 strings, see encoders/dap2/arrays.ts).
 *
 * Values are the stored ones with the attributes that decode them, as for grids: the catalog says
 * which features there are, in which file and row (the same feature records EDR, tabledap and
 * Features read), and each slab is read from those rows through the shared in-situ source. The
 * catalog's decoded levels are not used: decoding applies valid_min/valid_max, which cannot be undone.
 */
import { findAxis } from '../../cf/axes.js';
import type { Collection } from '../../catalog/collection.js';
import type { FeatureRecord } from '../../catalog/feature.js';
import type { FeatureStore } from '../../catalog/feature-store.js';
import { DataSourceError } from '../../core/errors.js';
import { DAP_TYPE, dapAttrs, type DapAttr } from '../../encoders/dap2/dataset.js';
import { slabCount, type DapSlab } from '../../encoders/dap2/response.js';
import {
  DAP4_TYPE,
  dap4Attrs,
  type Dap4Attr,
  type Dap4Dataset,
  type Dap4Variable,
} from '../../encoders/dap4/dataset.js';
import type { Attrs, AttrValue, DatasetInfo, DType, NumericArray, VariableInfo, Window } from '../../readers/types.js';
import { InSituSource } from '../edr/insitu-source.js';

type InSituCollection = Collection & { features: FeatureStore };

/** The DSG dimensions of a collection, in the files and as served. */
interface Layout {
  featureType: 'profile' | 'trajectory' | 'timeSeries';
  /** The files' feature dimension (N_PROF, station); none for one trajectory per file. */
  fileInstance?: string;
  /** The files' element dimension (N_LEVELS, time, N_MEASUREMENT). */
  fileElement: string;
  instance: string;
  element: string;
}

/** One served variable and where its values are in the files. */
interface SourceVar {
  info: VariableInfo;
  hasInstance: boolean;
  hasElement: boolean;
  /** A character variable's string dimension (kept as its last dimension). */
  stringDim?: string;
}

/** An in-situ dataset: DAP4's model, plus what DAP2 needs besides (see encoders/dap2/arrays.ts). */
export interface InSituDap {
  dataset: Dap4Dataset;
  /** String dimensions of character variables (DAP2 sends each row along it as one String). */
  stringDims: ReadonlySet<string>;
  /** Attributes in DAP2's types, by variable (DAP2 has its own rules: Byte, no 64-bit integers). */
  dap2Attrs: ReadonlyMap<string, DapAttr[]>;
  dap2Globals: DapAttr[];
}

/** netCDF's default fill values (netcdf.h), for padding variables that declare none. */
const DEFAULT_FILL: Partial<Record<DType, number>> = {
  i1: -127,
  u1: 255,
  i2: -32767,
  u2: 65535,
  i4: -2147483647,
  u4: 4294967295,
  f4: 9.969209968386869e36,
  f8: 9.969209968386869e36,
  char: 0,
};

/** Features read from the catalog per page. */
const PAGE = 1024;

function layoutOf(c: InSituCollection, info: DatasetInfo): Layout {
  const names = new Set(info.variables.map((v) => v.name));
  if (c.kind === 'profile')
    return {
      featureType: 'profile',
      fileInstance: 'N_PROF',
      fileElement: 'N_LEVELS',
      instance: 'N_PROF',
      element: 'N_LEVELS',
    };
  const time = findAxis(info, 'time');
  const lat = findAxis(info, 'lat');
  const fileElement = time?.dims[time.dims.length - 1] ?? lat?.dims[0] ?? 'obs';
  const fileInstance =
    c.kind === 'timeSeries' && lat?.dims.length === 1 && lat.dims[0] !== fileElement ? lat.dims[0] : undefined;
  return {
    featureType: c.kind === 'timeSeries' ? 'timeSeries' : 'trajectory',
    ...(fileInstance ? { fileInstance } : {}),
    fileElement,
    instance: fileInstance ?? (c.kind === 'timeSeries' ? 'station' : 'trajectory'),
    // A variable named like its dimension but with two dimensions confuses netCDF clients (xarray refuses it).
    element: names.has(fileElement) ? 'obs' : fileElement,
  };
}

/** The variables served, in first-seen order over the files: those on the DSG dimensions only. */
function sourceVars(layout: Layout, infos: DatasetInfo[]): SourceVar[] {
  const out = new Map<string, SourceVar>();
  for (const info of infos) {
    // A string dimension is one only character variables use (STRING8, DATE_TIME, nchar; not N_CYCLE).
    const numeric = new Set(info.variables.filter((v) => v.dtype !== 'char').flatMap((v) => v.dims));
    for (const v of info.variables) {
      if (out.has(v.name) || v.dtype === 'string') continue;
      let dims = v.dims;
      const last = dims[dims.length - 1];
      const stringDim =
        v.dtype === 'char' &&
        last !== undefined &&
        last !== layout.fileInstance &&
        last !== layout.fileElement &&
        !numeric.has(last)
          ? last
          : undefined;
      if (stringDim) dims = dims.slice(0, -1);
      const hasInstance = layout.fileInstance !== undefined && dims[0] === layout.fileInstance;
      const rest = hasInstance ? dims.slice(1) : dims;
      const hasElement = rest.length === 1 && rest[0] === layout.fileElement;
      if (rest.length > (hasElement ? 1 : 0)) continue;
      // Without a feature dimension in the files, an instance is a file: its per-file values are per instance.
      out.set(v.name, { info: v, hasInstance, hasElement, ...(stringDim ? { stringDim } : {}) });
    }
  }
  return [...out.values()];
}

const infosCache = new WeakMap<Collection, Promise<DatasetInfo[]>>();

/** What the collection's listed files hold (a large collection lists its first few). */
function collectionInfos(c: InSituCollection): Promise<DatasetInfo[]> {
  let p = infosCache.get(c);
  if (!p) {
    p = (async () => {
      if (c.files.length === 0) throw new DataSourceError(c.id, 'the collection has no file');
      const source = new InSituSource(c);
      try {
        return await Promise.all(c.files.map((f) => source.info(f)));
      } finally {
        await source.close();
      }
    })();
    p.catch(() => infosCache.delete(c));
    infosCache.set(c, p);
  }
  return p;
}

function firstNumber(a: AttrValue | undefined): number | undefined {
  if (typeof a === 'number') return a;
  if (typeof a === 'bigint') return Number(a);
  if (Array.isArray(a) && a.length > 0) return Number(a[0]);
  return undefined;
}

function allocate(dtype: DType, n: number): NumericArray {
  switch (dtype) {
    case 'i1':
      return new Int8Array(n);
    case 'u1':
    case 'char':
      return new Uint8Array(n);
    case 'i2':
      return new Int16Array(n);
    case 'u2':
      return new Uint16Array(n);
    case 'i4':
      return new Int32Array(n);
    case 'u4':
      return new Uint32Array(n);
    case 'f4':
      return new Float32Array(n);
    case 'i8':
      return new BigInt64Array(n);
    case 'u8':
      return new BigUint64Array(n);
    default:
      return new Float64Array(n);
  }
}

/** The features of an instance slab, a page of catalog records at a time. */
async function* featuresOf(c: InSituCollection, slab: DapSlab): AsyncGenerator<FeatureRecord[]> {
  const wanted = slabCount(slab);
  let taken = 0;
  for (let offset = slab.start; taken < wanted; offset += PAGE) {
    const { records } = await c.features.page({}, offset, Math.min(PAGE, slab.stop + 1 - offset));
    if (records.length === 0) break;
    const picked = records.filter((_, k) => (offset + k - slab.start) % slab.stride === 0);
    taken += picked.length;
    if (picked.length > 0) yield picked;
  }
}

/** Consecutive rows of one file: read with one window. */
function runsOf(records: FeatureRecord[]): FeatureRecord[][] {
  const runs: FeatureRecord[][] = [];
  for (const r of records) {
    const run = runs[runs.length - 1];
    const prev = run?.[run.length - 1];
    if (run && prev && prev.source.file === r.source.file && prev.source.index + 1 === r.source.index) run.push(r);
    else runs.push([r]);
  }
  return runs;
}

interface ReadContext {
  c: InSituCollection;
  layout: Layout;
  v: SourceVar;
  fill: number;
}

/** Copies one run's window into the output rows, element and string slabs applied. */
function place(
  out: NumericArray,
  at: number,
  raw: NumericArray,
  rows: number,
  shape: { element: number; string: number },
  slabs: { element?: DapSlab; string?: DapSlab },
  read: { e0: number; s0: number },
): void {
  const ne = slabs.element ? slabCount(slabs.element) : 1;
  const ns = slabs.string ? slabCount(slabs.string) : 1;
  const target = out as unknown as { [i: number]: number | bigint };
  const source = raw as unknown as { [i: number]: number | bigint };
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < ne; j++) {
      const e = slabs.element ? slabs.element.start + j * slabs.element.stride - read.e0 : 0;
      if (e >= shape.element) break;
      for (let k = 0; k < ns; k++) {
        const s = slabs.string ? slabs.string.start + k * slabs.string.stride - read.s0 : 0;
        if (s >= shape.string) break;
        target[at + (r * ne + j) * ns + k] = source[(r * shape.element + e) * shape.string + s]!;
      }
    }
}

/** Values held in memory at once per variable (a block); a longer feature is read in pieces of its element slab. */
const MAX_BLOCK_VALUES = 1 << 20;

/** A slab cut into consecutive slabs of at most `n` indices each. */
function pieces(slab: DapSlab, n: number): DapSlab[] {
  const out: DapSlab[] = [];
  for (let start = slab.start; start <= slab.stop; start += n * slab.stride)
    out.push({ start, stride: slab.stride, stop: Math.min(slab.stop, start + (n - 1) * slab.stride) });
  return out;
}

/** The stored values of some features (in catalog order) over element and string slabs, fill where they have none. */
async function readRows(
  ctx: ReadContext,
  source: InSituSource,
  records: FeatureRecord[],
  element: DapSlab | undefined,
  string: DapSlab | undefined,
): Promise<NumericArray> {
  const { layout, v } = ctx;
  const per = (element ? slabCount(element) : 1) * (string ? slabCount(string) : 1);
  const out = allocate(v.info.dtype, records.length * per);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) out.fill(BigInt(ctx.fill));
  else out.fill(ctx.fill);
  let at = 0;
  for (const run of runsOf(records)) {
    const first = run[0]!;
    const info = await source.info(first.source.file);
    const fileElement = info.dims[layout.fileElement] ?? 1;
    const fileString = v.stringDim ? (info.dims[v.stringDim] ?? 0) : 1;
    const window: Window = {};
    if (v.hasInstance && layout.fileInstance)
      window[layout.fileInstance] = [first.source.index, first.source.index + run.length];
    const e0 = element?.start ?? 0;
    const e1 = element ? Math.min(element.stop + 1, fileElement) : 1;
    const s0 = string?.start ?? 0;
    const s1 = string ? Math.min(string.stop + 1, fileString) : 1;
    if (e0 < e1 && s0 < s1) {
      if (element) window[layout.fileElement] = [e0, e1];
      if (string) window[v.stringDim!] = [s0, s1];
      const raw = await source.raw(first.source.file, v.info.name, window);
      if (raw && !Array.isArray(raw.data)) {
        // A per-file variable (no instance dimension) holds the same values for every row of its run.
        const rows = v.hasInstance ? run.length : 1;
        const shape = { element: element ? e1 - e0 : 1, string: string ? s1 - s0 : 1 };
        for (let copy = 0; copy < (v.hasInstance ? 1 : run.length); copy++)
          place(
            out,
            at + copy * per,
            raw.data,
            rows,
            shape,
            { ...(element ? { element } : {}), ...(string ? { string } : {}) },
            { e0, s0 },
          );
      }
    }
    at += run.length * per;
  }
  return out;
}

/**
 * A variable's stored values over its slabs, in blocks of at most about MAX_BLOCK_VALUES: features a
 * catalog page at a time, grouped, and a feature longer than a block (a glider's year) piece by piece.
 */
async function* readVar(ctx: ReadContext, slabs: DapSlab[], signal: AbortSignal): AsyncGenerator<NumericArray> {
  const { c, v } = ctx;
  const [instance, ...rest] = slabs;
  const element = v.hasElement ? rest[0] : undefined;
  const string = v.stringDim ? rest[rest.length - 1] : undefined;
  const width = string ? slabCount(string) : 1;
  const per = (element ? slabCount(element) : 1) * width;
  const group = Math.max(1, Math.floor(MAX_BLOCK_VALUES / per));
  const source = new InSituSource(c, signal);
  try {
    for await (const page of featuresOf(c, instance!))
      for (let k = 0; k < page.length; k += group) {
        const records = page.slice(k, k + group);
        if (per <= MAX_BLOCK_VALUES || !element) yield await readRows(ctx, source, records, element, string);
        else
          for (const r of records)
            for (const piece of pieces(element, Math.max(1, Math.floor(MAX_BLOCK_VALUES / width))))
              yield await readRows(ctx, source, [r], piece, string);
      }
  } finally {
    await source.close();
  }
}

/** A variable's attributes in DAP2's types; a byte variable says with _Unsigned which bytes it holds (netCDF-C reads a DAP2 Byte as signed). */
function dap2AttrsOf(info: VariableInfo, attrs: Attrs): DapAttr[] {
  const type = info.dtype === 'char' || info.dtype === 'string' ? undefined : DAP_TYPE[info.dtype];
  const bytes = type === 'Byte';
  const out = dapAttrs(attrs, type, info.dtype === 'i1', new Set(bytes ? ['_Unsigned'] : []));
  const declared = typeof attrs['_Unsigned'] === 'string' ? attrs['_Unsigned'] : undefined;
  if (bytes)
    out.push({ name: '_Unsigned', type: 'String', values: [declared ?? (info.dtype === 'i1' ? 'false' : 'true')] });
  return out;
}

const ID_NAMES: Record<Layout['featureType'], string> = {
  profile: 'profile_id',
  trajectory: 'trajectory_id',
  timeSeries: 'timeseries_id',
};

async function* featureIds(c: InSituCollection, slab: DapSlab): AsyncGenerator<string[]> {
  for await (const page of featuresOf(c, slab)) yield page.map((r) => r.id);
}

/**
 * The instance variable CF wants (`cf_role`), when the files have none: each feature's id in the
 * catalog, which is also its item at /collections/{id}/items/{featureId}.
 */
function idVariable(
  c: InSituCollection,
  layout: Layout,
  vars: SourceVar[],
): { variable: Dap4Variable; attrs: Attrs } | undefined {
  const name = ID_NAMES[layout.featureType];
  if (vars.some((v) => v.info.attrs['cf_role'] !== undefined || v.info.name === name)) return undefined;
  const attrs: Attrs = {
    cf_role: name,
    long_name: `Feature id (the item /collections/${c.id}/items/{id})`,
  };
  return {
    variable: {
      name,
      dtype: 'string',
      dims: [layout.instance],
      attrs: dap4Attrs(attrs),
      maps: [],
      open: ([slab]) => featureIds(c, slab!),
    },
    attrs,
  };
}

/** The largest element count over the listed files and the catalog's per-feature counts. */
function elementSize(c: InSituCollection, layout: Layout, infos: DatasetInfo[]): number {
  let n = 0;
  for (const info of infos) n = Math.max(n, info.dims[layout.fileElement] ?? 0);
  for (const key of ['n_levels', 'n_observations', 'n_measurements']) n = Math.max(n, c.features.range(key)?.[1] ?? 0);
  return n;
}

/** The DSG view of an in-situ collection (see the top of this file). */
export async function inSituDap(c: InSituCollection): Promise<InSituDap> {
  const infos = await collectionInfos(c);
  const layout = layoutOf(c, infos[0]!);
  const vars = sourceVars(layout, infos);
  const stringSizes = new Map<string, number>();
  for (const v of vars)
    if (v.stringDim)
      for (const info of infos)
        stringSizes.set(v.stringDim, Math.max(stringSizes.get(v.stringDim) ?? 0, info.dims[v.stringDim] ?? 0));
  const dims = [
    { name: layout.instance, size: c.features.size },
    { name: layout.element, size: elementSize(c, layout, infos) },
    ...[...stringSizes].map(([name, size]) => ({ name, size })),
  ];
  // A folder's features have different lengths: their padding needs a declared fill value.
  const padded = c.fileCount > 1;
  const dap2Attrs = new Map<string, DapAttr[]>();
  const variables: Dap4Variable[] = vars.map((v) => {
    const { info } = v;
    const declared = firstNumber(info.attrs['_FillValue'] ?? info.attrs['missing_value']);
    const charFill = typeof info.attrs['_FillValue'] === 'string' ? info.attrs['_FillValue'].charCodeAt(0) : undefined;
    const fill = charFill ?? declared ?? DEFAULT_FILL[info.dtype] ?? 0;
    const own: Attrs =
      padded && declared === undefined && charFill === undefined && info.dtype !== 'char'
        ? { ...info.attrs, _FillValue: fill }
        : info.attrs;
    const attrs: Dap4Attr[] = dap4Attrs(own, DAP4_TYPE[info.dtype]);
    dap2Attrs.set(info.name, dap2AttrsOf(info, own));
    const ctx: ReadContext = { c, layout, v, fill };
    return {
      name: info.name,
      dtype: info.dtype,
      dims: [layout.instance, ...(v.hasElement ? [layout.element] : []), ...(v.stringDim ? [v.stringDim] : [])],
      attrs,
      maps: [],
      open: (slabs, signal) => readVar(ctx, slabs, signal),
    };
  });
  const id = idVariable(c, layout, vars);
  if (id) {
    variables.unshift(id.variable);
    dap2Attrs.set(id.variable.name, dapAttrs(id.attrs, undefined, false, new Set()));
  }
  const globalAttrs = { ...infos[0]!.attrs, title: c.title, featureType: layout.featureType };
  return {
    dataset: { name: c.id, dims, variables, globals: dap4Attrs(globalAttrs) },
    stringDims: new Set(stringSizes.keys()),
    dap2Attrs,
    dap2Globals: dapAttrs(globalAttrs, undefined, false, new Set()),
  };
}
