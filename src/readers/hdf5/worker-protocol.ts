/**
 * Messages between the HDF5 reader (main thread) and its h5wasm worker (./worker.ts), through the
 * generic pool protocol of src/workers/pool.ts. Types only: importing this module loads no wasm.
 */
import type { DatasetInfo, DType, NumericArray, VariableInfo } from '../types.js';

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
