/**
 * The h5wasm module of this worker thread: loaded once by `loadH5()` (throwing error handler on,
 * plugin filters registered), then reached through `h5()`.
 */
import h5wasm from 'h5wasm/node';
import { registerPluginFilters } from './filters.js';

export type H5Module = Awaited<typeof h5wasm.ready>;
let loaded: H5Module | undefined;

export async function loadH5(): Promise<void> {
  const M = await h5wasm.ready;
  // Without it, HDF5 errors (a missing filter, a truncated chunk) print to stderr and the read
  // returns whatever was in the buffer.
  M.activate_throwing_error_handler();
  registerPluginFilters(M);
  loaded = M;
}

/** The loaded module; only called after `loadH5()` resolved (the pool runs init before any task). */
export function h5(): H5Module {
  if (!loaded) throw new Error('h5wasm is not loaded in this thread (call loadH5() first)');
  return loaded;
}

/** The loaded module, or undefined before `loadH5()` finished. */
export function h5IfLoaded(): H5Module | undefined {
  return loaded;
}
