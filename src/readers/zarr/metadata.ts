/**
 * Zarr v2 metadata of a local directory store: consolidated `.zmetadata` when present, else the
 * root `.zgroup`/`.zattrs` and each array's `.zarray`/`.zattrs`. Dimension names come from xarray's
 * `_ARRAY_DIMENSIONS` attribute. Only the root group's arrays are variables (a child group is another
 * dataset in xarray's model). Nothing here reads chunk data.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AttrValue, Attrs, DType } from '../types.js';
import { CorruptFileError } from '../types.js';

/** A compressor or filter as stored: `id` plus its codec-specific parameters. */
export interface CodecConfig {
  id: string;
  [param: string]: unknown;
}

/** One array of the store, resolved for reading. */
export interface ZarrArrayMeta {
  /** Variable name (the array's key in the root group). */
  name: string;
  /** Directory of the array's chunks, relative to the store ('' for a store that is one array). */
  key: string;
  /** Dtype as written in `.zarray`, e.g. '<f4', '>i2', '|S8'. */
  zarrDtype: string;
  /** Public dtype; undefined when the dtype is not supported (then `unsupported` says why). */
  dtype: DType | undefined;
  unsupported?: string;
  /** Bytes per element of the public array (1 for fixed strings, which gain a trailing dimension). */
  itemBytes: number;
  /** Stored bytes are big-endian and need swapping on this (little-endian) host. */
  bigEndian: boolean;
  /** Public dims and shape: `|S<n>` with n > 1 gets a trailing `string<n>` dimension of length n. */
  dims: string[];
  shape: number[];
  chunks: number[];
  /** Rank of the chunk grid in chunk keys (the stored array's rank: no key part for the string dimension). */
  keyRank: number;
  order: string;
  separator: '.' | '/';
  compressor: CodecConfig | null;
  filters: CodecConfig[];
  /** Bytes of one element (public item) with the fill value, in stored byte order; undefined → zeros. */
  fillBytes: Uint8Array | undefined;
  attrs: Attrs;
}

export interface ZarrStoreMeta {
  consolidated: boolean;
  dims: Record<string, number>;
  arrays: ZarrArrayMeta[];
  attrs: Attrs;
}

const NAN_TOKEN = '\u0000odas:NaN';
const INF_TOKEN = '\u0000odas:Infinity';
const NEG_INF_TOKEN = '\u0000odas:-Infinity';

/**
 * JSON as Python writes it: bare NaN, Infinity and -Infinity outside strings are legal there
 * (zarr-python's default `allow_nan=True`), so they are turned into tokens before JSON.parse.
 */
export function parsePythonJson(text: string): unknown {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (text.startsWith('NaN', i)) {
      out += JSON.stringify(NAN_TOKEN);
      i += 3;
    } else if (text.startsWith('-Infinity', i)) {
      out += JSON.stringify(NEG_INF_TOKEN);
      i += 9;
    } else if (text.startsWith('Infinity', i)) {
      out += JSON.stringify(INF_TOKEN);
      i += 8;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out, (_key, value: unknown) => {
    if (value === NAN_TOKEN) return Number.NaN;
    if (value === INF_TOKEN) return Number.POSITIVE_INFINITY;
    if (value === NEG_INF_TOKEN) return Number.NEGATIVE_INFINITY;
    return value;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A key from metadata (an array name) made safe to join to the store path: relative, no `..`, no
 * empty, `.` or backslash segments, no NUL. Anything else is refused: metadata must never send a
 * read outside the store.
 */
export function checkStoreKey(store: string, key: string): void {
  const bad =
    key.length === 0 ||
    key.includes('\0') ||
    key.includes('\\') ||
    key.startsWith('/') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  const resolved = path.resolve(store, key);
  if (bad || !resolved.startsWith(path.resolve(store) + path.sep)) {
    throw new CorruptFileError(
      store,
      `metadata names the key ${JSON.stringify(key)}, which is not a plain path inside the store (refused)`,
    );
  }
}

/** JSON attribute values → Attrs: numbers, strings, numeric arrays; booleans as 0/1; anything else as JSON text. */
function toAttrs(raw: Record<string, unknown>): Attrs {
  const attrs: Attrs = {};
  for (const [name, value] of Object.entries(raw)) {
    const v = toAttrValue(value);
    if (v !== undefined) attrs[name] = v;
  }
  return attrs;
}

function toAttrValue(value: unknown): AttrValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'number')) return value as number[];
    if (value.every((x) => typeof x === 'boolean')) return value.map((x) => (x ? 1 : 0));
    // netCDF has no string-array attribute in the classic model: keep the values readable.
    if (value.every((x) => typeof x === 'string'))
      return value.length === 1 ? (value[0] as string) : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

interface DtypeInfo {
  dtype: DType | undefined;
  unsupported?: string;
  itemBytes: number;
  bigEndian: boolean;
  /** Fixed-string width when > 1 (adds a trailing dimension). */
  stringWidth?: number;
}

const NUMERIC: Record<string, DType> = {
  i1: 'i1',
  u1: 'u1',
  i2: 'i2',
  u2: 'u2',
  i4: 'i4',
  u4: 'u4',
  i8: 'i8',
  u8: 'u8',
  f4: 'f4',
  f8: 'f8',
  b1: 'u1',
};

function parseDtype(zarrDtype: unknown): DtypeInfo {
  if (typeof zarrDtype !== 'string') {
    return {
      dtype: undefined,
      unsupported: `structured dtype ${JSON.stringify(zarrDtype)}`,
      itemBytes: 0,
      bigEndian: false,
    };
  }
  const m = /^([<>|])([a-zA-Z])(\d+)$/.exec(zarrDtype);
  if (!m) return { dtype: undefined, unsupported: `dtype "${zarrDtype}"`, itemBytes: 0, bigEndian: false };
  const [, order, kind, sizeText] = m as unknown as [string, string, string, string];
  const size = Number(sizeText);
  if (kind === 'S' && size >= 1) {
    return { dtype: 'char', itemBytes: 1, bigEndian: false, ...(size > 1 ? { stringWidth: size } : {}) };
  }
  const dtype = NUMERIC[`${kind}${size}`];
  if (!dtype) return { dtype: undefined, unsupported: `dtype "${zarrDtype}"`, itemBytes: 0, bigEndian: false };
  return { dtype, itemBytes: size, bigEndian: order === '>' && size > 1 };
}

/** The fill value of one public element, as bytes in stored order; undefined when absent (zeros). */
function fillBytesOf(info: DtypeInfo, fill: unknown): Uint8Array | undefined {
  if (fill === null || fill === undefined || info.dtype === undefined) return undefined;
  if (info.dtype === 'char') {
    // zarr-python writes bytes fill values base64-encoded; each public element is one byte of it.
    if (typeof fill !== 'string') return undefined;
    const bytes = Buffer.from(fill, 'base64');
    return bytes.length > 0 && bytes[0] !== 0 ? new Uint8Array([bytes[0]!]) : undefined;
  }
  const value = typeof fill === 'string' ? Number(fill) : fill;
  if (typeof value !== 'number') return undefined;
  const buf = Buffer.alloc(info.itemBytes);
  const le = !info.bigEndian;
  switch (info.dtype) {
    case 'i1':
      buf.writeInt8(value);
      break;
    case 'u1':
      buf.writeUInt8(value);
      break;
    case 'i2':
      if (le) buf.writeInt16LE(value);
      else buf.writeInt16BE(value);
      break;
    case 'u2':
      if (le) buf.writeUInt16LE(value);
      else buf.writeUInt16BE(value);
      break;
    case 'i4':
      if (le) buf.writeInt32LE(value);
      else buf.writeInt32BE(value);
      break;
    case 'u4':
      if (le) buf.writeUInt32LE(value);
      else buf.writeUInt32BE(value);
      break;
    case 'i8':
      if (le) buf.writeBigInt64LE(BigInt(value));
      else buf.writeBigInt64BE(BigInt(value));
      break;
    case 'u8':
      if (le) buf.writeBigUInt64LE(BigInt(value));
      else buf.writeBigUInt64BE(BigInt(value));
      break;
    case 'f4':
      if (le) buf.writeFloatLE(value);
      else buf.writeFloatBE(value);
      break;
    case 'f8':
      if (le) buf.writeDoubleLE(value);
      else buf.writeDoubleBE(value);
      break;
    default:
      return undefined;
  }
  return buf.every((b) => b === 0) ? undefined : new Uint8Array(buf);
}

/** `_FillValue` as xarray shows it: the raw stored value (NaN stays NaN), bigint for 64-bit integers. */
function fillAttr(info: DtypeInfo, fill: unknown): AttrValue | undefined {
  if (fill === null || fill === undefined || info.dtype === undefined) return undefined;
  if (info.dtype === 'char') {
    if (typeof fill !== 'string') return undefined;
    const text = Buffer.from(fill, 'base64').toString('latin1').replace(/\0+$/, '');
    return text.length > 0 ? text : undefined;
  }
  const value = typeof fill === 'string' ? Number(fill) : fill;
  if (typeof value !== 'number') return undefined;
  if (info.dtype === 'i8' || info.dtype === 'u8') return Number.isInteger(value) ? BigInt(value) : value;
  if (info.dtype === 'f4') return Math.fround(value);
  return value;
}

function positiveInts(value: unknown, allowZero: boolean): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.every((x) => Number.isSafeInteger(x) && (x as number) >= (allowZero ? 0 : 1))
    ? (value as number[])
    : undefined;
}

function codecConfig(value: unknown): CodecConfig | undefined {
  return isRecord(value) && typeof value['id'] === 'string' ? (value as CodecConfig) : undefined;
}

/** Builds one array's metadata; `dims` collects dimension lengths across arrays and is checked for clashes. */
function buildArray(
  store: string,
  name: string,
  key: string,
  zarray: unknown,
  zattrs: unknown,
  dims: Map<string, number>,
): ZarrArrayMeta {
  const where = `array "${name}"`;
  if (!isRecord(zarray)) throw new CorruptFileError(store, `${where}: .zarray is not a JSON object`);
  if (zarray['zarr_format'] !== 2) {
    throw new CorruptFileError(
      store,
      `${where}: zarr_format ${JSON.stringify(zarray['zarr_format'])} (only Zarr v2 is supported)`,
    );
  }
  const shape = positiveInts(zarray['shape'], true);
  const chunks = positiveInts(zarray['chunks'], false);
  if (!shape)
    throw new CorruptFileError(
      store,
      `${where}: shape ${JSON.stringify(zarray['shape'])} is not a list of non-negative integers`,
    );
  if (!chunks || chunks.length !== shape.length) {
    throw new CorruptFileError(
      store,
      `${where}: chunks ${JSON.stringify(zarray['chunks'])} do not match shape ${JSON.stringify(shape)}`,
    );
  }
  const compressorRaw = zarray['compressor'];
  const compressor = compressorRaw === null || compressorRaw === undefined ? null : codecConfig(compressorRaw);
  if (compressor === undefined)
    throw new CorruptFileError(store, `${where}: compressor ${JSON.stringify(compressorRaw)} has no id`);
  const filtersRaw = zarray['filters'] ?? [];
  if (!Array.isArray(filtersRaw)) throw new CorruptFileError(store, `${where}: filters must be a list or null`);
  const filters = filtersRaw.map((f) => {
    const c = codecConfig(f);
    if (!c) throw new CorruptFileError(store, `${where}: filter ${JSON.stringify(f)} has no id`);
    return c;
  });
  const separator = zarray['dimension_separator'] ?? '.';
  if (separator !== '.' && separator !== '/') {
    throw new CorruptFileError(
      store,
      `${where}: dimension_separator ${JSON.stringify(separator)} (expected "." or "/")`,
    );
  }
  const order = typeof zarray['order'] === 'string' ? zarray['order'] : 'C';

  const dt = parseDtype(zarray['dtype']);
  const rawAttrs = isRecord(zattrs) ? zattrs : {};
  const declared = rawAttrs['_ARRAY_DIMENSIONS'];
  let names: string[];
  if (
    Array.isArray(declared) &&
    declared.length === shape.length &&
    declared.every((d) => typeof d === 'string' && d.length > 0)
  ) {
    names = declared as string[];
  } else if (declared !== undefined) {
    throw new CorruptFileError(
      store,
      `${where}: _ARRAY_DIMENSIONS ${JSON.stringify(declared)} does not name its ${shape.length} dimensions`,
    );
  } else {
    // No xarray names: dim_0, dim_1… shared when lengths agree, else made unique with the array name.
    names = shape.map((n, i) => ((dims.get(`dim_${i}`) ?? n) === n ? `dim_${i}` : `${name}_dim_${i}`));
  }
  names.forEach((dim, i) => {
    const known = dims.get(dim);
    if (known !== undefined && known !== shape[i]) {
      throw new CorruptFileError(
        store,
        `${where}: dimension "${dim}" has length ${shape[i]} here but ${known} in another array`,
      );
    }
    dims.set(dim, shape[i]!);
  });

  const { _ARRAY_DIMENSIONS: _dims, ...rest } = rawAttrs;
  const attrs = toAttrs(rest);
  if (!('_FillValue' in attrs)) {
    const fv = fillAttr(dt, zarray['fill_value']);
    if (fv !== undefined) attrs._FillValue = fv;
  }

  const meta: ZarrArrayMeta = {
    name,
    key,
    zarrDtype: typeof zarray['dtype'] === 'string' ? zarray['dtype'] : JSON.stringify(zarray['dtype']),
    dtype: dt.dtype,
    itemBytes: dt.itemBytes,
    bigEndian: dt.bigEndian,
    dims: [...names],
    shape: [...shape],
    chunks: [...chunks],
    keyRank: shape.length,
    order,
    separator,
    compressor,
    filters,
    fillBytes: fillBytesOf(dt, zarray['fill_value']),
    attrs,
  };
  if (dt.unsupported) meta.unsupported = dt.unsupported;
  if (dt.stringWidth !== undefined) {
    const dim = `string${dt.stringWidth}`;
    const known = dims.get(dim);
    if (known !== undefined && known !== dt.stringWidth) {
      throw new CorruptFileError(
        store,
        `${where}: dimension "${dim}" clashes with another array's dimension of length ${known}`,
      );
    }
    dims.set(dim, dt.stringWidth);
    meta.dims.push(dim);
    meta.shape.push(dt.stringWidth);
    meta.chunks.push(dt.stringWidth);
  }
  return meta;
}

async function readJson(store: string, rel: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path.join(store, rel), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return parsePythonJson(text);
  } catch (err) {
    throw new CorruptFileError(store, `${rel} is not valid JSON (${(err as Error).message})`);
  }
}

/** Reads and validates a store's metadata. Throws CorruptFileError when it is not a readable Zarr v2 store. */
export async function readZarrMetadata(store: string): Promise<ZarrStoreMeta> {
  const dims = new Map<string, number>();
  const arrays: ZarrArrayMeta[] = [];
  const zmetadata = await readJson(store, '.zmetadata');
  if (zmetadata !== undefined) {
    if (!isRecord(zmetadata) || !isRecord(zmetadata['metadata'])) {
      throw new CorruptFileError(store, '.zmetadata has no "metadata" object');
    }
    const entries = zmetadata['metadata'];
    const rootArray = entries['.zarray'];
    if (rootArray !== undefined) {
      arrays.push(buildArray(store, rootArrayName(store), '', rootArray, entries['.zattrs'], dims));
      return { consolidated: true, dims: Object.fromEntries(dims), arrays, attrs: {} };
    }
    const names = Object.keys(entries)
      .filter((k) => k.endsWith('/.zarray'))
      .map((k) => k.slice(0, -'/.zarray'.length))
      .filter((n) => !n.includes('/'))
      .sort();
    for (const name of names) {
      checkStoreKey(store, name);
      arrays.push(buildArray(store, name, name, entries[`${name}/.zarray`], entries[`${name}/.zattrs`], dims));
    }
    const rootAttrs = entries['.zattrs'];
    return {
      consolidated: true,
      dims: Object.fromEntries(dims),
      arrays,
      attrs: isRecord(rootAttrs) ? toAttrs(rootAttrs) : {},
    };
  }

  const rootArray = await readJson(store, '.zarray');
  if (rootArray !== undefined) {
    arrays.push(buildArray(store, rootArrayName(store), '', rootArray, await readJson(store, '.zattrs'), dims));
    return { consolidated: false, dims: Object.fromEntries(dims), arrays, attrs: {} };
  }
  const zgroup = await readJson(store, '.zgroup');
  if (!isRecord(zgroup)) throw new CorruptFileError(store, 'not a Zarr v2 store (no .zmetadata, .zgroup or .zarray)');
  if (zgroup['zarr_format'] !== 2) {
    throw new CorruptFileError(
      store,
      `.zgroup has zarr_format ${JSON.stringify(zgroup['zarr_format'])} (only Zarr v2 is supported)`,
    );
  }
  const entries = await readdir(store, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const name of names) {
    checkStoreKey(store, name);
    const zarray = await readJson(store, `${name}/.zarray`);
    if (zarray === undefined) continue; // a child group or an unrelated folder
    arrays.push(buildArray(store, name, name, zarray, await readJson(store, `${name}/.zattrs`), dims));
  }
  const rootAttrs = await readJson(store, '.zattrs');
  return {
    consolidated: false,
    dims: Object.fromEntries(dims),
    arrays,
    attrs: isRecord(rootAttrs) ? toAttrs(rootAttrs) : {},
  };
}

/** A store that is a single array is named after its folder, without a `.zarr` suffix. */
function rootArrayName(store: string): string {
  return path.basename(path.resolve(store)).replace(/\.zarr$/i, '') || 'data';
}
