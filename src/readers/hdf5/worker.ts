/**
 * Worker thread that reads NetCDF-4 / HDF5 files with h5wasm. h5wasm is synchronous, so every call
 * here blocks only this thread, never the server's event loop.
 *
 * Answers two requests from src/readers/hdf5/reader.ts through the pool protocol (./pool.ts):
 * - `info`: NetCDF-4 conventions (dimension scales, hidden attributes, char variables) mapped to
 *   the shapes of src/readers/types.ts; raw attribute values, no CF decoding.
 * - `read`: one hyperslab of one dataset, returned as a transferable typed array.
 *
 * The main thread may only `import type` from here: importing the module instantiates h5wasm.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import h5wasm, { type Dataset, type File as H5File, type Group, type Metadata } from 'h5wasm/node';
import type { Attrs, AttrValue, DatasetInfo, DType, NumericArray, VariableInfo } from '../types.js';
import { TYPED_ARRAY } from '../dtype.js';
import { serveTasks, type SerializedError, type TaskOutcome } from '../../workers/pool.js';

// ---- protocol (shared with the reader through `import type`) -------------------------------

export type Hdf5Request =
  | { op: 'info'; path: string }
  /** `start`/`count` per dimension of the dataset, already clamped to its shape by the caller. */
  | { op: 'read'; path: string; dataset: string; start: number[]; count: number[] };

export interface Hdf5VariableMeta extends VariableInfo {
  /** Absolute HDF5 path of the dataset behind this variable. */
  h5path: string;
  /** HDF5 filter ids of the dataset's pipeline, in order. */
  filters: number[];
  /**
   * File address of the dataset's object header (relative to the superblock base), from an HDF5
   * object reference: where chunk-direct reading starts parsing. Absent if HDF5 would not give one.
   */
  objectAddress?: number;
}

export interface Hdf5InfoResult extends Omit<DatasetInfo, 'variables'> {
  kind: 'info';
  variables: Hdf5VariableMeta[];
}

export interface Hdf5ReadResult {
  kind: 'read';
  dtype: DType;
  shape: number[];
  data: NumericArray | string[];
}

export type Hdf5Response = Hdf5InfoResult | Hdf5ReadResult;

/** Error kinds the reader maps back to its error classes. */
export type Hdf5ErrorCode = 'corrupt' | 'request' | 'filter' | 'notfound';

export interface Hdf5WorkerOptions {
  /** Open h5wasm files kept per worker (LRU). */
  maxOpenFiles?: number;
  /** The wasm heap never shrinks: past this size the worker asks to be replaced. */
  retireHeapBytes?: number;
}

// ---- errors --------------------------------------------------------------------------------

class Hdf5Fault extends Error {
  constructor(
    readonly code: Hdf5ErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'Hdf5Fault';
  }
}

/** The deepest frame of an HDF5-DIAG stack says what actually went wrong; the rest is call chain. */
function summarizeHdf5Error(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (!text.includes('HDF5-DIAG')) return text;
  const frames = [...text.matchAll(/#\d+: [^\n]*? in [^\n(]*\(\): ([^\n]*)\n\s*major: ([^\n]*)\n\s*minor: ([^\n]*)/g)];
  const last = frames.at(-1);
  if (!last) return text.split('\n').slice(0, 2).join(' ').trim();
  const [, message = '', , minor = ''] = last;
  return `${message.trim()} (${minor.trim()})`;
}

/** A wasm trap or emscripten abort (WebAssembly.RuntimeError; the compile libs here do not type it). */
function isWasmTrap(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuntimeError';
}

function serializeError(err: unknown): SerializedError {
  if (err instanceof Hdf5Fault) return { name: err.name, message: err.message, code: err.code, data: err.data };
  if (err instanceof Error) return { name: err.name, message: summarizeHdf5Error(err) };
  return { name: 'Error', message: String(err) };
}

// ---- h5wasm setup --------------------------------------------------------------------------

type H5Module = Awaited<typeof h5wasm.ready>;
let M: H5Module;

const BUILTIN_FILTERS: ReadonlyMap<number, string> = new Map([
  [1, 'deflate'],
  [2, 'shuffle'],
  [3, 'fletcher32'],
  [4, 'szip'],
]);
/** Filters from h5wasm-plugins we accept, with the plugin file that provides each. */
const PLUGIN_FILTERS: ReadonlyMap<number, { name: string; file: string }> = new Map([
  [32015, { name: 'zstd', file: 'libH5Zzstd.so' }],
  [32001, { name: 'blosc', file: 'libH5Zblosc.so' }],
  [32004, { name: 'lz4', file: 'libH5Zlz4.so' }],
  [307, { name: 'bzip2', file: 'libH5Zbz2.so' }],
]);
const KNOWN_FILTER_NAMES: ReadonlyMap<number, string> = new Map([
  [5, 'nbit'],
  [6, 'scaleoffset'],
  [32000, 'lzf'],
  [32008, 'bitshuffle'],
  [32013, 'zfp'],
  [32017, 'sz'],
  [32019, 'jpeg'],
  [32022, 'bitgroom'],
  [32023, 'bitround'],
  [32026, 'blosc2'],
]);
/** Filter ids this worker can decode: built-ins plus the plugins whose file was found. */
const supportedFilters = new Set<number>(BUILTIN_FILTERS.keys());

function filterName(id: number): string {
  return BUILTIN_FILTERS.get(id) ?? PLUGIN_FILTERS.get(id)?.name ?? KNOWN_FILTER_NAMES.get(id) ?? 'unknown';
}

async function init(): Promise<void> {
  M = await h5wasm.ready;
  // Without it, HDF5 errors (a missing filter, a truncated chunk) print to stderr and the read
  // returns whatever was in the buffer.
  M.activate_throwing_error_handler();
  registerPlugins();
}

function registerPlugins(): void {
  let dir: string;
  try {
    const pkg = createRequire(import.meta.url).resolve('h5wasm-plugins/package.json');
    dir = path.join(path.dirname(pkg), 'plugins');
  } catch {
    return; // not installed: only built-in filters
  }
  // NODERAWFS: HDF5's dlopen sees the real filesystem, so the package folder works as is.
  if (M.insert_plugin_search_path(dir, 0) < 0) return;
  for (const [id, plugin] of PLUGIN_FILTERS) {
    if (fs.existsSync(path.join(dir, plugin.file))) supportedFilters.add(id);
  }
}

// ---- open files (LRU) ----------------------------------------------------------------------

interface DatasetEntry {
  meta: Metadata;
  dtype: DType | undefined;
  filters: number[];
}

interface OpenFile {
  file: H5File;
  mtimeMs: number;
  size: number;
  info?: Hdf5InfoResult;
  datasets: Map<string, DatasetEntry>;
}

class FileCache {
  private readonly files = new Map<string, OpenFile>();
  constructor(private readonly capacity: number) {}

  get(filePath: string): OpenFile {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(filePath);
    } catch (err) {
      this.evict(filePath); // a deleted file must not pin its old handle
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Hdf5Fault('notfound', `${filePath}: no such file`, { path: filePath });
      throw err;
    }
    let entry = this.files.get(filePath);
    // A file replaced on disk must not be served from the old handle.
    if (entry && (entry.mtimeMs !== stat.mtimeMs || entry.size !== stat.size)) {
      this.evict(filePath);
      entry = undefined;
    }
    if (entry) {
      this.files.delete(filePath); // re-insert: most recently used last
      this.files.set(filePath, entry);
      return entry;
    }
    if (!stat.isFile()) throw new Hdf5Fault('corrupt', `${filePath}: not a regular file`, { path: filePath });
    let file: H5File;
    try {
      file = new h5wasm.File(filePath, 'r');
    } catch (err) {
      throw new Hdf5Fault('corrupt', `${filePath}: not a readable HDF5 file: ${summarizeHdf5Error(err)}`, {
        path: filePath,
      });
    }
    entry = { file, mtimeMs: stat.mtimeMs, size: stat.size, datasets: new Map() };
    this.files.set(filePath, entry);
    while (this.files.size > this.capacity) {
      const oldest = this.files.keys().next().value as string;
      this.evict(oldest);
    }
    return entry;
  }

  private evict(filePath: string): void {
    const entry = this.files.get(filePath);
    this.files.delete(filePath);
    try {
      entry?.file.close();
    } catch {
      // a handle HDF5 cannot close is still dropped; nothing else to do from here
    }
  }
}

// ---- type mapping --------------------------------------------------------------------------

const UNLIMITED_THRESHOLD = Number.MAX_SAFE_INTEGER; // h5wasm reports H5S_UNLIMITED as 2**64 - 1

function dtypeOf(meta: Metadata): DType | undefined {
  const cls = M.H5T_class_t;
  const type = meta.type === cls.H5T_ENUM.value ? (meta.enum_type?.type ?? -1) : meta.type;
  if (type === cls.H5T_INTEGER.value) {
    const sign = meta.signed ? 'i' : 'u';
    if (meta.size === 1 || meta.size === 2 || meta.size === 4 || meta.size === 8) {
      return `${sign}${meta.size}` as DType;
    }
    return undefined;
  }
  if (type === cls.H5T_FLOAT.value) {
    if (meta.size === 4) return 'f4';
    if (meta.size === 8) return 'f8';
    return undefined; // float16 and friends: not in DType
  }
  if (type === cls.H5T_STRING.value) {
    // NetCDF-4 stores NC_CHAR as a fixed-length string of size 1, one element per character.
    if (!meta.vlen && meta.size === 1) return 'char';
    return 'string';
  }
  return undefined; // compound, reference, opaque, vlen sequences, arrays, bitfields
}

function isUnlimited(maxshape: number[] | null, axis: number): boolean {
  return (maxshape?.[axis] ?? 0) > UNLIMITED_THRESHOLD;
}

// ---- attributes ----------------------------------------------------------------------------

/** Bookkeeping attributes of netCDF-4 and the HDF5 dimension-scale API. */
const HIDDEN_ATTRS = new Set([
  '_Netcdf4Dimid',
  '_Netcdf4Coordinates',
  '_NCProperties',
  'DIMENSION_LIST',
  'REFERENCE_LIST',
  '_nc3_strict',
  '_IsNetcdf4',
]);
/** Hidden only on dimension scales: elsewhere they are ordinary user attributes. */
const HIDDEN_SCALE_ATTRS = new Set(['CLASS', 'NAME']);
const NETCDF_DIM_ONLY = 'This is a netCDF dimension but not a netCDF variable';
const NON_COORD_PREFIX = '_nc4_non_coord_';

function toAttrValue(raw: unknown): AttrValue | undefined {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'bigint') return raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    const values = Array.from(raw);
    return values.length === 1 ? values[0] : values;
  }
  if (ArrayBuffer.isView(raw)) {
    const values = Array.from(raw as Exclude<NumericArray, BigInt64Array | BigUint64Array>);
    // netCDF attributes are always 1-D: a single value reads as a scalar, as in netCDF4-python.
    return values.length === 1 ? values[0] : values;
  }
  if (Array.isArray(raw) && raw.every((v): v is string => typeof v === 'string')) {
    // NC_STRING attribute arrays: AttrValue has no string[]; one value per line keeps them all.
    return raw.length === 1 ? raw[0] : raw.join('\n');
  }
  return undefined;
}

function readAttrs(entity: Dataset | Group, names: string[], isScale: boolean): Attrs {
  const attrs: Attrs = {};
  for (const name of names) {
    if (HIDDEN_ATTRS.has(name) || (isScale && HIDDEN_SCALE_ATTRS.has(name))) continue;
    const meta = M.get_attribute_metadata(entity.file_id, entity.path, name);
    if (dtypeOf(meta) === undefined) continue; // compound/reference attributes have no AttrValue
    const raw = entity.get_attribute(name, false);
    // An array of 1-byte strings (plain HDF5 |S1) is one text, not one line per character.
    const value = dtypeOf(meta) === 'char' && Array.isArray(raw) ? raw.join('') : toAttrValue(raw);
    if (value !== undefined) attrs[name] = value;
  }
  return attrs;
}

function readStringAttr(entity: Dataset, name: string): string | undefined {
  const value = toAttrValue(entity.get_attribute(name, false));
  return typeof value === 'string' ? value : undefined;
}

// ---- info: NetCDF-4 data model -------------------------------------------------------------

interface DatasetRecord {
  h5path: string;
  /** Variable name: the path without its leading slash. */
  name: string;
  ds: Dataset;
  meta: Metadata;
  attrNames: string[];
  isScale: boolean;
  dimOnly: boolean;
  dimid?: number;
}

interface DimRecord {
  name: string;
  length: number;
  unlimited: boolean;
  dimid?: number;
  order: number;
}

function variableName(h5path: string): string {
  const rel = h5path.replace(/^\/+/, '');
  const slash = rel.lastIndexOf('/');
  const base = rel.slice(slash + 1);
  const stripped = base.startsWith(NON_COORD_PREFIX) ? base.slice(NON_COORD_PREFIX.length) : base;
  return rel.slice(0, slash + 1) + stripped;
}

function collectDatasets(file: H5File): DatasetRecord[] {
  const records: DatasetRecord[] = [];
  for (const rel of file.paths()) {
    const h5path = '/' + rel.replace(/^\/+/, '');
    if (M.get_type(file.file_id, h5path) !== M.H5G_DATASET) continue;
    const ds = new h5wasm.Dataset(file.file_id, h5path);
    const meta = ds.metadata;
    const attrNames = M.get_attribute_names(file.file_id, h5path);
    const isScale = attrNames.includes('CLASS') && readStringAttr(ds, 'CLASS') === 'DIMENSION_SCALE';
    const scaleName = isScale && attrNames.includes('NAME') ? readStringAttr(ds, 'NAME') : undefined;
    let dimid: number | undefined;
    if (attrNames.includes('_Netcdf4Dimid')) {
      const v = toAttrValue(ds.get_attribute('_Netcdf4Dimid', false));
      if (typeof v === 'number') dimid = v;
    }
    records.push({
      h5path,
      name: variableName(h5path),
      ds,
      meta,
      attrNames,
      isScale,
      dimOnly: isScale && (scaleName ?? '').startsWith(NETCDF_DIM_ONLY),
      dimid: isScale ? dimid : undefined,
    });
  }
  return records;
}

/**
 * An HDF5 object reference (hobj_ref_t, 8 bytes) is the object's header address: h5wasm has no
 * call that returns the address itself, but it creates references.
 */
function objectAddressOf(fileId: bigint, h5path: string): number | undefined {
  try {
    const ref = M.create_object_reference(fileId, h5path);
    if (ref.length !== 8) return undefined;
    let address = 0;
    for (let i = 7; i >= 0; i--) address = address * 256 + ref[i]!;
    return Number.isSafeInteger(address) ? address : undefined;
  } catch {
    return undefined; // no reference, no direct reads: h5wasm serves the variable
  }
}

function buildInfo(file: H5File): Hdf5InfoResult {
  const records = collectDatasets(file);
  let order = 0;

  // Dimensions declared by dimension scales, keyed by the scale's HDF5 path.
  const scaleDims = new Map<string, DimRecord>();
  const dimsById = new Map<number, DimRecord>();
  for (const r of records) {
    if (!r.isScale) continue;
    const shape = r.meta.shape ?? [];
    const dim: DimRecord = {
      name: r.h5path.replace(/^\/+/, ''),
      length: shape[0] ?? 0,
      unlimited: isUnlimited(r.meta.maxshape, 0),
      dimid: r.dimid,
      order: order++,
    };
    scaleDims.set(r.h5path, dim);
    if (r.dimid !== undefined) dimsById.set(r.dimid, dim);
  }

  // Plain HDF5 axes get netCDF-C style phony dimensions, shared by equal length across datasets.
  const phony: DimRecord[] = [];
  const phonyFor = (length: number, unlimited: boolean, taken: Set<DimRecord>): DimRecord => {
    let dim = phony.find((d) => d.length === length && d.unlimited === unlimited && !taken.has(d));
    if (!dim) {
      dim = { name: `phony_dim_${phony.length}`, length, unlimited, order: order++ };
      phony.push(dim);
    }
    return dim;
  };

  const variables: Hdf5VariableMeta[] = [];
  for (const r of records) {
    if (r.dimOnly) continue;
    const dtype = dtypeOf(r.meta);
    if (dtype === undefined) continue; // no DType for it (e.g. BAG's compound tracking_list)
    const shape = r.meta.shape ?? [];
    const coordinates = r.attrNames.includes('_Netcdf4Coordinates')
      ? toAttrValue(r.ds.get_attribute('_Netcdf4Coordinates', false))
      : undefined;
    const dimids = typeof coordinates === 'number' ? [coordinates] : Array.isArray(coordinates) ? coordinates : [];
    const hasDimList = r.attrNames.includes('DIMENSION_LIST');
    const taken = new Set<DimRecord>();
    const dims: DimRecord[] = shape.map((len, axis) => {
      let dim: DimRecord | undefined;
      if (hasDimList) {
        for (const scalePath of M.get_attached_scales(r.ds.file_id, r.h5path, axis)) {
          dim = scaleDims.get(scalePath);
          if (dim) break;
        }
      }
      if (!dim && r.isScale && axis === 0) dim = scaleDims.get(r.h5path);
      if (!dim && typeof dimids[axis] === 'number') dim = dimsById.get(dimids[axis] as number);
      if (!dim) dim = phonyFor(len, isUnlimited(r.meta.maxshape, axis), taken);
      taken.add(dim);
      // netCDF-C: an unlimited dimension is as long as its longest variable (the scale itself
      // may hold fewer records, even none, as in the NSIDC sea-ice file).
      dim.length = Math.max(dim.length, len);
      return dim;
    });
    const filters = r.meta.chunks ? r.ds.filters.map((f) => f.id) : [];
    const variable: Hdf5VariableMeta = {
      name: r.name,
      dtype,
      dims: dims.map((d) => d.name),
      shape: [...shape],
      attrs: readAttrs(r.ds, r.attrNames, r.isScale),
      h5path: r.h5path,
      filters,
    };
    if (r.meta.chunks) variable.chunks = [...r.meta.chunks];
    const objectAddress = objectAddressOf(r.ds.file_id, r.h5path);
    if (objectAddress !== undefined) variable.objectAddress = objectAddress;
    variables.push(variable);
  }

  const allDims = [...scaleDims.values(), ...phony].sort((a, b) => {
    if (a.dimid !== undefined && b.dimid !== undefined) return a.dimid - b.dimid;
    if (a.dimid !== undefined) return -1;
    if (b.dimid !== undefined) return 1;
    return a.order - b.order;
  });
  const dims: Record<string, number> = {};
  for (const d of allDims) dims[d.name] = d.length;
  const root = file as Group;
  const result: Hdf5InfoResult = {
    kind: 'info',
    format: 'hdf5',
    dims,
    variables,
    attrs: readAttrs(root, M.get_attribute_names(file.file_id, '/'), false),
  };
  const unlimited = allDims.find((d) => d.unlimited);
  if (unlimited) result.unlimited = unlimited.name;
  return result;
}

// ---- read ----------------------------------------------------------------------------------

function datasetEntry(open: OpenFile, filePath: string, h5path: string): DatasetEntry {
  let entry = open.datasets.get(h5path);
  if (entry) return entry;
  if (M.get_type(open.file.file_id, h5path) !== M.H5G_DATASET) {
    throw new Hdf5Fault('request', `${filePath}: no dataset ${h5path}`);
  }
  const ds = new h5wasm.Dataset(open.file.file_id, h5path);
  const meta = ds.metadata;
  entry = { meta, dtype: dtypeOf(meta), filters: meta.chunks ? ds.filters.map((f) => f.id) : [] };
  open.datasets.set(h5path, entry);
  return entry;
}

function checkFilters(entry: DatasetEntry, filePath: string, h5path: string): void {
  for (const id of entry.filters) {
    if (!supportedFilters.has(id)) {
      const name = filterName(id);
      throw new Hdf5Fault(
        'filter',
        `${filePath}: dataset ${h5path} uses HDF5 filter ${id} (${name}), which this server cannot decode`,
        { path: filePath, dataset: h5path, filterId: id, filterName: name },
      );
    }
  }
}

function readDataset(
  open: OpenFile,
  filePath: string,
  h5path: string,
  start: number[],
  count: number[],
): TaskOutcome<Hdf5ReadResult> {
  const entry = datasetEntry(open, filePath, h5path);
  const { meta, dtype } = entry;
  if (dtype === undefined) throw new Hdf5Fault('request', `${filePath}: dataset ${h5path} has no supported type`);
  const shape = meta.shape ?? [];
  if (start.length !== shape.length || count.length !== shape.length) {
    throw new Hdf5Fault('request', `${filePath}: ${h5path} has ${shape.length} dimensions, got ${start.length}`);
  }
  for (let i = 0; i < shape.length; i++) {
    const s = start[i] as number;
    const c = count[i] as number;
    if (!Number.isInteger(s) || !Number.isInteger(c) || s < 0 || c < 0 || s + c > (shape[i] as number)) {
      throw new Hdf5Fault(
        'request',
        `${filePath}: ${h5path} window [${s}, ${s + c}) outside [0, ${shape[i]}) on axis ${i}`,
      );
    }
  }
  checkFilters(entry, filePath, h5path);

  const total = count.reduce((a, b) => a * b, 1);
  if (total === 0) {
    const data = dtype === 'string' ? [] : new TYPED_ARRAY[dtype](new ArrayBuffer(0));
    return { value: { kind: 'read', dtype, shape: count, data } };
  }
  try {
    if (dtype === 'string') {
      // h5wasm decodes fixed and variable-length strings (and frees vlen memory) in slice().
      const ds = new h5wasm.Dataset(open.file.file_id, h5path);
      const out = ds.slice(start.map((s, i) => [s, s + (count[i] as number)] as [number, number]));
      const data = Array.isArray(out) ? out.map(String) : [String(out)];
      return { value: { kind: 'read', dtype, shape: count, data } };
    }
    // Raw bytes straight from the hyperslab read: slice() would decode chars into strings and
    // unwrap scalars, and we want neither.
    const nbytes = total * meta.size;
    if (nbytes > M.MAXIMUM_MEMORY / 2) {
      throw new Hdf5Fault('request', `${filePath}: window of ${h5path} needs ${nbytes} bytes, over the worker's limit`);
    }
    const ptr = M._malloc(nbytes);
    if (ptr === 0) throw new Hdf5Fault('request', `${filePath}: cannot allocate ${nbytes} bytes for ${h5path}`);
    let bytes: Uint8Array;
    try {
      const scalar = shape.length === 0;
      M.get_dataset_data(
        open.file.file_id,
        h5path,
        scalar ? null : count.map(BigInt),
        scalar ? null : start.map(BigInt),
        scalar ? null : count.map(() => 1n),
        BigInt(ptr),
      );
      bytes = M.HEAPU8.slice(ptr, ptr + nbytes); // a fresh ArrayBuffer, transferable
    } finally {
      M._free(ptr);
    }
    const data = new TYPED_ARRAY[dtype](bytes.buffer as ArrayBuffer);
    return { value: { kind: 'read', dtype, shape: count, data }, transfer: [bytes.buffer as ArrayBuffer] };
  } catch (err) {
    if (err instanceof Hdf5Fault) throw err;
    if (isWasmTrap(err)) throw err;
    const plugins = entry.filters.filter((id) => !BUILTIN_FILTERS.has(id));
    const hint = plugins.length > 0 ? ` (filters ${plugins.map((id) => `${id} ${filterName(id)}`).join(', ')})` : '';
    throw new Hdf5Fault('corrupt', `${filePath}: cannot read ${h5path}${hint}: ${summarizeHdf5Error(err)}`, {
      path: filePath,
    });
  }
}

// ---- serve ---------------------------------------------------------------------------------

function handle(files: FileCache, request: Hdf5Request): TaskOutcome<Hdf5Response> {
  const open = files.get(request.path);
  if (request.op === 'info') {
    if (!open.info) {
      try {
        open.info = buildInfo(open.file);
      } catch (err) {
        if (err instanceof Hdf5Fault || isWasmTrap(err)) throw err;
        throw new Hdf5Fault('corrupt', `${request.path}: unreadable metadata: ${summarizeHdf5Error(err)}`, {
          path: request.path,
        });
      }
    }
    return { value: open.info };
  }
  return readDataset(open, request.path, request.dataset, request.start, request.count);
}

if (!isMainThread) {
  const options = (workerData ?? {}) as Hdf5WorkerOptions;
  const files = new FileCache(Math.max(1, options.maxOpenFiles ?? 16));
  const retireHeapBytes = options.retireHeapBytes ?? 512 * 1024 * 1024;
  serveTasks<Hdf5Request, Hdf5Response>((request) => handle(files, request), {
    init,
    serializeError,
    // A wasm trap leaves the module in an unknown state; a grown heap is never given back.
    shouldRetire: (err) => isWasmTrap(err) || (M !== undefined && M.HEAPU8.length > retireHeapBytes),
  });
}
