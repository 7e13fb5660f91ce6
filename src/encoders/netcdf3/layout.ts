/**
 * NetCDF-3 layout: CDF-1 (classic) and CDF-2 (64-bit offset). Every offset in a classic file follows
 * from the declared dimensions and variables, so the whole plan (validated names, encoded
 * attributes, each variable's begin and size, the file's length) and the header bytes exist before
 * any value is read. ./writer.ts streams the values into that plan.
 *
 * Format reference: NetCDF "File Format Specifications", classic format (netcdf-c
 * docs/file_format_specifications.md), with netCDF-C's `NC_begins` for the record-size rule.
 */
import type {
  NcAttrs,
  NcAttrValue,
  NcDimDef,
  NcFileDef,
  NcFormat,
  NcLayout,
  NcTypedAttr,
  NcWriteType,
} from './definition.js';

// ---------------------------------------------------------------------------------------------
// Types and limits

interface TypeInfo {
  code: number;
  size: number;
  min: number;
  max: number;
  /** The format's default fill value, used for padding and missing data when no _FillValue is set. */
  defaultFill: number;
}

const NC_FILL_FLOAT = 9.969209968386869e36;

const TYPES: Record<NcWriteType, TypeInfo> = {
  i1: { code: 1, size: 1, min: -128, max: 127, defaultFill: -127 },
  char: { code: 2, size: 1, min: 0, max: 255, defaultFill: 0 },
  i2: { code: 3, size: 2, min: -32768, max: 32767, defaultFill: -32767 },
  i4: { code: 4, size: 4, min: -2147483648, max: 2147483647, defaultFill: -2147483647 },
  f4: { code: 5, size: 4, min: -Infinity, max: Infinity, defaultFill: NC_FILL_FLOAT },
  f8: { code: 6, size: 8, min: -Infinity, max: Infinity, defaultFill: NC_FILL_FLOAT },
};

const TAG_DIMENSION = 0x0a;
const TAG_VARIABLE = 0x0b;
const TAG_ATTRIBUTE = 0x0c;

/** NON_NEG fields (dimension lengths, numrecs, counts) are signed 32-bit in CDF-1/2. */
const MAX_NON_NEG = 0x7fffffff;
/** OFFSET in CDF-1 is a non-negative signed 32-bit integer. */
const MAX_CDF1_OFFSET = 0x7fffffff;
/** netCDF-C's per-variable limits (NC_check_vlens): X_INT_MAX - 3 for CDF-1, X_UINT_MAX - 3 for CDF-2. */
const MAX_VAR_BYTES: Record<NcFormat, number> = { cdf1: 0x7fffffff - 3, cdf2: 0xffffffff - 3 };
/** The vsize field cannot hold sizes above 2^32 - 4; the spec stores 2^32 - 1 instead. */
const VSIZE_OVERFLOW = 0xffffffff;

/** CF attributes that must have the variable's own type. */
const VAR_TYPED_ATTRS = new Set([
  '_FillValue',
  'missing_value',
  'valid_min',
  'valid_max',
  'valid_range',
  'actual_range',
  'flag_values',
  'flag_masks',
]);

export const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Planning: validation, attribute encoding, offsets

interface EncodedAttr {
  key: string;
  name: Uint8Array;
  code: number;
  nelems: number;
  /** Big-endian values, unpadded. */
  bytes: Uint8Array;
}

export interface PlannedVar {
  name: string;
  nameBytes: Uint8Array;
  type: NcWriteType;
  info: TypeInfo;
  dims: string[];
  dimIds: number[];
  shape: number[];
  record: boolean;
  /** Values per record (record variables) or in total (fixed variables). */
  slabElements: number;
  elements: number;
  /** Unpadded bytes of one slab. */
  slabBytes: number;
  /** Slab bytes padded to 4: what the header's vsize states. */
  paddedBytes: number;
  begin: number;
  attrs: EncodedAttr[];
  /** Value substituted for NaN (the declared _FillValue), if any. */
  nanFill: number | undefined;
  /** One value of the fill (declared or default), big-endian: used for padding and missing data. */
  fillBytes: Uint8Array;
  /** Row length for string[] chunks of char variables. */
  rowLength: number;
}

export interface Plan {
  layout: NcLayout;
  dims: { nameBytes: Uint8Array; size: number; unlimited: boolean }[];
  globalAttrs: EncodedAttr[];
  vars: PlannedVar[];
  /** True for netCDF-C's "exactly one record variable" case: record slabs are not padded. */
  packedRecords: boolean;
}

export function fail(message: string): never {
  throw new Error(`NetCDF-3 writer: ${message}`);
}

const NAME_RE = /^[A-Za-z0-9_\u0080-\u{10FFFF}][^\x00-\x1F\x7F/]*$/u;

function encodeName(name: string, what: string): Uint8Array {
  const nfc = name.normalize('NFC');
  if (!NAME_RE.test(nfc) || nfc.endsWith(' ')) fail(`invalid ${what} name ${JSON.stringify(name)}`);
  return utf8.encode(nfc);
}

function isTypedAttr(v: NcAttrValue): v is NcTypedAttr {
  return typeof v === 'object' && v !== null && 'type' in v && 'value' in v && !ArrayBuffer.isView(v);
}

/** Big-endian bytes of `values` as `type`, rejecting values the type cannot hold. */
function encodeNumbers(values: ArrayLike<number>, type: NcWriteType, where: string): Uint8Array {
  const info = TYPES[type];
  const out = new Uint8Array(values.length * info.size);
  const view = new DataView(out.buffer);
  const integer = type !== 'f4' && type !== 'f8';
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (integer && (!Number.isInteger(x) || x < info.min || x > info.max)) {
      fail(`${where}: ${x} is not a valid ${type} value`);
    }
    const o = i * info.size;
    switch (type) {
      case 'i1':
        view.setInt8(o, x);
        break;
      case 'char':
        view.setUint8(o, x);
        break;
      case 'i2':
        view.setInt16(o, x);
        break;
      case 'i4':
        view.setInt32(o, x);
        break;
      case 'f4':
        view.setFloat32(o, x);
        break;
      case 'f8':
        view.setFloat64(o, x);
        break;
    }
  }
  return out;
}

function encodeAttr(name: string, value: NcAttrValue, varType: NcWriteType | undefined, where: string): EncodedAttr {
  const nameBytes = encodeName(name, `attribute (${where})`);
  const at = `attribute ${where}:${name}`;
  let type: NcWriteType;
  let raw: string | ArrayLike<number>;
  if (isTypedAttr(value)) {
    type = value.type;
    raw = typeof value.value === 'number' ? [value.value] : value.value;
    if (typeof raw === 'string' && type !== 'char') fail(`${at}: a string value needs type 'char', not '${type}'`);
  } else if (typeof value === 'string') {
    type = 'char';
    raw = value;
  } else {
    raw = typeof value === 'number' ? [value] : value;
    if (varType !== undefined && VAR_TYPED_ATTRS.has(name)) {
      if (varType === 'char') fail(`${at}: give a char variable's ${name} as a string`);
      type = varType;
    } else {
      type = 'f8';
    }
  }
  if (name === '_FillValue' && varType !== undefined) {
    if (type !== varType) fail(`${at}: _FillValue must have the variable's type ${varType}, not ${type}`);
    const n = typeof raw === 'string' ? utf8.encode(raw).length : raw.length;
    if (n !== 1) fail(`${at}: _FillValue must be a single value`);
  }
  const bytes = typeof raw === 'string' ? utf8.encode(raw) : encodeNumbers(raw, type, at);
  return { key: name, name: nameBytes, code: TYPES[type].code, nelems: bytes.length / TYPES[type].size, bytes };
}

function encodeAttrs(attrs: NcAttrs | undefined, varType: NcWriteType | undefined, where: string): EncodedAttr[] {
  if (!attrs) return [];
  return Object.entries(attrs).map(([k, v]) => encodeAttr(k, v, varType, where));
}

/** The declared fill as a number (for NaN substitution) and as one big-endian value (for padding). */
function fillOf(type: NcWriteType, attrs: EncodedAttr[]): { nanFill: number | undefined; fillBytes: Uint8Array } {
  const fill = attrs.find((a) => a.key === '_FillValue');
  const info = TYPES[type];
  if (!fill) return { nanFill: undefined, fillBytes: encodeNumbers([info.defaultFill], type, 'default fill') };
  const view = new DataView(fill.bytes.buffer, fill.bytes.byteOffset, fill.bytes.byteLength);
  const nanFill =
    type === 'f4'
      ? view.getFloat32(0)
      : type === 'f8'
        ? view.getFloat64(0)
        : type === 'i4'
          ? view.getInt32(0)
          : type === 'i2'
            ? view.getInt16(0)
            : type === 'i1'
              ? view.getInt8(0)
              : view.getUint8(0);
  return { nanFill, fillBytes: fill.bytes.slice(0, info.size) };
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_NON_NEG)
    fail(`${what} must be an integer in 0..${MAX_NON_NEG}, got ${n}`);
}

export function planFile(def: NcFileDef): Plan {
  const dimIndex = new Map<string, number>();
  let unlimited: NcDimDef | undefined;
  const dims = def.dims.map((d, i) => {
    const nameBytes = encodeName(d.name, 'dimension');
    if (dimIndex.has(d.name)) fail(`dimension "${d.name}" declared twice`);
    checkCount(d.size, `dimension "${d.name}" size`);
    if (d.size === 0 && !d.unlimited) {
      // dim_length 0 is how the format marks the record dimension: a fixed empty dimension cannot be stored.
      fail(`dimension "${d.name}" has length 0, which NetCDF-3 reserves for the unlimited dimension`);
    }
    if (d.unlimited) {
      if (unlimited) fail(`only one unlimited dimension is allowed ("${unlimited.name}" and "${d.name}")`);
      unlimited = d;
    }
    dimIndex.set(d.name, i);
    return { nameBytes, size: d.size, unlimited: d.unlimited === true };
  });
  const numrecs = unlimited?.size ?? 0;
  const globalAttrs = encodeAttrs(def.attrs, undefined, 'global');

  const seen = new Set<string>();
  const vars: PlannedVar[] = def.variables.map((v) => {
    const nameBytes = encodeName(v.name, 'variable');
    if (seen.has(v.name)) fail(`variable "${v.name}" declared twice`);
    seen.add(v.name);
    const info = TYPES[v.type];
    if (!info) fail(`variable "${v.name}": unknown type ${String(v.type)}`);
    const dimIds = v.dims.map((name, k) => {
      const id = dimIndex.get(name);
      if (id === undefined) fail(`variable "${v.name}" uses undeclared dimension "${name}"`);
      if (dims[id]!.unlimited && k !== 0)
        fail(`variable "${v.name}": the unlimited dimension "${name}" must come first`);
      return id;
    });
    const shape = dimIds.map((id) => dims[id]!.size);
    const record = dimIds.length > 0 && dims[dimIds[0]!]!.unlimited;
    const slabElements = shape.slice(record ? 1 : 0).reduce((a, b) => a * b, 1);
    const slabBytes = slabElements * info.size;
    const attrs = encodeAttrs(v.attrs, v.type, v.name);
    const rowLength = v.dims.length === 0 ? 1 : shape[shape.length - 1]!;
    return {
      name: v.name,
      nameBytes,
      type: v.type,
      info,
      dims: [...v.dims],
      dimIds,
      shape,
      record,
      slabElements,
      elements: record ? slabElements * numrecs : slabElements,
      slabBytes,
      paddedBytes: Math.ceil(slabBytes / 4) * 4,
      begin: 0,
      attrs,
      rowLength,
      ...fillOf(v.type, attrs),
    };
  });

  const recVars = vars.filter((v) => v.record);
  const recordSum = recVars.reduce((a, v) => a + v.paddedBytes, 0);
  const lastRec = recVars[recVars.length - 1];
  // netCDF-C NC_begins: when the record holds exactly one (non-empty) variable, records are not padded.
  const packedRecords = lastRec !== undefined && recordSum === lastRec.paddedBytes;
  const recordSize = lastRec && packedRecords ? lastRec.slabBytes : recordSum;

  const requested = def.format ?? 'auto';
  const candidates: NcFormat[] = requested === 'auto' ? ['cdf1', 'cdf2'] : [requested];
  let lastError: Error | undefined;
  for (const format of candidates) {
    try {
      const layout = assignOffsets(format, dims, globalAttrs, vars, numrecs, recordSize);
      return { layout, dims, globalAttrs, vars, packedRecords };
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw lastError!;
}

function assignOffsets(
  format: NcFormat,
  dims: Plan['dims'],
  globalAttrs: EncodedAttr[],
  vars: PlannedVar[],
  numrecs: number,
  recordSize: number,
): NcLayout {
  checkVarSizes(format, vars);
  const headerSize = headerLength(format, dims, globalAttrs, vars);
  let offset = headerSize;
  for (const v of vars)
    if (!v.record) {
      v.begin = offset;
      offset += v.paddedBytes;
    }
  const recordsBegin = offset;
  for (const v of vars)
    if (v.record) {
      v.begin = offset;
      offset += v.paddedBytes;
    }
  if (format === 'cdf1') {
    for (const v of vars) {
      if (v.begin > MAX_CDF1_OFFSET) {
        fail(`variable "${v.name}" would start at byte ${v.begin}, beyond CDF-1's limit of 2^31-1; use format 'cdf2'`);
      }
    }
  }
  const totalSize = recordsBegin + numrecs * recordSize;
  if (!Number.isSafeInteger(totalSize)) fail(`file size ${totalSize} is not representable`);
  return {
    format,
    headerSize,
    numrecs,
    recordsBegin,
    recordSize,
    totalSize,
    variables: vars.map((v) => ({
      name: v.name,
      type: v.type,
      dims: [...v.dims],
      shape: [...v.shape],
      record: v.record,
      elements: v.elements,
      bytes: v.paddedBytes,
      begin: v.begin,
    })),
  };
}

/**
 * netCDF-C's NC_check_vlens: a variable may exceed the per-variable limit only if it is the last
 * fixed-size variable of a file without record variables, or the last record variable.
 */
function checkVarSizes(format: NcFormat, vars: PlannedVar[]): void {
  const max = MAX_VAR_BYTES[format];
  const hasRecords = vars.some((v) => v.record);
  for (const record of [false, true]) {
    const group = vars.filter((v) => v.record === record);
    group.forEach((v, i) => {
      if (v.slabBytes <= max) return;
      const exempt = i === group.length - 1 && (record || !hasRecords);
      if (!exempt) {
        const per = record ? ' per record' : '';
        fail(
          `variable "${v.name}" takes ${v.slabBytes} bytes${per}, over the ${format.toUpperCase()} limit of ${max} ` +
            `for any variable but the last${format === 'cdf1' ? "; use format 'cdf2'" : ''}`,
        );
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Header

class ByteWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, n);
    this.length += 4;
  }

  u64(n: number): void {
    this.u32(Math.floor(n / 0x100000000));
    this.u32(n % 0x100000000);
  }

  /** Bytes followed by NUL padding to a 4-byte boundary (header padding is always NUL). */
  padded(bytes: Uint8Array): void {
    const n = Math.ceil(bytes.length / 4) * 4;
    this.ensure(n);
    this.buf.set(bytes, this.length);
    this.buf.fill(0, this.length + bytes.length, this.length + n);
    this.length += n;
  }

  name(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.padded(bytes);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeAttrList(w: ByteWriter, attrs: EncodedAttr[]): void {
  if (attrs.length === 0) {
    w.u32(0);
    w.u32(0); // ABSENT
    return;
  }
  w.u32(TAG_ATTRIBUTE);
  w.u32(attrs.length);
  for (const a of attrs) {
    w.name(a.name);
    w.u32(a.code);
    w.u32(a.nelems);
    w.padded(a.bytes);
  }
}

export function serializeHeader(
  format: NcFormat,
  dims: Plan['dims'],
  globalAttrs: EncodedAttr[],
  vars: PlannedVar[],
  numrecs: number,
): Uint8Array {
  const w = new ByteWriter();
  w.padded(new Uint8Array([0x43, 0x44, 0x46, format === 'cdf1' ? 1 : 2]));
  w.u32(numrecs);
  if (dims.length === 0) {
    w.u32(0);
    w.u32(0);
  } else {
    w.u32(TAG_DIMENSION);
    w.u32(dims.length);
    for (const d of dims) {
      w.name(d.nameBytes);
      w.u32(d.unlimited ? 0 : d.size);
    }
  }
  writeAttrList(w, globalAttrs);
  if (vars.length === 0) {
    w.u32(0);
    w.u32(0);
  } else {
    w.u32(TAG_VARIABLE);
    w.u32(vars.length);
    for (const v of vars) {
      w.name(v.nameBytes);
      w.u32(v.dimIds.length);
      for (const id of v.dimIds) w.u32(id);
      writeAttrList(w, v.attrs);
      w.u32(v.info.code);
      w.u32(v.paddedBytes > 0xfffffffc ? VSIZE_OVERFLOW : v.paddedBytes);
      if (format === 'cdf1') w.u32(v.begin);
      else w.u64(v.begin);
    }
  }
  return w.result();
}

function headerLength(format: NcFormat, dims: Plan['dims'], globalAttrs: EncodedAttr[], vars: PlannedVar[]): number {
  // Offsets do not change the header's length, only its content.
  return serializeHeader(format, dims, globalAttrs, vars, 0).length;
}

/** Where each variable goes and how big the file will be, before any data is read (Content-Length, 413 checks). */
export function ncLayout(def: NcFileDef): NcLayout {
  return planFile(def).layout;
}

/** The header bytes alone (the first {@link NcLayout.headerSize} bytes of the file). */
export function encodeNetcdf3Header(def: NcFileDef): Uint8Array {
  const plan = planFile(def);
  return serializeHeader(plan.layout.format, plan.dims, plan.globalAttrs, plan.vars, plan.layout.numrecs);
}
