/**
 * Reader contracts shared by every format (NetCDF-3, NetCDF-4/HDF5, GeoTIFF, Zarr v2).
 * Readers return raw stored values; CF decoding (fill, scale/offset, time) lives in src/cf/.
 */

/** Storage type of a variable, as stored on disk. `char` is one byte per element (NetCDF NC_CHAR). */
export type DType = 'i1' | 'u1' | 'i2' | 'u2' | 'i4' | 'u4' | 'i8' | 'u8' | 'f4' | 'f8' | 'char' | 'string';

export type AttrValue = string | number | bigint | number[] | bigint[];
export type Attrs = Record<string, AttrValue>;

export type NumericArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** Random-access bytes: a local file or an HTTP range source. Readers never call fs directly. */
export interface ByteSource {
  /** Stable identity for caches (path + size + mtime for files). */
  readonly key: string;
  size(): Promise<number>;
  /** Exactly `length` bytes from `offset` (fewer only at end of source). */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface VariableInfo {
  name: string;
  dtype: DType;
  dims: string[];
  shape: number[];
  /** Native chunk shape (HDF5 and Zarr chunks, GeoTIFF tiles); absent for contiguous storage. */
  chunks?: number[];
  attrs: Attrs;
  /**
   * Stored type of each numeric attribute, where the format records one (NetCDF-3, HDF5; Zarr's JSON
   * tells integers from floats only). CF decoding needs it: a valid_range of the packed type is in
   * packed units, one of another type in physical units (CF §8.1).
   */
  attrTypes?: AttrTypes;
}

/** Stored type per attribute name (numeric attributes only). */
export type AttrTypes = Record<string, DType>;

export interface DatasetInfo {
  format: 'netcdf3' | 'hdf5' | 'geotiff' | 'zarr';
  /** Dimension name → length. */
  dims: Record<string, number>;
  /** Name of the unlimited (record) dimension, if any. */
  unlimited?: string;
  variables: VariableInfo[];
  attrs: Attrs;
}

/** Half-open index range per dimension; a missing dimension means its full extent. */
export type Window = Record<string, [start: number, stop: number]>;

/**
 * Raw values of one variable over a window, row-major in the variable's dimension order.
 * `char` arrays come as Uint8Array (one byte per char); `string` arrays (HDF5 variable-length
 * strings) come as string[].
 */
export interface RawArray {
  dtype: DType;
  shape: number[];
  data: NumericArray | string[];
}

export interface Chunk extends RawArray {
  variable: string;
  /** Absolute window this chunk covers, for every dimension of the variable. */
  window: Window;
}

export interface ReadRequest {
  variables: string[];
  window: Window;
  signal?: AbortSignal;
}

export interface Reader {
  /** Metadata only; cheap after the first call. */
  info(): Promise<DatasetInfo>;
  /** All raw values of one variable inside `window` (use for small reads: coordinates, per-profile metadata). */
  readRaw(variable: string, window?: Window, signal?: AbortSignal): Promise<RawArray>;
  /** Streamed reads for large windows, one chunk at a time, aligned to the storage layout where possible. */
  read(req: ReadRequest): AsyncIterable<Chunk>;
  /**
   * Optional, for reads that skip cells (decimated maps and overviews): the raw values at the cross
   * product of `picks` (per dimension, in the variable's dimension order, strictly ascending absolute
   * indices), row-major, shape = the picks' lengths. A reader offers it when it can do less work than
   * reading the whole window the picks span: HDF5 copies only the picked cells out of each decoded
   * chunk and skips the chunks no pick falls in; GeoTIFF reads the reduced-resolution image
   * (overview) whose cells are no larger than the spacing of the picks, and then answers that
   * image's cells.
   */
  readPicks?(variable: string, picks: Int32Array[], signal?: AbortSignal): Promise<RawArray>;
  close(): Promise<void>;
}

/** Thrown when a file cannot be parsed: the message names the file and what is wrong. */
export class CorruptFileError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'CorruptFileError';
  }
}

/** Thrown when a request names something a file does not have (unknown variable, window out of range). */
export class ReaderRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReaderRequestError';
  }
}
