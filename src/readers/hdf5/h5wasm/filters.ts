/**
 * Which HDF5 filters h5wasm decodes in this worker: the built-ins plus the h5wasm-plugins whose file
 * is installed. Any other filter is refused with its id and name before HDF5 returns garbage.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Hdf5Fault } from './errors.js';

export const BUILTIN_FILTERS: ReadonlyMap<number, string> = new Map([
  [1, 'deflate'],
  [2, 'shuffle'],
  [3, 'fletcher32'],
  [4, 'szip'],
]);
/** Filters from h5wasm-plugins we accept, with the plugin file that provides each. */
const PLUGIN_FILTERS: ReadonlyMap<number, { name: string; file: string }> = new Map([
  [32015, { name: 'zstd', file: 'libH5Zzstd.so' }],
  [32001, { name: 'blosc', file: 'libH5Zblosc.so' }],
  [32004, { name: 'lz4', file: 'libH5Zlz4.so' }],
  [307, { name: 'bzip2', file: 'libH5Zbz2.so' }],
]);
const KNOWN_FILTER_NAMES: ReadonlyMap<number, string> = new Map([
  [5, 'nbit'],
  [6, 'scaleoffset'],
  [32000, 'lzf'],
  [32008, 'bitshuffle'],
  [32013, 'zfp'],
  [32017, 'sz'],
  [32019, 'jpeg'],
  [32022, 'bitgroom'],
  [32023, 'bitround'],
  [32026, 'blosc2'],
]);
/** Filter ids this worker can decode: built-ins plus the plugins whose file was found. */
const supportedFilters = new Set<number>(BUILTIN_FILTERS.keys());

export function filterName(id: number): string {
  return BUILTIN_FILTERS.get(id) ?? PLUGIN_FILTERS.get(id)?.name ?? KNOWN_FILTER_NAMES.get(id) ?? 'unknown';
}

/** The one h5wasm call plugin registration needs (kept narrow: this module must not import ./module.ts). */
interface PluginSearchPath {
  insert_plugin_search_path(dir: string, index: number): number;
}

/** Points HDF5 at h5wasm-plugins' folder and marks the filters whose plugin file is there. */
export function registerPluginFilters(M: PluginSearchPath): void {
  let dir: string;
  try {
    const pkg = createRequire(import.meta.url).resolve('h5wasm-plugins/package.json');
    dir = path.join(path.dirname(pkg), 'plugins');
  } catch {
    return; // not installed: only built-in filters
  }
  // NODERAWFS: HDF5's dlopen sees the real filesystem, so the package folder works as is.
  if (M.insert_plugin_search_path(dir, 0) < 0) return;
  for (const [id, plugin] of PLUGIN_FILTERS) {
    if (fs.existsSync(path.join(dir, plugin.file))) supportedFilters.add(id);
  }
}

/** Refuses a dataset whose filter pipeline holds a filter this worker cannot decode. */
export function checkFilters(filters: readonly number[], filePath: string, h5path: string): void {
  for (const id of filters) {
    if (!supportedFilters.has(id)) {
      const name = filterName(id);
      throw new Hdf5Fault(
        'filter',
        `${filePath}: dataset ${h5path} uses HDF5 filter ${id} (${name}), which this server cannot decode`,
        { path: filePath, dataset: h5path, filterId: id, filterName: name },
      );
    }
  }
}
