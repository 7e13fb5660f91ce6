/**
 * src/readers/hdf5/h5wasm/errors.ts: HDF5's error stacks shortened to their deepest frame, and the
 * error shape the pool sends back to the reader. The HDF5 messages are real: h5wasm opening a
 * truncated copy of a real file in this thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import h5wasm from 'h5wasm/node';
import {
  Hdf5Fault,
  isWasmTrap,
  serializeError,
  summarizeHdf5Error,
} from '../../../../src/readers/hdf5/h5wasm/errors.js';
import { loadH5 } from '../../../../src/readers/hdf5/h5wasm/module.js';
import { sharedData } from '../../../helpers/data.js';

t.test('an HDF5-DIAG stack becomes its deepest message and minor code', async (t) => {
  await loadH5();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odas-h5err-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = fs.readFileSync(sharedData('satellite/coads_sst.nc'));
  const truncated = path.join(dir, 'half.nc');
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  let caught: unknown;
  try {
    new h5wasm.File(truncated, 'r').close();
  } catch (err) {
    caught = err;
  }
  t.ok(caught instanceof Error && caught.message.includes('HDF5-DIAG'), 'h5wasm throws the whole stack');
  const summary = summarizeHdf5Error(caught);
  t.notMatch(summary, /HDF5-DIAG|\n/, 'one line');
  t.match(summary, /truncated/);
  t.match(summary, /\(.+\)$/, 'ends with the minor code in parentheses');
  t.equal(serializeError(caught).message, summary, 'a plain error crosses the thread summarized');
});

t.test('messages without a stack pass through; faults keep their code and data', async (t) => {
  t.equal(summarizeHdf5Error(new Error('plain')), 'plain');
  t.equal(summarizeHdf5Error('a string'), 'a string');
  const fault = new Hdf5Fault('filter', 'f.nc: dataset /x uses HDF5 filter 32000 (lzf)', { filterId: 32000 });
  t.same(serializeError(fault), {
    name: 'Hdf5Fault',
    message: 'f.nc: dataset /x uses HDF5 filter 32000 (lzf)',
    code: 'filter',
    data: { filterId: 32000 },
  });
  t.same(serializeError(42), { name: 'Error', message: '42' });
});

t.test('only a wasm RuntimeError counts as a trap', async (t) => {
  const trap = new Error('unreachable');
  trap.name = 'RuntimeError';
  t.ok(isWasmTrap(trap));
  t.notOk(isWasmTrap(new Error('unreachable')));
  t.notOk(isWasmTrap('RuntimeError'));
});
