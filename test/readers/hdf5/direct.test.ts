/**
 * Chunk-direct HDF5 reads (native zlib) against h5wasm: the same windows of real files read through
 * both paths must give identical bytes; fixtures in os.tmpdir() cover what no real file has
 * (big-endian data, fletcher32, unallocated chunks, layout-v4 indexes, an unsupported filter), a
 * corrupted chunk and a file rewritten after its manifest was taken.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import h5wasm from 'h5wasm/node';
import {
  Hdf5Pool,
  MemoryManifestStore,
  openHdf5,
  type Hdf5Log,
  type ManifestOrMiss,
  type ManifestStore,
} from '../../../src/readers/hdf5/reader.js';
import type { Chunk, RawArray, Window } from '../../../src/readers/types.js';
import { CorruptFileError } from '../../../src/readers/types.js';
import { sharedData } from '../../helpers/data.js';

const ADT = sharedData('satellite/dt_med_allsat_phy_l4_2005T2.nc');
const COADS = sharedData('satellite/coads_sst.nc');
const GHRSST = sharedData('satellite/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc');
const SEAICE = sharedData('satellite/seaice_conc_monthly_nh_202112_f17_v04r00.nc');
const SPROF = sharedData('argo/3902131_Sprof.nc');
const MCTD = sharedData('insitu/MCTD_HUD2013004_1845_10515_1800.nc');
const PY = '/usr/bin/python3';

interface Line {
  level: 'debug' | 'info';
  fields: Record<string, unknown>;
  msg: string;
}

class RecordingLog implements Hdf5Log {
  readonly lines: Line[] = [];
  debug(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'debug', fields, msg });
  }
  info(fields: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'info', fields, msg });
  }
  /** The read-path decisions logged for one file and dataset. */
  decisions(file: string, h5path: string): Line[] {
    return this.lines.filter((l) => l.fields.path === file && l.fields.variable === h5path);
  }
}

const log = new RecordingLog();
const direct = new Hdf5Pool({ size: 1, direct: { enabled: true, log, manifests: new MemoryManifestStore() } });
const wasm = new Hdf5Pool({ size: 1, direct: { enabled: false } });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'odas-hdf5-direct-'));
t.teardown(async () => {
  await Promise.all([direct.close(), wasm.close()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function bytesOf(raw: RawArray): Uint8Array {
  const data = raw.data;
  if (Array.isArray(data)) throw new Error('string data');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function identical(a: RawArray, b: RawArray): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Reads `windows` of `variable` through both paths; asserts equal bytes and that the direct path was taken. */
async function compare(
  t: Test,
  file: string,
  variable: string,
  windows: Window[],
  expectPath: 'direct' | 'h5wasm' = 'direct',
): Promise<void> {
  const a = await openHdf5(file, direct);
  const b = await openHdf5(file, wasm);
  for (const w of windows) {
    const x = await a.readRaw(variable, w);
    const y = await b.readRaw(variable, w);
    t.same(x.shape, y.shape, `${variable} ${JSON.stringify(w)}: shape`);
    t.equal(x.dtype, y.dtype);
    t.equal(x.data.constructor, y.data.constructor, 'same array type');
    t.ok(identical(x, y), `${path.basename(file)} ${variable} ${JSON.stringify(w)}: identical values`);
  }
  const decided = log.decisions(a.path, `/${variable}`);
  t.equal(decided.length, 1, `${variable}: path logged once`);
  t.match(decided[0]?.msg ?? '', expectPath === 'direct' ? /direct/ : /h5wasm/, `${variable} read via ${expectPath}`);
}

// ---- real files ----------------------------------------------------------------------------

t.test('shuffle + deflate int16 (AVISO adt): windows across chunk boundaries', async (t) => {
  await compare(t, ADT, 'adt', [
    {},
    { time: [15, 45], latitude: [60, 70] },
    { time: [3, 4], latitude: [10, 11], longitude: [5, 6] },
    { latitude: [63, 65], longitude: [340, 344] },
    { time: [90, 91] },
  ]);
});

t.test('chunked without filters (COADS), shuffle+deflate int16/int8 (GHRSST), deflate uint8 (sea ice)', async (t) => {
  await compare(t, COADS, 'SST', [
    {},
    { TIME: [3, 7], COADSY: [10, 30], COADSX: [100, 150] },
    { TIME: [11, 12], COADSY: [89, 90] },
  ]);
  await compare(t, COADS, 'COADSX', [{}, { COADSX: [5, 17] }]);
  await compare(t, GHRSST, 'analysed_sst', [{}, { lat: [72, 169], lon: [96, 269] }]);
  await compare(t, GHRSST, 'mask', [{ lat: [0, 240], lon: [100, 101] }]);
  await compare(t, SEAICE, 'cdr_seaice_conc_monthly', [
    {},
    { y: [100, 300], x: [0, 304] },
    { y: [224, 225], x: [152, 153] },
  ]);
});

t.test('contiguous storage (moored CTD), 2-D chunked floats and chars (Argo S-prof)', async (t) => {
  await compare(t, MCTD, 'TEMP_01', [{ time: [782, 783] }, {}, { time: [100, 5000] }]);
  const line = log.decisions(path.resolve(MCTD), '/TEMP_01')[0];
  t.equal(line?.fields.storage, 'contiguous');
  await compare(t, SPROF, 'PRES', [
    {},
    { N_PROF: [0, 1], N_LEVELS: [0, 1] },
    { N_PROF: [100, 162], N_LEVELS: [700, 800] },
  ]);
  await compare(t, SPROF, 'PLATFORM_NUMBER', [{}, { N_PROF: [10, 12], STRING8: [0, 7] }]);
});

t.test('sparse windows gather from still-shuffled chunks (no chunk cache)', async (t) => {
  const uncached = new Hdf5Pool({ size: 1, direct: { enabled: true, chunkCacheBytes: 1 } });
  t.teardown(() => uncached.close());
  const a = await openHdf5(ADT, uncached);
  const b = await openHdf5(ADT, wasm);
  for (const w of [
    { latitude: [63, 65], longitude: [100, 101] },
    { time: [0, 91], latitude: [70, 71], longitude: [200, 201] },
    { time: [10, 11], latitude: [0, 128], longitude: [343, 344] },
  ] as Window[]) {
    t.ok(identical(await a.readRaw('adt', w), await b.readRaw('adt', w)), `adt ${JSON.stringify(w)}`);
  }
  if (haveNetcdf4) {
    const w: Window = { y: [3, 9], x: [17, 18] };
    const x = await (await openHdf5(NC_FIXTURE, uncached)).readRaw('be', w);
    t.ok(
      identical(x, await (await openHdf5(NC_FIXTURE, wasm)).readRaw('be', w)),
      'big-endian doubles gathered then swapped',
    );
  }
});

t.test('read() streams the same chunk windows and values through both paths', async (t) => {
  const slab = 128 * 344 * 2;
  const collect = async (pool: Hdf5Pool): Promise<Chunk[]> => {
    const r = await openHdf5(ADT, pool, { maxChunkBytes: 20 * slab });
    const out: Chunk[] = [];
    for await (const c of r.read({ variables: ['adt', 'time'], window: { time: [5, 50], latitude: [30, 100] } }))
      out.push(c);
    return out;
  };
  const a = await collect(direct);
  const b = await collect(wasm);
  t.same(
    a.map((c) => [c.variable, c.window]),
    b.map((c) => [c.variable, c.window]),
    'same pieces in the same order',
  );
  a.forEach((c, i) => t.ok(identical(c, b[i]!), `piece ${i} identical`));
});

t.test('abort stops a direct read', async (t) => {
  const r = await openHdf5(ADT, direct);
  const ac = new AbortController();
  const reading = r.readRaw('adt', {}, ac.signal);
  ac.abort();
  await t.rejects(reading, { name: 'AbortError' });
});

t.test('manifests are plain JSON: a persistent store is filled once and reused after a restart', async (t) => {
  /** Stands in for the SQLite catalog: JSON text per file key and dataset. */
  class JsonStore implements ManifestStore {
    readonly rows = new Map<string, string>();
    puts = 0;
    get(fileKey: string, variable: string): ManifestOrMiss | undefined {
      const row = this.rows.get(`${fileKey}|${variable}`);
      return row === undefined ? undefined : (JSON.parse(row) as ManifestOrMiss);
    }
    put(fileKey: string, variable: string, manifest: ManifestOrMiss): void {
      this.puts++;
      this.rows.set(`${fileKey}|${variable}`, JSON.stringify(manifest));
    }
  }
  const store = new JsonStore();
  const w: Window = { time: [10, 30], latitude: [50, 80] };
  // The indexer takes every variable's manifest ahead of serving, with direct reads on or off.
  const indexer = new Hdf5Pool({ size: 1, direct: { enabled: false, manifests: store } });
  const taken = await indexer.takeManifests(ADT);
  await indexer.close();
  t.same(Object.keys(taken).sort(), ['/adt', '/latitude', '/longitude', '/time']);
  t.ok(Object.values(taken).every((m) => m.covered));
  t.equal(store.puts, 4, 'one manifest per variable');
  const st = fs.statSync(ADT);
  t.ok(store.rows.has(`${path.resolve(ADT)}:${st.size}:${st.mtimeMs}|/adt`), 'keyed by path, size and mtime');
  const first = new Hdf5Pool({ size: 1, direct: { enabled: true, manifests: store } });
  const a = await (await openHdf5(ADT, first)).readRaw('adt', w);
  await first.close();
  t.equal(store.puts, 4, 'serving takes none');

  const restarted = new Hdf5Pool({ size: 1, direct: { enabled: true, manifests: store } });
  t.teardown(() => restarted.close());
  const b = await (await openHdf5(ADT, restarted)).readRaw('adt', w);
  t.equal(store.puts, 4, 'no manifest taken again after the restart');
  t.ok(identical(a, b), 'same values from the stored manifest');
  t.ok(identical(b, await (await openHdf5(ADT, wasm)).readRaw('adt', w)), 'and equal to h5wasm');
});

// ---- fixtures: big-endian, fletcher32, unallocated chunks, layout v4 -----------------------

function python(module: string, code: string): boolean {
  const probe = spawnSync(PY, ['-c', `import ${module}`]);
  if (probe.status !== 0) return false;
  const r = spawnSync(PY, ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fixture script failed: ${r.stderr}`);
  return true;
}

const NC_FIXTURE = path.join(tmp, 'netcdf4.nc');
const haveNetcdf4 = python(
  'netCDF4',
  `
import netCDF4, numpy as np
ds = netCDF4.Dataset(${JSON.stringify(NC_FIXTURE)}, 'w')
ds.createDimension('y', 10)
ds.createDimension('x', 100)
a = np.arange(1000).reshape(10, 100)
v = ds.createVariable('be', 'f8', ('y', 'x'), zlib=True, shuffle=True, chunksizes=(4, 30), endian='big')
v[:] = a * 0.25
v = ds.createVariable('fl', 'i4', ('y', 'x'), zlib=True, shuffle=True, fletcher32=True, chunksizes=(4, 30))
v[:] = a - 500
v = ds.createVariable('partial', 'i2', ('y', 'x'), zlib=True, chunksizes=(4, 30), fill_value=-999)
v[0:4, 0:30] = 7
v = ds.createVariable('be_contig', 'i4', ('y', 'x'), endian='big', contiguous=True)
v[:] = a * 3
ds.close()
`,
);

t.test(
  'netCDF-4 fixture: big-endian, fletcher32, unallocated chunks with _FillValue',
  { skip: haveNetcdf4 ? false : 'python3-netcdf4 not installed' },
  async (t) => {
    await compare(t, NC_FIXTURE, 'be', [{}, { y: [3, 9], x: [17, 95] }]);
    await compare(t, NC_FIXTURE, 'fl', [{}, { y: [5, 6], x: [29, 31] }]);
    await compare(t, NC_FIXTURE, 'partial', [{}, { y: [2, 6], x: [25, 35] }]);
    await compare(t, NC_FIXTURE, 'be_contig', [{}, { y: [1, 3], x: [50, 60] }]);
    const r = await openHdf5(NC_FIXTURE, direct);
    const be = await r.readRaw('be', { y: [3, 4], x: [17, 18] });
    t.equal(be.data[0], 317 * 0.25, 'big-endian doubles swapped');
    const partial = await r.readRaw('partial', {});
    t.equal(partial.data[0], 7, 'written chunk');
    t.equal(partial.data[999], -999, 'unallocated chunk reads as _FillValue');
    const stored = log.decisions(r.path, '/partial')[0]?.fields.chunks;
    t.ok(typeof stored === 'number' && stored < 9, `only ${String(stored)} of 9 chunks stored`);
    t.ok((log.decisions(r.path, '/fl')[0]?.fields.filters as number[]).includes(3), 'fletcher32 in the pipeline');
    t.equal((await r.readRaw('be_contig', { y: [9, 10], x: [99, 100] })).data[0], 999 * 3);
  },
);

const V4_FIXTURE = path.join(tmp, 'latest.h5');
const haveH5py = python(
  'h5py',
  `
import h5py, numpy as np
with h5py.File(${JSON.stringify(V4_FIXTURE)}, 'w', libver='latest') as f:
    a = (np.arange(1000, dtype='f4') * 0.5).reshape(10, 100)
    f.create_dataset('fixed', data=a, chunks=(4, 30), compression='gzip', shuffle=True, fletcher32=True)
    f.create_dataset('single', data=a, chunks=(10, 100), compression='gzip')
    f.create_dataset('ext', data=a, chunks=(4, 30), maxshape=(None, 100), compression='gzip')
    d = f.create_dataset('sparse', shape=(10, 100), dtype='i2', chunks=(4, 30), fillvalue=-5)
    d[4:8, 30:60] = 3
`,
);

t.test(
  'layout v4 (superblock v3): fixed-array and single-chunk direct, extensible array falls back',
  { skip: haveH5py ? false : 'python3-h5py not installed' },
  async (t) => {
    await compare(t, V4_FIXTURE, 'fixed', [{}, { phony_dim_0: [3, 9], phony_dim_1: [17, 95] }]);
    await compare(t, V4_FIXTURE, 'single', [{}, { phony_dim_0: [0, 1] }]);
    await compare(t, V4_FIXTURE, 'sparse', [{}]);
    await compare(t, V4_FIXTURE, 'ext', [{}], 'h5wasm');
    t.match(String(log.decisions(path.resolve(V4_FIXTURE), '/ext')[0]?.fields.reason), /extensible-array/);
  },
);

// ---- fallback, corruption, rewritten files -------------------------------------------------

async function h5wasmModule(): Promise<Awaited<typeof h5wasm.ready>> {
  const M = await h5wasm.ready;
  M.activate_throwing_error_handler();
  const pluginDir = path.join(
    path.dirname(createRequire(import.meta.url).resolve('h5wasm-plugins/package.json')),
    'plugins',
  );
  if (!M.get_plugin_search_paths().includes(pluginDir)) M.insert_plugin_search_path(pluginDir, 0);
  return M;
}

function writeGrid(file: string, scale: number): void {
  const f = new h5wasm.File(file, 'w');
  const values = Float32Array.from({ length: 1000 }, (_, i) => i * scale);
  f.create_dataset({
    name: 'v',
    data: values,
    shape: [10, 100],
    chunks: [4, 30],
    compression: 'gzip',
    compression_opts: [4],
  });
  f.close();
}

t.test('a filter outside deflate/shuffle/fletcher32 (zstd) is read by h5wasm', async (t) => {
  await h5wasmModule();
  const file = path.join(tmp, 'zstd.h5');
  const f = new h5wasm.File(file, 'w');
  const values = Float32Array.from({ length: 1000 }, (_, i) => i / 4);
  f.create_dataset({
    name: 'zstd',
    data: values,
    shape: [10, 100],
    chunks: [5, 50],
    compression: 32015,
    compression_opts: [3],
  });
  f.close();
  await compare(t, file, 'zstd', [{}, { phony_dim_0: [2, 3] }], 'h5wasm');
  t.match(String(log.decisions(path.resolve(file), '/zstd')[0]?.fields.reason), /filter 32015/);
  const raw = await (await openHdf5(file, direct)).readRaw('zstd', { phony_dim_0: [9, 10], phony_dim_1: [99, 100] });
  t.equal(raw.data[0], 999 / 4);
});

/**
 * A copy of the ADT file with one byte of its fourth chunk flipped (its mtime moved by `bumpMs` so no
 * cache keyed on size+mtime mistakes it for an earlier copy): a real corrupt zlib stream.
 */
async function corruptAdtChunk(t: Test, name: string, bumpMs: number): Promise<string> {
  const copy = path.join(tmp, name);
  fs.copyFileSync(ADT, copy);
  const target = await direct.direct.target(copy, { h5path: '/adt', dtype: 'i2' });
  t.ok(target, 'adt is covered');
  const m = target!.manifest;
  const at = m.offsets[3]! + Math.floor(m.sizes[3]! / 2);
  const fd = fs.openSync(copy, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
  const bumped = new Date(Date.now() + bumpMs);
  fs.utimesSync(copy, bumped, bumped);
  return copy;
}

t.test('a corrupted chunk: CorruptFileError naming the file and the variable', async (t) => {
  const copy = await corruptAdtChunk(t, 'adt-corrupt.nc', 5_000);
  const r = await openHdf5(copy, direct);
  const err = await r.readRaw('adt').then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, CorruptFileError);
  t.match((err as Error).message, copy);
  t.match((err as Error).message, /variable adt/);
  t.ok((await r.readRaw('adt', { time: [0, 1] })).data.length > 0, 'chunks that are intact still read');
});

t.test(
  'fletcher32 mismatch is a CorruptFileError',
  { skip: haveH5py ? false : 'python3-h5py not installed' },
  async (t) => {
    const copy = path.join(tmp, 'fletcher-corrupt.h5');
    fs.copyFileSync(V4_FIXTURE, copy);
    const target = await direct.direct.target(copy, { h5path: '/fixed', dtype: 'f4' });
    const m = target!.manifest;
    t.same(
      m.filters.map((f) => f.id),
      [2, 1, 3],
      'h5py: fletcher32 last, checked first',
    );
    const at = m.offsets[0]! + 2;
    const fd = fs.openSync(copy, 'r+');
    fs.writeSync(fd, Buffer.from([0x00, 0x01, 0x02]), 0, 3, at);
    fs.closeSync(fd);
    const bumped = new Date(Date.now() + 5_000);
    fs.utimesSync(copy, bumped, bumped);
    const err = await (await openHdf5(copy, direct)).readRaw('fixed').then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, CorruptFileError);
    t.match((err as Error).message, /fletcher32 checksum mismatch/);
    t.match((err as Error).message, copy);
  },
);

t.test('a file rewritten after its manifest was taken is read anew, never with stale offsets', async (t) => {
  await h5wasmModule();
  const file = path.join(tmp, 'rewritten.h5');
  writeGrid(file, 0.5);
  const r = await openHdf5(file, direct);
  const before = await r.readRaw('v', { phony_dim_0: [9, 10], phony_dim_1: [90, 100] });
  t.equal(before.data[9], 999 * 0.5);
  t.match(log.decisions(r.path, '/v')[0]?.msg ?? '', /direct/);

  // A new file with other values (and other compressed sizes, so other chunk offsets) replaces it.
  const next = path.join(tmp, 'rewritten.next.h5');
  writeGrid(next, 3);
  const later = new Date(Date.now() + 10_000);
  fs.utimesSync(next, later, later);
  fs.renameSync(next, file);

  const after = await r.readRaw('v', { phony_dim_0: [9, 10], phony_dim_1: [90, 100] });
  t.equal(after.data[9], 999 * 3, 'the same reader sees the new values');
  const fresh = await (await openHdf5(file, wasm)).readRaw('v', {});
  t.ok(identical(await (await openHdf5(file, direct)).readRaw('v', {}), fresh), 'identical to h5wasm on the new file');
});

// ---- decimated reads (readPicks) -------------------------------------------------------------

/** Every `step`-th index of [from, to). */
function every(from: number, to: number, step: number): Int32Array {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return Int32Array.from(out);
}

/** The picked cells of a whole-variable h5wasm read, picked here: the reference for readPicks. */
async function expectPicks(t: Test, file: string, variable: string, picks: Int32Array[], what: string): Promise<void> {
  const got = await (await openHdf5(file, direct)).readPicks(variable, picks);
  const whole = await (await openHdf5(file, wasm)).readRaw(variable);
  const src = whole.data as ArrayLike<number | bigint>;
  const expected: Array<number | bigint> = [];
  const strides = whole.shape.map((_, d) => whole.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const idx = picks.map(() => 0);
  const total = picks.reduce((n, p) => n * p.length, 1);
  for (let o = 0; o < total; o++) {
    expected.push(src[picks.reduce((s, p, d) => s + p[idx[d]!]! * strides[d]!, 0)]!);
    for (let d = picks.length - 1; d >= 0 && ++idx[d]! === picks[d]!.length; d--) idx[d] = 0;
  }
  t.same(
    got.shape,
    picks.map((p) => p.length),
    `${what}: shape`,
  );
  t.equal(got.dtype, whole.dtype, `${what}: dtype`);
  t.same(Array.from(got.data as ArrayLike<number | bigint>), expected, `${what}: the picked cells`);
}

t.test('readPicks: the picked cells of shuffled, fletcher32, big-endian, sparse and contiguous data', async (t) => {
  // AVISO adt [time, latitude, longitude]: every 3rd cell (whole chunks, shuffled gather), and picks
  // that skip whole chunks.
  await expectPicks(t, ADT, 'adt', [Int32Array.of(4), every(0, 128, 3), every(0, 344, 3)], 'adt every 3rd');
  await expectPicks(t, ADT, 'adt', [Int32Array.of(0, 50, 90), every(5, 128, 61), every(1, 344, 170)], 'adt sparse');
  await expectPicks(t, GHRSST, 'analysed_sst', [Int32Array.of(0), every(0, 240, 2), every(1, 384, 2)], 'GHRSST');
  await expectPicks(
    t,
    SEAICE,
    'cdr_seaice_conc_monthly',
    [Int32Array.of(0), every(3, 448, 5), every(0, 304, 7)],
    'sea ice',
  );
  if (haveNetcdf4) {
    await expectPicks(t, NC_FIXTURE, 'be', [every(0, 10, 3), every(2, 100, 9)], 'big-endian doubles');
    await expectPicks(t, NC_FIXTURE, 'fl', [every(1, 10, 2), every(0, 100, 4)], 'fletcher32');
    await expectPicks(t, NC_FIXTURE, 'partial', [every(0, 10, 3), every(0, 100, 11)], 'unallocated chunks');
    await expectPicks(t, NC_FIXTURE, 'be_contig', [every(0, 10, 4), every(3, 100, 10)], 'contiguous big-endian');
  }
  if (haveH5py) await expectPicks(t, V4_FIXTURE, 'ext', [every(0, 10, 3), every(0, 100, 7)], 'h5wasm path');
  const r = await openHdf5(ADT, direct);
  await t.rejects(r.readPicks('adt', [Int32Array.of(0), Int32Array.of(3, 2), Int32Array.of(0)]), /ascend/);
  await t.rejects(r.readPicks('adt', [Int32Array.of(0), Int32Array.of(0)]), /pick list/);
});

t.test('readPicks: a corrupted chunk decoded by a worker is a CorruptFileError naming the file', async (t) => {
  const copy = await corruptAdtChunk(t, 'adt-corrupt-picks.nc', 7_000);
  const r = await openHdf5(copy, direct);
  const err = await r.readPicks('adt', [every(0, 91, 1), every(0, 128, 4), every(0, 344, 4)]).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, CorruptFileError);
  t.match((err as Error).message, copy);
  t.match((err as Error).message, /variable adt: chunk at byte \d+/);
});
