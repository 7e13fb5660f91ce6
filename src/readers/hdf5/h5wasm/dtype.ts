/** HDF5 datatypes and dataspaces as odas sees them: a DType (or none), unlimited axes. */
import type { Metadata } from 'h5wasm/node';
import type { DType } from '../../types.js';
import { h5 } from './module.js';

const UNLIMITED_THRESHOLD = Number.MAX_SAFE_INTEGER; // h5wasm reports H5S_UNLIMITED as 2**64 - 1

export function dtypeOf(meta: Metadata): DType | undefined {
  const cls = h5().H5T_class_t;
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

export function isUnlimited(maxshape: number[] | null, axis: number): boolean {
  return (maxshape?.[axis] ?? 0) > UNLIMITED_THRESHOLD;
}
