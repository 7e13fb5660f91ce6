/** The `read` answer: one hyperslab of one dataset as a transferable typed array (or strings). */
import h5wasm from 'h5wasm/node';
import type { TaskOutcome } from '../../../workers/pool.js';
import { TYPED_ARRAY } from '../../dtype.js';
import type { Hdf5ReadResult } from '../worker-protocol.js';
import { dtypeOf } from './dtype.js';
import { Hdf5Fault, isWasmTrap, summarizeHdf5Error } from './errors.js';
import type { DatasetEntry, OpenFile } from './file-cache.js';
import { BUILTIN_FILTERS, checkFilters, filterName } from './filters.js';
import { h5 } from './module.js';

function datasetEntry(open: OpenFile, filePath: string, h5path: string): DatasetEntry {
  const M = h5();
  let entry = open.datasets.get(h5path);
  if (entry) return entry;
  if (M.get_type(open.file.file_id, h5path) !== M.H5G_DATASET) {
    throw new Hdf5Fault('request', `${filePath}: no dataset ${h5path}`);
  }
  const ds = new h5wasm.Dataset(open.file.file_id, h5path);
  const meta = ds.metadata;
  entry = { meta, dtype: dtypeOf(meta), filters: meta.chunks ? ds.filters.map((f) => f.id) : [] };
  open.datasets.set(h5path, entry);
  return entry;
}

export function readDataset(
  open: OpenFile,
  filePath: string,
  h5path: string,
  start: number[],
  count: number[],
): TaskOutcome<Hdf5ReadResult> {
  const M = h5();
  const entry = datasetEntry(open, filePath, h5path);
  const { meta, dtype } = entry;
  if (dtype === undefined) throw new Hdf5Fault('request', `${filePath}: dataset ${h5path} has no supported type`);
  const shape = meta.shape ?? [];
  if (start.length !== shape.length || count.length !== shape.length) {
    throw new Hdf5Fault('request', `${filePath}: ${h5path} has ${shape.length} dimensions, got ${start.length}`);
  }
  for (let i = 0; i < shape.length; i++) {
    const s = start[i] as number;
    const c = count[i] as number;
    if (!Number.isInteger(s) || !Number.isInteger(c) || s < 0 || c < 0 || s + c > (shape[i] as number)) {
      throw new Hdf5Fault(
        'request',
        `${filePath}: ${h5path} window [${s}, ${s + c}) outside [0, ${shape[i]}) on axis ${i}`,
      );
    }
  }
  checkFilters(entry.filters, filePath, h5path);

  const total = count.reduce((a, b) => a * b, 1);
  if (total === 0) {
    const data = dtype === 'string' ? [] : new TYPED_ARRAY[dtype](new ArrayBuffer(0));
    return { value: { kind: 'read', dtype, shape: count, data } };
  }
  try {
    if (dtype === 'string') {
      // h5wasm decodes fixed and variable-length strings (and frees vlen memory) in slice().
      const ds = new h5wasm.Dataset(open.file.file_id, h5path);
      const out = ds.slice(start.map((s, i) => [s, s + (count[i] as number)] as [number, number]));
      const data = Array.isArray(out) ? out.map(String) : [String(out)];
      return { value: { kind: 'read', dtype, shape: count, data } };
    }
    // Raw bytes straight from the hyperslab read: slice() would decode chars into strings and
    // unwrap scalars, and we want neither.
    const nbytes = total * meta.size;
    if (nbytes > M.MAXIMUM_MEMORY / 2) {
      throw new Hdf5Fault('request', `${filePath}: window of ${h5path} needs ${nbytes} bytes, over the worker's limit`);
    }
    const ptr = M._malloc(nbytes);
    if (ptr === 0) throw new Hdf5Fault('request', `${filePath}: cannot allocate ${nbytes} bytes for ${h5path}`);
    let bytes: Uint8Array;
    try {
      const scalar = shape.length === 0;
      M.get_dataset_data(
        open.file.file_id,
        h5path,
        scalar ? null : count.map(BigInt),
        scalar ? null : start.map(BigInt),
        scalar ? null : count.map(() => 1n),
        BigInt(ptr),
      );
      bytes = M.HEAPU8.slice(ptr, ptr + nbytes); // a fresh ArrayBuffer, transferable
    } finally {
      M._free(ptr);
    }
    const data = new TYPED_ARRAY[dtype](bytes.buffer as ArrayBuffer);
    return { value: { kind: 'read', dtype, shape: count, data }, transfer: [bytes.buffer as ArrayBuffer] };
  } catch (err) {
    if (err instanceof Hdf5Fault) throw err;
    if (isWasmTrap(err)) throw err;
    const plugins = entry.filters.filter((id) => !BUILTIN_FILTERS.has(id));
    const hint = plugins.length > 0 ? ` (filters ${plugins.map((id) => `${id} ${filterName(id)}`).join(', ')})` : '';
    throw new Hdf5Fault('corrupt', `${filePath}: cannot read ${h5path}${hint}: ${summarizeHdf5Error(err)}`, {
      path: filePath,
    });
  }
}
