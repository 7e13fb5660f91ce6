/**
 * src/readers/hdf5/h5wasm/filters.ts: the filters h5wasm decodes here (built-ins plus the installed
 * h5wasm-plugins) pass; any other is refused with its id and name.
 */
import t from 'tap';
import { Hdf5Fault } from '../../../../src/readers/hdf5/h5wasm/errors.js';
import { checkFilters, filterName } from '../../../../src/readers/hdf5/h5wasm/filters.js';
import { loadH5 } from '../../../../src/readers/hdf5/h5wasm/module.js';

t.test('built-in and installed plugin filters pass, others are refused by name', async (t) => {
  await loadH5(); // registers the plugins found in h5wasm-plugins
  t.doesNotThrow(() => checkFilters([2, 1, 3], 'f.nc', '/a'), 'shuffle, deflate, fletcher32');
  t.doesNotThrow(() => checkFilters([32015, 32001, 32004, 307], 'f.nc', '/a'), 'zstd, blosc, lz4, bzip2 plugins');
  t.doesNotThrow(() => checkFilters([], 'f.nc', '/a'), 'contiguous: no pipeline');
  let err: unknown;
  try {
    checkFilters([2, 32000], 'f.nc', '/grp/v');
  } catch (e) {
    err = e;
  }
  t.type(err, Hdf5Fault);
  const fault = err as Hdf5Fault;
  t.equal(fault.code, 'filter');
  t.equal(fault.message, 'f.nc: dataset /grp/v uses HDF5 filter 32000 (lzf), which this server cannot decode');
  t.same(fault.data, { path: 'f.nc', dataset: '/grp/v', filterId: 32000, filterName: 'lzf' });
});

t.test('filter names: built-in, plugin, known, unknown', async (t) => {
  t.equal(filterName(1), 'deflate');
  t.equal(filterName(32015), 'zstd');
  t.equal(filterName(32013), 'zfp');
  t.equal(filterName(65000), 'unknown');
});
