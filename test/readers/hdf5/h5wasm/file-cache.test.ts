/**
 * src/readers/hdf5/h5wasm/file-cache.ts: open h5wasm handles are reused, reopened when the file is
 * replaced on disk, dropped when it is deleted, and bounded in number (LRU). Real files, copied.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Hdf5Fault } from '../../../../src/readers/hdf5/h5wasm/errors.js';
import { FileCache } from '../../../../src/readers/hdf5/h5wasm/file-cache.js';
import { loadH5 } from '../../../../src/readers/hdf5/h5wasm/module.js';
import { sharedData } from '../../../helpers/data.js';

const COADS = sharedData('satellite/coads_sst.nc');
const GLIDER = sharedData('insitu/dfo-rosie713-20190615.nc');

function fault(fn: () => unknown): Hdf5Fault {
  try {
    fn();
  } catch (err) {
    if (err instanceof Hdf5Fault) return err;
    throw err;
  }
  throw new Error('expected an Hdf5Fault');
}

t.test('reuse, reopen on change, deleted and non-regular files', async (t) => {
  await loadH5();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odas-h5cache-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'a.nc');
  fs.copyFileSync(COADS, file);
  const cache = new FileCache(4);

  const first = cache.get(file);
  t.equal(cache.get(file), first, 'an unchanged file keeps its handle');
  t.ok(first.file.keys().includes('SST'));

  fs.copyFileSync(GLIDER, file); // another file under the same name: new size and mtime
  const second = cache.get(file);
  t.not(second, first, 'a replaced file is reopened');
  t.notOk(second.file.keys().includes('SST'));
  t.ok(second.file.keys().includes('temperature'));

  fs.rmSync(file);
  const gone = fault(() => cache.get(file));
  t.equal(gone.code, 'notfound');
  t.match(gone.message, /no such file/);

  const notFile = fault(() => cache.get(dir));
  t.equal(notFile.code, 'corrupt');
  t.match(notFile.message, /not a regular file/);

  const text = path.join(dir, 'text.nc');
  fs.writeFileSync(text, 'not HDF5 at all');
  const notHdf5 = fault(() => cache.get(text));
  t.equal(notHdf5.code, 'corrupt');
  t.match(notHdf5.message, /not a readable HDF5 file/);
});

t.test('at most `capacity` files stay open; the least recently used goes first', async (t) => {
  await loadH5();
  const cache = new FileCache(2);
  const a = cache.get(COADS);
  const b = cache.get(GLIDER);
  t.equal(cache.get(COADS), a, 'touching a makes b the oldest');
  const c = cache.get(sharedData('satellite/dt_med_allsat_phy_l4_2005T2.nc')); // evicts b
  t.ok(c);
  t.equal(cache.get(COADS), a, 'a stayed open');
  t.not(cache.get(GLIDER), b, 'b was closed and is opened again');
});
