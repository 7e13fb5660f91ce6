import type { DType, NumericArray } from '../readers/types.js';

export type NumericDType = Exclude<DType, 'char' | 'string'>;

/** A zeroed typed array of a numeric storage type (`char` is bytes). */
export function newTypedArray(dtype: NumericDType | 'char', length: number): NumericArray {
  switch (dtype) {
    case 'u1':
    case 'char':
      return new Uint8Array(length);
    case 'i1': return new Int8Array(length);
    case 'u2': return new Uint16Array(length);
    case 'i2': return new Int16Array(length);
    case 'u4': return new Uint32Array(length);
    case 'i4': return new Int32Array(length);
    case 'i8': return new BigInt64Array(length);
    case 'u8': return new BigUint64Array(length);
    case 'f4': return new Float32Array(length);
    case 'f8': return new Float64Array(length);
  }
}
