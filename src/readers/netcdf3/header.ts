/**
 * NetCDF classic header parser: CDF-1 (classic), CDF-2 (64-bit offset) and CDF-5 (64-bit data).
 * Spec: NetCDF User Guide "File Format Specification" and the PnetCDF CDF-5 specification.
 * The header is read through a ByteSource a growing prefix at a time, so a file of any size is
 * never loaded to learn its layout.
 */
import type { AttrTypes, AttrValue, Attrs, ByteSource, DType } from '../types.js';
import { CorruptFileError } from '../types.js';

type Nc3Version = 1 | 2 | 5;

/** External type codes (nc_type) of the classic formats; 7..11 exist only in CDF-5. */
const NcType = {
  BYTE: 1,
  CHAR: 2,
  SHORT: 3,
  INT: 4,
  FLOAT: 5,
  DOUBLE: 6,
  UBYTE: 7,
  USHORT: 8,
  UINT: 9,
  INT64: 10,
  UINT64: 11,
} as const;
type NcType = (typeof NcType)[keyof typeof NcType];

interface NcTypeInfo {
  dtype: DType;
  bytes: number;
}

const NC_TYPES: Record<NcType, NcTypeInfo> = {
  1: { dtype: 'i1', bytes: 1 },
  2: { dtype: 'char', bytes: 1 },
  3: { dtype: 'i2', bytes: 2 },
  4: { dtype: 'i4', bytes: 4 },
  5: { dtype: 'f4', bytes: 4 },
  6: { dtype: 'f8', bytes: 8 },
  7: { dtype: 'u1', bytes: 1 },
  8: { dtype: 'u2', bytes: 2 },
  9: { dtype: 'u4', bytes: 4 },
  10: { dtype: 'i8', bytes: 8 },
  11: { dtype: 'u8', bytes: 8 },
};

interface Nc3Dimension {
  name: string;
  /** For the record dimension: the number of records. */
  length: number;
  isRecord: boolean;
}

export interface Nc3Variable {
  name: string;
  ncType: NcType;
  dtype: DType;
  /** Bytes per element. */
  elementBytes: number;
  dims: string[];
  /** Lengths per dimension, the record dimension counted as `numrecs`. */
  shape: number[];
  attrs: Attrs;
  /** Stored type of each numeric attribute. */
  attrTypes: AttrTypes;
  /** True when the first dimension is the record (unlimited) dimension. */
  isRecord: boolean;
  /** Unpadded bytes of the whole variable, or of one record of it for record variables. */
  slabBytes: number;
  /** File offset of the first byte (of the first record, for record variables). */
  begin: number;
}

export interface Nc3Header {
  version: Nc3Version;
  /** Number of records (length of the record dimension). */
  numrecs: number;
  /** True when the file was written in streaming mode and `numrecs` was computed from the file size. */
  numrecsFromFileSize: boolean;
  dimensions: Nc3Dimension[];
  recordDimension?: string;
  attrs: Attrs;
  /** Stored type of each numeric global attribute. */
  attrTypes: AttrTypes;
  variables: Nc3Variable[];
  /** Bytes from the start of one record to the start of the next (0 without record variables). */
  recordBytes: number;
  /** Bytes the header occupies. */
  headerBytes: number;
}

const TAG_DIMENSION = 0x0a;
const TAG_VARIABLE = 0x0b;
const TAG_ATTRIBUTE = 0x0c;
const STREAMING_32 = 0xffffffff;

/** Raised inside the parser when the bytes read so far end before the header does. */
class NeedMoreBytes extends Error {
  constructor(readonly required: number) {
    super(`header needs ${required} bytes`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Non-ASCII text of names and char attributes: UTF-8 when valid, else Latin-1 (old files carry degree signs as 0xB0). */
function decodeText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

class HeaderCursor {
  private readonly view: DataView;
  private readonly latin1: string;
  offset = 0;
  /** What is being parsed, for error messages only (kept out of the hot path as plain fields). */
  owner = 'header';
  attribute = '';

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileSize: number,
    private readonly path: string,
    readonly version: Nc3Version,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Headers hold hundreds of short ASCII strings: slicing one decoded string is far cheaper than decoding each.
    this.latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }

  /** Text of bytes [start, end) of the prefix. */
  text(start: number, end: number): string {
    for (let i = start; i < end; i++) {
      if (this.bytes[i]! > 0x7f) return decodeText(this.bytes.subarray(start, end));
    }
    return this.latin1.substring(start, end);
  }

  corrupt(detail: string): CorruptFileError {
    const where = this.attribute ? `${this.owner} attribute ${this.attribute}` : this.owner;
    return new CorruptFileError(this.path, `${where}: ${detail}`);
  }

  /** Makes sure `n` more bytes are available, or asks for a longer prefix, or declares the header truncated. */
  need(n: number, what: string): void {
    const end = this.offset + n;
    if (end <= this.bytes.length) return;
    if (end > this.fileSize) {
      throw this.corrupt(
        `truncated or corrupt header: ${what} at byte ${this.offset} needs ${n} bytes, file has ${this.fileSize}`,
      );
    }
    throw new NeedMoreBytes(end);
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, false);
    this.offset += 4;
    return v;
  }

  u64(what: string): number {
    this.need(8, what);
    const high = this.view.getUint32(this.offset, false);
    const low = this.view.getUint32(this.offset + 4, false);
    this.offset += 8;
    if (high >= 2 ** 21) throw this.corrupt(`${what} is beyond 2^53`);
    return high * 2 ** 32 + low;
  }

  /** NON_NEG: 32-bit in CDF-1/2, 64-bit in CDF-5. */
  count(what: string): number {
    return this.version === 5 ? this.u64(what) : this.u32(what);
  }

  /** OFFSET: 32-bit in CDF-1, 64-bit in CDF-2 and CDF-5. */
  fileOffset(what: string): number {
    return this.version === 1 ? this.u32(what) : this.u64(what);
  }

  /** Skips `n` bytes and their padding to 4; returns where they start. */
  skipPadded(n: number, what: string): number {
    const start = this.offset;
    this.need(pad4(n), what);
    this.offset += pad4(n);
    return start;
  }

  name(): string {
    const length = this.checkedLength(this.count('name length'), 1, 'name');
    if (length === 0) throw this.corrupt(`empty name at byte ${this.offset}`);
    const start = this.skipPadded(length, 'name');
    return this.text(start, start + length);
  }

  /** Rejects element counts that cannot fit in the file before anything is allocated for them. */
  checkedLength(count: number, elementBytes: number, what: string): number {
    if (count * elementBytes > this.fileSize) {
      throw this.corrupt(`${what} claims ${count} elements, more than the file holds`);
    }
    return count;
  }

  /** A list header: ABSENT (two zeros) or the expected tag followed by the element count. */
  listCount(tag: number, what: string): number {
    const at = this.offset;
    const found = this.u32(what);
    const count = this.count(what);
    if (found === 0) {
      if (count !== 0) throw this.corrupt(`${what} at byte ${at}: absent list with non-zero count ${count}`);
      return 0;
    }
    if (found !== tag)
      throw this.corrupt(`${what} at byte ${at}: expected tag 0x${tag.toString(16)}, found 0x${found.toString(16)}`);
    return count;
  }

  ncType(): NcType {
    const at = this.offset;
    const code = this.u32('type');
    const maxCode = this.version === 5 ? 11 : 6;
    if (code < 1 || code > maxCode) throw this.corrupt(`unknown nc_type ${code} at byte ${at} for CDF-${this.version}`);
    return code as NcType;
  }

  attributes(types: AttrTypes = {}): Attrs {
    const n = this.listCount(TAG_ATTRIBUTE, 'attribute list');
    const attrs: Attrs = {};
    for (let i = 0; i < n; i++) {
      const name = this.name();
      this.attribute = name;
      const type = this.ncType();
      const { bytes } = NC_TYPES[type];
      const nelems = this.checkedLength(this.count('length'), bytes, 'values');
      const start = this.skipPadded(nelems * bytes, 'values');
      attrs[name] =
        type === NcType.CHAR
          ? this.charAttribute(start, start + nelems)
          : numericAttribute(this.view, start, type, nelems);
      if (type !== NcType.CHAR) types[name] = NC_TYPES[type].dtype;
    }
    this.attribute = '';
    return attrs;
  }

  /** Char attributes are often NUL-terminated or NUL-padded by their writers: the NULs are not text. */
  private charAttribute(start: number, end: number): string {
    while (end > start && this.bytes[end - 1] === 0) end--;
    return this.text(start, end);
  }
}

function numericAttribute(view: DataView, start: number, type: NcType, nelems: number): AttrValue {
  if (type === NcType.INT64 || type === NcType.UINT64) {
    const values: bigint[] = [];
    for (let i = 0; i < nelems; i++) {
      values.push(
        type === NcType.INT64 ? view.getBigInt64(start + i * 8, false) : view.getBigUint64(start + i * 8, false),
      );
    }
    return nelems === 1 ? values[0]! : values;
  }
  const values: number[] = [];
  for (let i = 0; i < nelems; i++) values.push(readNumber(view, type, start, i));
  return nelems === 1 ? values[0]! : values;
}

function readNumber(view: DataView, type: NcType, start: number, index: number): number {
  switch (type) {
    case NcType.BYTE:
      return view.getInt8(start + index);
    case NcType.UBYTE:
      return view.getUint8(start + index);
    case NcType.SHORT:
      return view.getInt16(start + index * 2, false);
    case NcType.USHORT:
      return view.getUint16(start + index * 2, false);
    case NcType.INT:
      return view.getInt32(start + index * 4, false);
    case NcType.UINT:
      return view.getUint32(start + index * 4, false);
    case NcType.FLOAT:
      return view.getFloat32(start + index * 4, false);
    case NcType.DOUBLE:
      return view.getFloat64(start + index * 8, false);
    default:
      throw new Error(`nc_type ${type} is not a plain number`);
  }
}

/** Parses a header from a prefix of the file; throws NeedMoreBytes when the prefix is too short. */
function parseHeader(bytes: Uint8Array, fileSize: number, path: string): Nc3Header {
  if (bytes.length < 4 && fileSize >= 4) throw new NeedMoreBytes(4);
  if (bytes.length < 4 || bytes[0] !== 0x43 || bytes[1] !== 0x44 || bytes[2] !== 0x46) {
    throw new CorruptFileError(path, 'not a NetCDF classic file (magic bytes are not "CDF")');
  }
  const versionByte = bytes[3]!;
  if (versionByte !== 1 && versionByte !== 2 && versionByte !== 5) {
    throw new CorruptFileError(path, `unsupported NetCDF classic version byte ${versionByte} (expected 1, 2 or 5)`);
  }
  const version = versionByte as Nc3Version;
  const c = new HeaderCursor(bytes, fileSize, path, version);
  c.offset = 4;

  const storedNumrecs = version === 5 ? readNumrecs64(c) : c.u32('numrecs');
  const streaming = storedNumrecs === STREAMING_32 || storedNumrecs === -1;

  c.owner = 'dimension list';
  const dimCount = c.checkedLength(c.listCount(TAG_DIMENSION, 'dimension list'), 8, 'dimension list');
  const rawDims: { name: string; length: number }[] = [];
  for (let i = 0; i < dimCount; i++) {
    c.owner = `dimension #${i}`;
    const name = c.name();
    c.owner = `dimension ${name}`;
    rawDims.push({ name, length: c.count('length') });
  }
  c.owner = 'dimension list';
  const recordDims = rawDims.filter((d) => d.length === 0);
  if (recordDims.length > 1) {
    throw c.corrupt(`more than one record dimension (${recordDims.map((d) => d.name).join(', ')})`);
  }

  c.owner = 'global attributes';
  const globalAttrTypes: AttrTypes = {};
  const attrs = c.attributes(globalAttrTypes);

  c.owner = 'variable list';
  const varCount = c.checkedLength(c.listCount(TAG_VARIABLE, 'variable list'), 8, 'variable list');
  const parsedVars: {
    name: string;
    dimIds: number[];
    attrs: Attrs;
    attrTypes: AttrTypes;
    type: NcType;
    begin: number;
  }[] = [];
  for (let i = 0; i < varCount; i++) {
    c.owner = `variable #${i}`;
    const name = c.name();
    c.owner = `variable ${name}`;
    const rank = c.checkedLength(c.count('rank'), 4, 'dimension ids');
    const dimIds: number[] = [];
    for (let d = 0; d < rank; d++) {
      const id = c.count('dimension id');
      if (id >= rawDims.length) throw c.corrupt(`refers to dimension id ${id}, the file has ${rawDims.length}`);
      dimIds.push(id);
    }
    const attrTypes: AttrTypes = {};
    const varAttrs = c.attributes(attrTypes);
    const type = c.ncType();
    // The stored vsize is not trusted: it saturates at 2^32-1 in CDF-1/2 for big variables; it is recomputed below.
    c.count('vsize');
    const begin = c.fileOffset('begin');
    parsedVars.push({ name, dimIds, attrs: varAttrs, attrTypes, type, begin });
  }
  c.owner = 'header';
  const headerBytes = c.offset;

  const recordDimIndex = rawDims.findIndex((d) => d.length === 0);
  const variables: Nc3Variable[] = parsedVars.map((v) => {
    const { dtype, bytes: elementBytes } = NC_TYPES[v.type];
    const isRecord = v.dimIds.length > 0 && v.dimIds[0] === recordDimIndex;
    if (v.dimIds.slice(1).includes(recordDimIndex)) {
      throw c.corrupt(`variable ${v.name}: the record dimension must be its first dimension`);
    }
    const innerLengths = v.dimIds.slice(isRecord ? 1 : 0).map((id) => rawDims[id]!.length);
    const slabBytes = innerLengths.reduce((a, b) => a * b, elementBytes);
    return {
      name: v.name,
      ncType: v.type,
      dtype,
      elementBytes,
      dims: v.dimIds.map((id) => rawDims[id]!.name),
      shape: v.dimIds.map((id) => rawDims[id]!.length),
      attrs: v.attrs,
      attrTypes: v.attrTypes,
      isRecord,
      slabBytes,
      begin: v.begin,
    };
  });

  const recordVars = variables.filter((v) => v.isRecord);
  // With exactly one record variable records are not padded (the classic "byte/char/short" special case).
  const recordBytes =
    recordVars.length === 1 ? recordVars[0]!.slabBytes : recordVars.reduce((sum, v) => sum + pad4(v.slabBytes), 0);

  let numrecs = streaming ? 0 : storedNumrecs;
  if (streaming && recordVars.length > 0 && recordBytes > 0) {
    const firstRecord = Math.min(...recordVars.map((v) => v.begin));
    numrecs = Math.max(0, Math.floor((fileSize - firstRecord) / recordBytes));
  }

  for (const v of variables) {
    if (v.isRecord) v.shape[0] = numrecs;
    const occupiesBytes = v.isRecord ? v.slabBytes > 0 && numrecs > 0 : v.slabBytes > 0;
    if (occupiesBytes && v.begin < headerBytes) {
      throw c.corrupt(`variable ${v.name} data begins at byte ${v.begin}, inside the ${headerBytes}-byte header`);
    }
  }

  const dimensions: Nc3Dimension[] = rawDims.map((d) => ({
    name: d.name,
    length: d.length === 0 ? numrecs : d.length,
    isRecord: d.length === 0,
  }));
  const header: Nc3Header = {
    version,
    numrecs,
    numrecsFromFileSize: streaming,
    dimensions,
    attrs,
    attrTypes: globalAttrTypes,
    variables,
    recordBytes,
    headerBytes,
  };
  if (recordDims[0]) header.recordDimension = recordDims[0].name;
  return header;
}

/** CDF-5 numrecs is 64-bit; all ones means streaming. */
function readNumrecs64(c: HeaderCursor): number {
  const high = c.u32('numrecs');
  const low = c.u32('numrecs');
  if (high === 0xffffffff && low === 0xffffffff) return -1;
  const value = high * 2 ** 32 + low;
  if (!Number.isSafeInteger(value)) throw c.corrupt(`numrecs ${value} is beyond 2^53`);
  return value;
}

export interface ReadHeaderOptions {
  /** Bytes read first; most headers fit, bigger ones are read in growing steps. */
  initialBytes?: number;
  signal?: AbortSignal;
}

/** Reads and parses the header of a NetCDF classic file without reading its data. */
export async function readNetcdf3Header(
  source: ByteSource,
  path: string,
  options: ReadHeaderOptions = {},
): Promise<Nc3Header> {
  const fileSize = await source.size();
  let length = Math.min(options.initialBytes ?? 64 * 1024, fileSize);
  for (;;) {
    const bytes = await source.read(0, length, options.signal);
    try {
      return parseHeader(bytes, fileSize, path);
    } catch (err) {
      if (!(err instanceof NeedMoreBytes)) throw err;
      if (bytes.length < length)
        throw new CorruptFileError(path, `file ended at byte ${bytes.length} inside the header`);
      length = Math.min(fileSize, Math.max(err.required, length * 2));
    }
  }
}
