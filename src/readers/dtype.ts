/**
 * The one table of storage types: bytes per value and the typed array that holds them. Readers,
 * the grid planner and the encoders all size and allocate through it.
 */
import type { DType, NumericArray } from './types.js';

export type NumericDType = Exclude<DType, 'char' | 'string'>;

interface TypedArrayConstructor {
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** The typed array of each fixed-size storage type (`char` is bytes). */
export const TYPED_ARRAY: Readonly<Record<Exclude<DType, 'string'>, TypedArrayConstructor>> = {
  i1: Int8Array,
  u1: Uint8Array,
  char: Uint8Array,
  i2: Int16Array,
  u2: Uint16Array,
  i4: Int32Array,
  u4: Uint32Array,
  i8: BigInt64Array,
  u8: BigUint64Array,
  f4: Float32Array,
  f8: Float64Array,
};

/** Bytes per stored value. Strings have no fixed size: 16 only sizes streamed chunks and limits. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  i1: 1,
  u1: 1,
  char: 1,
  i2: 2,
  u2: 2,
  i4: 4,
  u4: 4,
  f4: 4,
  i8: 8,
  u8: 8,
  f8: 8,
  string: 16,
};

/** A zeroed typed array of a numeric storage type (`char` is bytes). */
export function newTypedArray(dtype: NumericDType | 'char', length: number): NumericArray {
  return new TYPED_ARRAY[dtype](length);
}

/** The values of `byteLength` bytes at `byteOffset` of `buffer`, without a copy (the offset must be aligned). */
export function typedArrayView(
  dtype: Exclude<DType, 'string'>,
  buffer: ArrayBufferLike,
  byteOffset: number,
  byteLength: number,
): NumericArray {
  const ctor = TYPED_ARRAY[dtype];
  return new ctor(buffer, byteOffset, byteLength / ctor.BYTES_PER_ELEMENT);
}
