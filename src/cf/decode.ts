/**
 * CF decoding of raw stored values, shared by every reader: missing values, packing, valid ranges,
 * `_Unsigned`, and char arrays to strings. Readers return stored values; this is the only place
 * that turns them into physical ones.
 */
import type { AttrTypes, AttrValue, Attrs, DType, NumericArray, RawArray } from '../readers/types.js';

export interface DecodeOptions {
  /**
   * Stored types of the variable's numeric attributes (VariableInfo.attrTypes). They decide the units
   * of valid_min / valid_max / valid_range on a packed variable (CF §8.1): an attribute of the packed
   * (stored) type is in packed units, one of another type (the unpacked, floating type) in physical
   * units. An integer attribute on integer storage counts as packed (Zarr's JSON only tells integers
   * from floats). Without a type, a limit counts as packed when the storage is an integer type and
   * every limit is an integer, physical otherwise.
   */
  attrTypes?: AttrTypes;
  /** Overrides the attribute types: every valid_* limit in these units. */
  validRangeUnits?: 'packed' | 'physical';
}

const INTEGER_LIMITS: Partial<Record<DType, [min: number, max: number]>> = {
  i1: [-128, 127],
  u1: [0, 255],
  i2: [-32768, 32767],
  u2: [0, 65535],
  i4: [-2147483648, 2147483647],
  u4: [0, 4294967295],
};

const UNSIGNED_OF: Partial<Record<DType, DType>> = { i1: 'u1', i2: 'u2', i4: 'u4', i8: 'u8' };

function isTrue(value: AttrValue | undefined): boolean {
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

/** Every value of a numeric attribute (a scalar or an array), ignoring text; bigints kept exact. */
function attrValues(value: AttrValue | undefined): readonly (number | bigint)[] {
  if (value === undefined || typeof value === 'string') return [];
  return Array.isArray(value) ? value : [value];
}

function attrNumbers(value: AttrValue | undefined): number[] {
  return attrValues(value).map((x) => Number(x));
}

function firstNumber(value: AttrValue | undefined): number | undefined {
  const [first] = attrNumbers(value);
  return first !== undefined && Number.isFinite(first) ? first : undefined;
}

/** Reinterprets signed integer storage as unsigned (`_Unsigned = "true"`), without copying. */
function asUnsigned(dtype: DType, data: NumericArray): { dtype: DType; data: NumericArray } {
  const unsigned = UNSIGNED_OF[dtype];
  if (!unsigned) return { dtype, data };
  const { buffer, byteOffset, length } = data;
  switch (unsigned) {
    case 'u1':
      return { dtype: unsigned, data: new Uint8Array(buffer, byteOffset, length) };
    case 'u2':
      return { dtype: unsigned, data: new Uint16Array(buffer, byteOffset, length) };
    case 'u4':
      return { dtype: unsigned, data: new Uint32Array(buffer, byteOffset, length) };
    default:
      return { dtype: unsigned, data: new BigUint64Array(buffer, byteOffset, length) };
  }
}

/**
 * A value as the stored type would hold it, so comparisons with stored values are exact:
 * float32 storage rounds to float32 (a 99999.0 or -1e34 fill given as double still matches), and
 * integer storage wraps to its width (a fill of -1 matches 255 in `_Unsigned` bytes).
 * Undefined when the stored type cannot hold the value at all.
 */
function asStored(dtype: DType, value: number | bigint): number | bigint | undefined {
  if (dtype === 'i8' || dtype === 'u8') {
    if (typeof value === 'number' && !Number.isInteger(value)) return undefined;
    const big = BigInt(value);
    return dtype === 'i8' ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big);
  }
  const n = Number(value);
  if (dtype === 'f4') return Math.fround(n);
  if (dtype === 'f8') return n;
  const limits = INTEGER_LIMITS[dtype];
  if (!limits || !Number.isInteger(n)) return undefined;
  const span = limits[1] - limits[0] + 1;
  // Either the signed or the unsigned reading of the same bits is accepted, then wrapped.
  if (n < -span / 2 || n > span - 1) return undefined;
  if (n < limits[0]) return n + span;
  if (n > limits[1]) return n - span;
  return n;
}

const isInteger = (dtype: DType): boolean => INTEGER_LIMITS[dtype] !== undefined || dtype === 'i8' || dtype === 'u8';

/**
 * Whether the limits of one valid_* attribute are to be compared with stored values rather than
 * physical ones (`dtype`: the storage type, after `_Unsigned`).
 */
function limitsArePacked(
  dtype: DType,
  attrs: Attrs,
  attrName: string,
  limits: number[],
  options: DecodeOptions,
): boolean {
  if (options.validRangeUnits) return options.validRangeUnits === 'packed';
  const packed = attrs['scale_factor'] !== undefined || attrs['add_offset'] !== undefined;
  if (!packed) return true;
  const attrType = options.attrTypes?.[attrName];
  if (attrType !== undefined) {
    // CF §8.1: the packed type means packed units. `_Unsigned` storage keeps the signed type's attributes.
    if (attrType === dtype || UNSIGNED_OF[attrType] === dtype) return true;
    return isInteger(attrType) && isInteger(dtype);
  }
  return isInteger(dtype) && limits.every((x) => Number.isInteger(x));
}

/** The valid_* limits of one variable, each end with the units decided for it. */
interface ValidLimits {
  min: number;
  max: number;
  minPacked: boolean;
  maxPacked: boolean;
}

/**
 * [min, max] from valid_range or valid_min/valid_max, each end in packed or physical units
 * (`dtype`: the storage type, after `_Unsigned`). A reversed range (min > max in the same units) is
 * ignored as a file error.
 */
function validLimits(dtype: DType, attrs: Attrs, options: DecodeOptions): ValidLimits | undefined {
  const range = attrNumbers(attrs['valid_range']);
  const fromRange = range.length === 2;
  let min = fromRange ? range[0]! : firstNumber(attrs['valid_min']);
  let max = fromRange ? range[1]! : firstNumber(attrs['valid_max']);
  if (min !== undefined && Number.isNaN(min)) min = undefined;
  if (max !== undefined && Number.isNaN(max)) max = undefined;
  if (min === undefined && max === undefined) return undefined;
  const finite = [min, max].filter((x): x is number => x !== undefined && Number.isFinite(x));
  const minPacked = limitsArePacked(dtype, attrs, fromRange ? 'valid_range' : 'valid_min', finite, options);
  const maxPacked = limitsArePacked(dtype, attrs, fromRange ? 'valid_range' : 'valid_max', finite, options);
  if (min !== undefined && max !== undefined && minPacked === maxPacked && min > max) return undefined;
  return { min: min ?? -Infinity, max: max ?? Infinity, minPacked, maxPacked };
}

/**
 * Physical values of a numeric variable as float64, NaN where missing.
 * Order, as CF prescribes: `_Unsigned` reinterpretation; `_FillValue` / `missing_value` (any number of
 * values) compared with the stored value; valid range (see DecodeOptions); then
 * `value * scale_factor + add_offset`. NaN stored floats stay NaN; no netCDF default fill value is
 * assumed when a file declares none. 64-bit integers lose precision beyond 2^53, as any float64 does.
 */
export function decodeNumeric(raw: RawArray, attrs: Attrs, options: DecodeOptions = {}): Float64Array {
  if (raw.dtype === 'char' || raw.dtype === 'string' || Array.isArray(raw.data)) {
    throw new TypeError(`decodeNumeric: ${raw.dtype} data is text, use decodeStrings`);
  }
  const { dtype, data } = isTrue(attrs['_Unsigned'])
    ? asUnsigned(raw.dtype, raw.data as NumericArray)
    : { dtype: raw.dtype, data: raw.data as NumericArray };

  const missing = [...attrValues(attrs['_FillValue']), ...attrValues(attrs['missing_value'])]
    .filter((x) => !(typeof x === 'number' && Number.isNaN(x)))
    .map((x) => asStored(dtype, x))
    .filter((x): x is number | bigint => x !== undefined);

  const scale = firstNumber(attrs['scale_factor']) ?? 1;
  const offset = firstNumber(attrs['add_offset']) ?? 0;

  let [storedMin, storedMax] = [-Infinity, Infinity];
  let [physicalMin, physicalMax] = [-Infinity, Infinity];
  const limits = validLimits(dtype, attrs, options);
  if (limits) {
    const asStoredLimit = (x: number): number => (dtype === 'f4' ? Math.fround(x) : x);
    if (limits.minPacked) storedMin = asStoredLimit(limits.min);
    else physicalMin = limits.min;
    if (limits.maxPacked) storedMax = asStoredLimit(limits.max);
    else physicalMax = limits.max;
  }

  // CF: the unpacked type is that of scale_factor/add_offset. With float32 ones, physical limits are
  // compared at float32 precision: 250 × 0.2f is 50.0000007, and is the limit 50 itself.
  const packing = ['scale_factor', 'add_offset'].filter((name) => attrs[name] !== undefined);
  const unpackedF4 = packing.length > 0 && packing.every((name) => options.attrTypes?.[name] === 'f4');
  const physicalLimits = physicalMin > -Infinity || physicalMax < Infinity;

  const out = new Float64Array(data.length);
  const isBig = data instanceof BigInt64Array || data instanceof BigUint64Array;
  // Number arrays compare with the (one, usually) missing value inline: this loop runs over every
  // cell of every grid answer, a per-cell call and array walk doubled its cost.
  const numbers = isBig ? [] : missing.filter((m): m is number => typeof m === 'number');
  const first = numbers.length > 0 ? numbers[0]! : NaN;
  const several = numbers.length > 1;
  for (let i = 0; i < data.length; i++) {
    const stored = data[i]!;
    if (
      isBig
        ? missing.length > 0 && matchesAny(stored, missing)
        : stored === first || (several && numbers.includes(stored as number))
    ) {
      out[i] = NaN;
      continue;
    }
    const value = Number(stored);
    if (value < storedMin || value > storedMax) {
      out[i] = NaN;
      continue;
    }
    const physical = value * scale + offset;
    if (physicalLimits) {
      const compared = unpackedF4 ? Math.fround(physical) : physical;
      if (compared < physicalMin || compared > physicalMax) {
        out[i] = NaN;
        continue;
      }
    }
    out[i] = physical;
  }
  return out;
}

function matchesAny(stored: number | bigint, missing: (number | bigint)[]): boolean {
  for (const m of missing) if (typeof m === 'bigint' && stored === m) return true;
  return false;
}

export interface DecodeStringsOptions {
  /**
   * true (default): each string ends at its first NUL and loses trailing whitespace, and is decoded as
   * UTF-8 when valid. false: every byte is kept as one character (Latin-1), NULs included, so string
   * positions match indices of the last dimension (per-level QC flags).
   */
  trim?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/** Cuts at the first NUL and drops trailing whitespace. */
function trimmed(text: string): string {
  const nul = text.indexOf('\0');
  return (nul >= 0 ? text.slice(0, nul) : text).trimEnd();
}

function utf8OrLatin1(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

function charBytes(raw: RawArray, caller: string): Uint8Array {
  if (raw.dtype !== 'char' || !(raw.data instanceof Uint8Array)) {
    throw new TypeError(`${caller}: expected char data, got ${raw.dtype}`);
  }
  return raw.data;
}

/**
 * Strings of a char array, whose last dimension is the string length: shape [...outer, L] gives
 * product(outer) strings (a scalar or 1-D char variable gives one string). `string` data (HDF5
 * variable-length strings) passes through, trimmed the same way unless `trim` is false.
 */
export function decodeStrings(raw: RawArray, opts: DecodeStringsOptions = {}): string[] {
  const trim = opts.trim ?? true;
  if (raw.dtype === 'string' && Array.isArray(raw.data)) {
    return trim ? raw.data.map(trimmed) : [...raw.data];
  }
  const bytes = charBytes(raw, 'decodeStrings');
  const length = raw.shape.length === 0 ? 1 : raw.shape[raw.shape.length - 1]!;
  const count = raw.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = new Array<string>(count);
  // Decoding the whole array once and slicing it is much cheaper than decoding many short strings.
  if (!trim || isAscii(bytes)) {
    const all = latin1(bytes);
    for (let i = 0; i < count; i++) {
      const text = all.substring(i * length, (i + 1) * length);
      out[i] = trim ? trimmed(text) : text;
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    const one = bytes.subarray(i * length, (i + 1) * length);
    const nul = one.indexOf(0);
    out[i] = utf8OrLatin1(nul >= 0 ? one.subarray(0, nul) : one).trimEnd();
  }
  return out;
}

/** One character per element of a char array without a string dimension (Argo DATA_MODE, DIRECTION, JULD_QC). */
export function decodeChars(raw: RawArray): string[] {
  const bytes = charBytes(raw, 'decodeChars');
  return Array.from(bytes, (b) => String.fromCharCode(b));
}

/** The character at one index of a char array, e.g. charAt(presQc, profile, level) for a per-level QC flag. */
export function charAt(raw: RawArray, ...index: number[]): string {
  const bytes = charBytes(raw, 'charAt');
  if (index.length !== raw.shape.length) {
    throw new RangeError(`charAt: ${index.length} indices for a ${raw.shape.length}-D array`);
  }
  let flat = 0;
  index.forEach((k, d) => {
    const n = raw.shape[d]!;
    if (!Number.isInteger(k) || k < 0 || k >= n)
      throw new RangeError(`charAt: index ${k} outside 0..${n - 1} of dimension ${d}`);
    flat = flat * n + k;
  });
  return String.fromCharCode(bytes[flat]!);
}

/**
 * The valid range of a variable in physical units (valid_range, valid_min/valid_max, unpacked as
 * decodeNumeric reads them), when both ends are given: the value range maps are coloured over.
 */
export function physicalValidRange(dtype: DType, attrs: Attrs, attrTypes?: AttrTypes): [number, number] | undefined {
  const unsigned = isTrue(attrs['_Unsigned']) ? UNSIGNED_OF[dtype] : undefined;
  const limits = validLimits(unsigned ?? dtype, attrs, attrTypes ? { attrTypes } : {});
  if (!limits || !Number.isFinite(limits.min) || !Number.isFinite(limits.max)) return undefined;
  const scale = firstNumber(attrs['scale_factor']) ?? 1;
  const offset = firstNumber(attrs['add_offset']) ?? 0;
  const physical = (x: number, packed: boolean): number => (packed ? x * scale + offset : x);
  const ends = [physical(limits.min, limits.minPacked), physical(limits.max, limits.maxPacked)];
  if (ends[0] === ends[1]) return undefined;
  return [Math.min(ends[0]!, ends[1]!), Math.max(ends[0]!, ends[1]!)];
}
