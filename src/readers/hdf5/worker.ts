/**
 * Worker thread that reads NetCDF-4 / HDF5 files with h5wasm. h5wasm is synchronous, so every call
 * here blocks only this thread, never the server's event loop.
 *
 * Answers two requests from src/readers/hdf5/reader.ts through the pool protocol
 * (src/workers/pool.ts), with the message types of ./worker-protocol.ts:
 * - `info`: the NetCDF-4 data model of a file (./h5wasm/metadata.ts);
 * - `read`: one hyperslab of one dataset, returned as a transferable typed array (./h5wasm/read.ts).
 *
 * Only this thread may load ./h5wasm/: importing those modules instantiates h5wasm. The main thread
 * imports ./worker-protocol.ts (types only).
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { serveTasks, type TaskOutcome } from '../../workers/pool.js';
import type { Hdf5Request, Hdf5Response, Hdf5WorkerOptions } from './worker-protocol.js';
import { Hdf5Fault, isWasmTrap, serializeError, summarizeHdf5Error } from './h5wasm/errors.js';
import { FileCache } from './h5wasm/file-cache.js';
import { buildInfo } from './h5wasm/metadata.js';
import { h5IfLoaded, loadH5 } from './h5wasm/module.js';
import { readDataset } from './h5wasm/read.js';

function handle(files: FileCache, request: Hdf5Request): TaskOutcome<Hdf5Response> {
  const open = files.get(request.path);
  if (request.op === 'info') {
    if (!open.info) {
      try {
        open.info = buildInfo(open.file);
      } catch (err) {
        if (err instanceof Hdf5Fault || isWasmTrap(err)) throw err;
        throw new Hdf5Fault('corrupt', `${request.path}: unreadable metadata: ${summarizeHdf5Error(err)}`, {
          path: request.path,
        });
      }
    }
    return { value: open.info };
  }
  return readDataset(open, request.path, request.dataset, request.start, request.count);
}

if (!isMainThread) {
  const options = (workerData ?? {}) as Hdf5WorkerOptions;
  const files = new FileCache(Math.max(1, options.maxOpenFiles ?? 16));
  const retireHeapBytes = options.retireHeapBytes ?? 512 * 1024 * 1024;
  serveTasks<Hdf5Request, Hdf5Response>((request) => handle(files, request), {
    init: loadH5,
    serializeError,
    // A wasm trap leaves the module in an unknown state; a grown heap is never given back.
    shouldRetire: (err) => isWasmTrap(err) || (h5IfLoaded()?.HEAPU8.length ?? 0) > retireHeapBytes,
  });
}
