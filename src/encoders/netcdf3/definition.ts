/**
 * What a caller hands the NetCDF-3 writer (dimensions, variables, attributes, values) and the
 * layout it gets back. Types only.
 */
import type { DType } from '../../readers/types.js';

/** Storage types the classic formats can hold (CDF-5's unsigned and 64-bit types are excluded). */
export type NcWriteType = Extract<DType, 'i1' | 'char' | 'i2' | 'i4' | 'f4' | 'f8'>;
export type NcFormat = 'cdf1' | 'cdf2';

/** An attribute whose NetCDF type is stated rather than inferred. */
export interface NcTypedAttr {
  type: NcWriteType;
  /** A string only for `char`; numbers are range-checked against `type`. */
  value: number | ArrayLike<number> | string;
}

/**
 * Attribute values. Strings are stored as CHAR (UTF-8). Untyped numbers take the variable's
 * type when the attribute name is one CF requires to match it (`_FillValue`, `missing_value`,
 * `valid_min`, `valid_max`, `valid_range`, `actual_range`, `flag_values`, `flag_masks`),
 * otherwise they are stored as `f8` (JavaScript numbers are doubles): pass an {@link NcTypedAttr}
 * for an integer or float attribute.
 */
export type NcAttrValue = string | number | ArrayLike<number> | NcTypedAttr;
export type NcAttrs = Record<string, NcAttrValue>;

export interface NcDimDef {
  name: string;
  /** Length; for the unlimited dimension, the number of records written. */
  size: number;
  unlimited?: boolean;
}

export interface NcVarDef {
  name: string;
  type: NcWriteType;
  /** Dimension names, slowest-varying first; the unlimited dimension may only come first. */
  dims: string[];
  attrs?: NcAttrs;
}

export interface NcFileDef {
  /** `auto` (the default) picks CDF-1 when every offset fits in it, CDF-2 otherwise. */
  format?: NcFormat | 'auto';
  dims: NcDimDef[];
  attrs?: NcAttrs;
  variables: NcVarDef[];
}

/**
 * One chunk of a variable's values, in row-major order, continuing where the previous chunk
 * stopped (chunks may be any size and need not align with rows or records).
 * - numeric variables: any `ArrayLike<number>` (typed array or number[]). NaN becomes the
 *   variable's `_FillValue` when one is declared (an error for integer types without one);
 *   so do `null`/`undefined` in plain arrays (JSON-style missing values), which typed-array
 *   conversion would otherwise turn into 0.
 *   Integer types truncate toward zero and reject values outside the type's range.
 *   For `i1`, a `Uint8Array` is taken as raw bytes (200 is stored as -56).
 * - `char` variables: `string[]` gives one string per row of the last dimension, UTF-8 encoded
 *   and NUL-padded to its length (longer strings are an error; the chunk must start on a row
 *   boundary); a `Uint8Array` continues the byte stream as is.
 */
export type NcChunk = ArrayLike<number> | string[];

/**
 * A variable's values. Iterables are pulled lazily; for record variables the writer pulls one
 * record's worth from each record variable in turn (records interleave in the file), so the
 * iterables of different variables must be consumable independently.
 */
export type NcValues = Iterable<NcChunk> | AsyncIterable<NcChunk>;

/** Returns the values of the named variable, or `undefined` to write it entirely with its fill value. */
export type NcDataSource = (variable: string) => NcValues | undefined;

interface NcVarLayout {
  name: string;
  type: NcWriteType;
  dims: string[];
  /** Full shape, the record dimension counted with its number of records. */
  shape: number[];
  record: boolean;
  /** Number of values the data source must supply. */
  elements: number;
  /** Bytes per variable (fixed) or per record (record variables), padded to 4 as the header states it. */
  bytes: number;
  /** Byte offset of the first value (of the first record for record variables). */
  begin: number;
}

export interface NcLayout {
  format: NcFormat;
  /** Bytes before the first variable's data. */
  headerSize: number;
  numrecs: number;
  /** Byte offset of the record section (= end of the fixed-size variables). */
  recordsBegin: number;
  /** Stride between records, in bytes. */
  recordSize: number;
  /** Exact length of the file {@link writeNetcdf3} produces. */
  totalSize: number;
  variables: NcVarLayout[];
}

export interface NcWriteOptions {
  /** Size of the chunks yielded (except the last), in bytes; default 1 MiB. */
  chunkSize?: number;
}
