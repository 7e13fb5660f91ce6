/**
 * NetCDF-4 / HDF5 reader and its worker pool, against the real files in ../shared/data (values from
 * MANIFEST.md) plus small HDF5 fixtures written to os.tmpdir() for cases no real file has
 * (plugin filters, strings, groups, a variable shorter than its unlimited dimension).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import h5wasm from 'h5wasm/node';
import {
  closeHdf5Pool,
  Hdf5Pool,
  Hdf5Reader,
  openHdf5,
  planChunks,
  UnsupportedFilterError,
  type Selection,
} from '../../../src/readers/hdf5/reader.js';
import type { Chunk, RawArray, Window } from '../../../src/readers/types.js';
import { CorruptFileError, ReaderRequestError } from '../../../src/readers/types.js';
import { sharedData } from '../../helpers/data.js';

const COADS = sharedData('satellite/coads_sst.nc');
const ADT = sharedData('satellite/dt_med_allsat_phy_l4_2005T2.nc');
const GHRSST = sharedData('satellite/20160707000000-GOS-L4_GHRSST-SSTfnd-OISST_HR_REP-BLK-v02.0-fv01.0.nc');
const SEAICE = sharedData('satellite/seaice_conc_monthly_nh_202112_f17_v04r00.nc');
const SPROF = sharedData('argo/3902131_Sprof.nc');
const MCTD = sharedData('insitu/MCTD_HUD2013004_1845_10515_1800.nc');
const GLIDER = sharedData('insitu/dfo-rosie713-20190615.nc');
const BAG = sharedData('hdf5/JD211_public_Release_1-4_UTM.bag');

const pool = new Hdf5Pool({ size: 2 });
t.teardown(async () => {
  await pool.close();
  await closeHdf5Pool();
});

const readers = new Map<string, Promise<Hdf5Reader>>();
function reader(file: string): Promise<Hdf5Reader> {
  let r = readers.get(file);
  if (!r) {
    r = openHdf5(file, pool);
    readers.set(file, r);
  }
  return r;
}

/** Value at a multi-index of a row-major raw array. */
function at(raw: RawArray, index: number[]): number | bigint | string {
  let flat = 0;
  index.forEach((i, d) => {
    flat = flat * (raw.shape[d] as number) + i;
  });
  const v = raw.data[flat];
  if (v === undefined) throw new Error(`index ${index} outside shape ${raw.shape}`);
  return v;
}

function num(raw: RawArray, index: number[]): number {
  return Number(at(raw, index));
}

/** Chars of one row of a char array (trailing blanks and NULs trimmed, as netCDF users read them). */
function charRow(raw: RawArray, row: number): string {
  const width = raw.shape.at(-1) as number;
  const bytes = (raw.data as Uint8Array).subarray(row * width, (row + 1) * width);
  return Buffer.from(bytes)
    .toString('latin1')
    .replace(/[\s\0]+$/, '');
}

const HIDDEN = [
  '_Netcdf4Dimid',
  '_Netcdf4Coordinates',
  '_NCProperties',
  'DIMENSION_LIST',
  'REFERENCE_LIST',
  '_nc3_strict',
  '_IsNetcdf4',
];

/** The error a promise rejects with; throws (failing the test) when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err : new Error(`non-Error rejection: ${String(err)}`);
  }
  throw new Error('expected the promise to reject');
}

// ---- real files: metadata and reference values ---------------------------------------------

t.test('coads_sst.nc: dimension scales, unlimited TIME, SST reference cells', async (t) => {
  const r = await reader(COADS);
  const info = await r.info();
  t.equal(info.format, 'hdf5');
  t.same(info.dims, { TIME: 12, COADSX: 180, COADSY: 90 });
  t.equal(info.unlimited, 'TIME');
  const sst = info.variables.find((v) => v.name === 'SST');
  t.ok(sst);
  t.same(sst?.dims, ['TIME', 'COADSY', 'COADSX']);
  t.same(sst?.shape, [12, 90, 180]);
  t.same(sst?.chunks, [1, 90, 180]);
  t.equal(sst?.dtype, 'f4');
  t.equal(sst?.attrs._FillValue, Math.fround(-9.99999979e33));
  t.equal(sst?.attrs.units, 'Deg C');
  t.same(info.variables.find((v) => v.name === 'TIME')?.dims, ['TIME'], 'coordinate variable on its own dimension');
  t.equal(info.attrs.history, 'FERRET V4.30 (debug/no GUI) 15-Aug-96');
  for (const v of [{ name: '(global)', attrs: info.attrs }, ...info.variables]) {
    for (const h of [...HIDDEN, 'CLASS', 'NAME']) t.notOk(h in v.attrs, `${v.name} hides ${h}`);
  }

  const cells: [[number, number, number], number, number][] = [
    [[0, 45, 90], 26.615416, 26.114231],
    [[6, 27, 125], 16.225, 15.9],
    [[11, 64, 48], 7.615, 4.256667],
  ];
  for (const [[ti, yi, xi], sstRef, airtRef] of cells) {
    const w: Window = { TIME: [ti, ti + 1], COADSY: [yi, yi + 1], COADSX: [xi, xi + 1] };
    const raw = await r.readRaw('SST', { ...w });
    t.same(raw.shape, [1, 1, 1]);
    t.type(raw.data, Float32Array);
    t.ok(Math.abs(num(raw, [0, 0, 0]) - sstRef) < 1e-5, `SST[${ti},${yi},${xi}] = ${sstRef}`);
    t.ok(Math.abs(num(await r.readRaw('AIRT', { ...w }), [0, 0, 0]) - airtRef) < 1e-5, `AIRT = ${airtRef}`);
  }
});

t.test('dt_med_allsat: int16 packed adt, chunk shape', async (t) => {
  const r = await reader(ADT);
  const adt = (await r.info()).variables.find((v) => v.name === 'adt');
  t.same(adt?.dims, ['time', 'latitude', 'longitude']);
  t.same(adt?.chunks, [20, 64, 344]);
  t.equal(adt?.dtype, 'i2');
  t.equal(adt?.attrs._FillValue, -32767);
  t.ok(Math.abs((adt?.attrs.scale_factor as number) - 1e-4) < 1e-12);
  const full = await r.readRaw('adt');
  t.type(full.data, Int16Array);
  t.same(full.shape, [91, 128, 344]);
  t.equal(num(full, [0, 64, 172]), -1502);
  t.equal(num(full, [45, 38, 240]), -1709);
  t.equal(num(full, [90, 89, 86]), -1590);
  t.ok(Math.abs(num(full, [0, 64, 172]) * (adt?.attrs.scale_factor as number) - -0.1502) < 1e-9, 'decoded -0.1502 m');
});

t.test('GHRSST Black Sea: analysed_sst raw values', async (t) => {
  const r = await reader(GHRSST);
  const v = (await r.info()).variables.find((x) => x.name === 'analysed_sst');
  t.same(v?.dims, ['time', 'lat', 'lon']);
  const raw = await r.readRaw('analysed_sst', { lat: [72, 169], lon: [96, 269] });
  t.same(raw.shape, [1, 97, 173]);
  t.equal(num(raw, [0, 120 - 72, 192 - 96]), 2529);
  t.equal(num(raw, [0, 72 - 72, 268 - 96]), 2549);
  t.equal(num(raw, [0, 168 - 72, 96 - 96]), 2489);
  const decoded = 2529 * (v?.attrs.scale_factor as number) + (v?.attrs.add_offset as number);
  t.ok(Math.abs(decoded - 298.440002) < 1e-4, 'decodes to 298.44 K');
});

t.test('sea ice CDR: uint8, dims tdim/y/x, time is not a coordinate variable', async (t) => {
  const r = await reader(SEAICE);
  const info = await r.info();
  // The tdim scale itself holds 0 records; the dimension is as long as its longest variable.
  t.same(info.dims, { tdim: 1, y: 448, x: 304 });
  t.equal(info.unlimited, 'tdim');
  for (const dimOnly of ['tdim', 'x', 'y'])
    t.notOk(
      info.variables.some((v) => v.name === dimOnly),
      `${dimOnly} is a dimension only`,
    );
  const time = info.variables.find((v) => v.name === 'time');
  t.same(time?.dims, ['tdim']);
  t.same(info.variables.find((v) => v.name === 'xgrid')?.dims, ['x']);
  const conc = info.variables.find((v) => v.name === 'cdr_seaice_conc_monthly');
  t.same(conc?.dims, ['tdim', 'y', 'x']);
  t.equal(conc?.dtype, 'u1');
  t.equal(conc?.attrs._FillValue, 255);
  const raw = await r.readRaw('cdr_seaice_conc_monthly', { y: [224, 225], x: [152, 153] });
  t.type(raw.data, Uint8Array);
  t.equal(num(raw, [0, 0, 0]), 100);
  const proj = await r.readRaw('projection');
  t.equal(proj.dtype, 'char');
  t.same(proj.shape, [], 'scalar char variable');
});

t.test('Argo S-prof (netCDF-4 classic model): floats, chars, JULD', async (t) => {
  const r = await reader(SPROF);
  const info = await r.info();
  t.equal(info.dims.N_PROF, 162);
  t.equal(info.dims.N_LEVELS, 800);
  t.equal(info.dims.STRING8, 8);
  t.notOk(
    info.variables.some((v) => v.name === 'N_PROF'),
    'dimension-only scale is not a variable',
  );
  t.notOk('_nc3_strict' in info.attrs);
  t.equal(info.attrs.featureType, 'trajectoryProfile');

  const pres = await r.readRaw('PRES', { N_PROF: [0, 1], N_LEVELS: [0, 1] });
  t.ok(Math.abs(num(pres, [0, 0]) - 13.1) < 1e-5, 'PRES[0,0] = 13.1');
  t.equal(info.variables.find((v) => v.name === 'PRES')?.attrs._FillValue, 99999);
  const temp = await r.readRaw('TEMP', { N_PROF: [0, 1], N_LEVELS: [0, 1] });
  t.ok(Math.abs(num(temp, [0, 0]) - 28.419001) < 1e-5, 'TEMP[0,0] = 28.419001');
  const deep = await r.readRaw('PRES', { N_PROF: [161, 162], N_LEVELS: [789, 790] });
  t.ok(Math.abs(num(deep, [0, 0]) - 3961.899902) < 1e-3);

  const pnInfo = info.variables.find((v) => v.name === 'PLATFORM_NUMBER');
  t.equal(pnInfo?.dtype, 'char');
  t.same(pnInfo?.dims, ['N_PROF', 'STRING8']);
  t.same(pnInfo?.shape, [162, 8]);
  t.equal(pnInfo?.attrs._FillValue, ' ');
  const pn = await r.readRaw('PLATFORM_NUMBER');
  t.equal(pn.dtype, 'char');
  t.type(pn.data, Uint8Array);
  t.same(pn.shape, [162, 8]);
  t.equal(charRow(pn, 0), '3902131');
  t.equal(charRow(pn, 161), '3902131');

  // This S-prof has no DATA_MODE; PARAMETER_DATA_MODE (N_PROF, N_PARAM) and DIRECTION (N_PROF) are its chars.
  const modes = await r.readRaw('PARAMETER_DATA_MODE');
  t.same(modes.shape, [162, 4]);
  t.match(Buffer.from(modes.data as Uint8Array).toString('latin1'), /^[RAD]+$/);
  const dir = await r.readRaw('DIRECTION', { N_PROF: [0, 2] });
  t.same(dir.shape, [2]);
  t.equal(String.fromCharCode(num(dir, [0])), 'D', 'profile 0 descending');

  const qc = await r.readRaw('PRES_QC', { N_PROF: [0, 1], N_LEVELS: [0, 1] });
  t.equal(qc.dtype, 'char');
  t.equal(String.fromCharCode(num(qc, [0, 0])), '1');

  const juld = await r.readRaw('JULD', { N_PROF: [0, 1] });
  t.type(juld.data, Float64Array);
  const ms = Date.UTC(1950, 0, 1) + num(juld, [0]) * 86_400_000;
  t.equal(new Date(Math.round(ms / 1000) * 1000).toISOString(), '2018-03-13T06:01:00.000Z');
});

t.test('moored CTD: station x time, swapped valid_min/valid_max returned as stored', async (t) => {
  const r = await reader(MCTD);
  const info = await r.info();
  t.same(info.dims, { nchar: 23, station: 1, time: 7821 });
  const temp = info.variables.find((v) => v.name === 'TEMP_01');
  t.same(temp?.dims, ['station', 'time']);
  t.equal(temp?.chunks, undefined, 'contiguous');
  t.equal(temp?.attrs.valid_min, 10000);
  t.equal(temp?.attrs.valid_max, -10000);
  const raw = await r.readRaw('TEMP_01', { time: [782, 783] });
  t.ok(Math.abs(num(raw, [0, 0]) - 1.8012) < 1e-9);
  const ts = info.variables.find((v) => v.name === 'time_string');
  t.equal(ts?.dtype, 'char');
  t.same(ts?.dims, ['time', 'nchar']);
});

t.test('glider trajectory: temperature and featureType', async (t) => {
  const r = await reader(GLIDER);
  const info = await r.info();
  t.equal(info.attrs.featureType, 'trajectory');
  const raw = await r.readRaw('temperature', { time: [117, 118] });
  t.ok(Math.abs(num(raw, [0]) - 7.1517) < 1e-6);
});

t.test('BAG (plain HDF5): group paths, phony dims, elevation', async (t) => {
  const r = await reader(BAG);
  const info = await r.info();
  const elev = info.variables.find((v) => v.name === 'BAG_root/elevation');
  t.same(elev?.shape, [1478, 1707]);
  t.same(elev?.dims, ['phony_dim_0', 'phony_dim_1'], 'equal-length dims would still get distinct names');
  t.same(elev?.chunks, [100, 100]);
  t.equal(elev?.dtype, 'f4');
  t.same(
    info.variables.find((v) => v.name === 'BAG_root/uncertainty')?.dims,
    elev?.dims,
    'same lengths share phony dims',
  );
  t.notOk(
    info.variables.some((v) => v.name === 'BAG_root/tracking_list'),
    'compound dataset has no DType',
  );
  t.equal(info.variables.find((v) => v.name === 'BAG_root/metadata')?.dtype, 'char');
  const raw = await r.readRaw('BAG_root/elevation', { phony_dim_0: [452, 453], phony_dim_1: [795, 796] });
  t.ok(Math.abs(num(raw, [0, 0]) - -51.656002) < 1e-5);
  const unc = await r.readRaw('BAG_root/uncertainty', { phony_dim_0: [452, 453], phony_dim_1: [795, 796] });
  t.ok(Math.abs(num(unc, [0, 0]) - 0.2893) < 1e-4);
});

// ---- windows and streaming -----------------------------------------------------------------

/** Cells of `window` that differ from `full` at the same absolute index (window starts at `origin`). */
function mismatches(window: RawArray, full: RawArray, origin: number[]): number {
  const n = window.data.length;
  let bad = 0;
  const idx = new Array<number>(window.shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    const fullIdx = idx.map((i, d) => i + (origin[d] as number));
    if (!Object.is(at(window, idx), at(full, fullIdx))) bad++;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d]! < (window.shape[d] as number)) break;
      idx[d] = 0;
    }
  }
  return bad;
}

t.test('a window read equals the same cells of a full read', async (t) => {
  const coads = await reader(COADS);
  const full = await coads.readRaw('SST');
  const win = await coads.readRaw('SST', { TIME: [3, 7], COADSY: [10, 30], COADSX: [100, 150] });
  t.same(win.shape, [4, 20, 50]);
  t.equal(mismatches(win, full, [3, 10, 100]), 0, 'SST');

  const adt = await reader(ADT);
  const fullAdt = await adt.readRaw('adt');
  const winAdt = await adt.readRaw('adt', { time: [15, 45], latitude: [60, 70], longitude: [0, 344] });
  t.equal(mismatches(winAdt, fullAdt, [15, 60, 0]), 0, 'adt across chunk boundaries');

  const pn = await (await reader(SPROF)).readRaw('PLATFORM_NUMBER', { N_PROF: [10, 12], STRING8: [0, 7] });
  t.same(pn.shape, [2, 7]);
  t.equal(Buffer.from(pn.data as Uint8Array).toString(), '39021313902131');
});

t.test('planChunks: chunk-aligned pieces, bounded size', async (t) => {
  const pieces = (sel: Selection, chunks: number[] | undefined, item: number, max: number): Selection[] => [
    ...planChunks(sel, chunks, item, max),
  ];
  const slab = 128 * 344 * 2;
  t.same(
    pieces({ start: [0, 0, 0], count: [91, 128, 344] }, [20, 64, 344], 2, 20 * slab).map((p) => [
      p.start[0],
      p.count[0],
    ]),
    [
      [0, 20],
      [20, 20],
      [40, 20],
      [60, 20],
      [80, 11],
    ],
  );
  t.same(
    pieces({ start: [5, 0, 0], count: [45, 128, 344] }, [20, 64, 344], 2, 25 * slab).map((p) => [
      p.start[0],
      p.count[0],
    ]),
    [
      [5, 15],
      [20, 20],
      [40, 10],
    ],
    'first piece ends on the chunk grid',
  );
  t.same(
    pieces({ start: [0, 0], count: [4, 4] }, [2, 2], 4, 1024),
    [{ start: [0, 0], count: [4, 4] }],
    'fits: one piece',
  );
  t.same(pieces({ start: [0, 0], count: [0, 4] }, undefined, 4, 1024), [], 'empty window: no piece');
  const inner = pieces({ start: [0, 0, 0], count: [2, 3, 1000] }, undefined, 1, 1000);
  t.equal(inner.length, 6, 'split on an inner dimension when one outer index is too big');
  t.ok(inner.every((p) => p.count[0] === 1 && p.count[1] === 1 && p.count[2] === 1000));
});

t.test('read() streams chunk-aligned pieces that reassemble to the full read', async (t) => {
  const slab = 128 * 344 * 2;
  const r = await openHdf5(ADT, pool, { maxChunkBytes: 20 * slab });
  const full = await r.readRaw('adt');
  const chunks: Chunk[] = [];
  for await (const c of r.read({ variables: ['adt'], window: { time: [5, 50] } })) chunks.push(c);
  t.same(
    chunks.map((c) => c.window.time),
    [
      [5, 20],
      [20, 40],
      [40, 50],
    ],
  );
  t.ok(chunks.every((c) => c.variable === 'adt' && c.dtype === 'i2' && c.data.length * 2 <= 20 * slab));
  t.same(chunks[0]?.window, { time: [5, 20], latitude: [0, 128], longitude: [0, 344] });
  chunks.forEach((c) =>
    t.equal(mismatches(c, full, [(c.window.time as [number, number])[0], 0, 0]), 0, `chunk ${c.window.time}`),
  );

  const coads = await reader(COADS);
  const names: string[] = [];
  for await (const c of coads.read({ variables: ['SST', 'TIME'], window: { TIME: [0, 2] } }))
    names.push(`${c.variable}:${JSON.stringify(c.window)}`);
  // SST's two time steps may come as one piece or, read by two workers at once, as two.
  t.same(
    [...new Set(names.map((n) => n.split(':')[0]))],
    ['SST', 'TIME'],
    'one window shared by variables of different dims, variables in order',
  );
  t.ok(names.includes('TIME:{"TIME":[0,2]}'));
  t.same(
    names.filter((n) => n.startsWith('SST')).map((n) => (JSON.parse(n.slice(4)) as { TIME: [number, number] }).TIME),
    names.filter((n) => n.startsWith('SST')).length === 1
      ? [[0, 2]]
      : [
          [0, 1],
          [1, 2],
        ],
    'SST pieces cover the window in order',
  );

  const empty: Chunk[] = [];
  for await (const c of coads.read({ variables: ['SST'], window: { TIME: [3, 3] } })) empty.push(c);
  t.equal(empty.length, 0, 'a window selecting nothing yields no chunk');
});

t.test('abort: before start, between chunks', async (t) => {
  const r = await reader(COADS);
  const ac = new AbortController();
  ac.abort();
  {
    const e = await rejection(r.readRaw('SST', {}, ac.signal));
    t.type(e, Error);
    t.match(e.message, /abort/i);
  }

  const small = await openHdf5(COADS, pool, { maxChunkBytes: 90 * 180 * 4 });
  const ac2 = new AbortController();
  let seen = 0;
  try {
    for await (const c of small.read({ variables: ['SST'], window: {}, signal: ac2.signal })) {
      seen++;
      t.same(c.shape, [1, 90, 180]);
      if (seen === 2) ac2.abort();
    }
    t.fail('should have thrown');
  } catch (err) {
    t.equal((err as Error).name, 'AbortError');
  }
  t.equal(seen, 2, 'no chunk after the abort');
  t.equal(
    num(await r.readRaw('SST', { TIME: [0, 1], COADSY: [45, 46], COADSX: [90, 91] }), [0, 0, 0]),
    Math.fround(26.615416),
  );
});

t.test('request errors are ReaderRequestError', async (t) => {
  const r = await reader(COADS);
  {
    const e = await rejection(r.readRaw('NOPE'));
    t.type(e, ReaderRequestError);
    t.match(e.message, /unknown variable "NOPE"/);
  }
  {
    const e = await rejection(r.readRaw('SST', { DEPTH: [0, 1] }));
    t.type(e, ReaderRequestError);
    t.match(e.message, /unknown dimension "DEPTH"/);
  }
  {
    const e = await rejection(r.readRaw('SST', { TIME: [0, 13] }));
    t.type(e, ReaderRequestError);
    t.match(e.message, /outside its extent 0\.\.12/);
  }
  {
    const e = await rejection(r.readRaw('SST', { TIME: [-1, 2] }));
    t.type(e, ReaderRequestError);
    t.match(e.message, /outside/);
  }
  {
    const e = await rejection(r.readRaw('SST', { TIME: [5, 2] }));
    t.type(e, ReaderRequestError);
    t.match(e.message, /start 5 after stop 2/);
  }
  {
    const e = await rejection(r.readRaw('SST', { TIME: [0.5, 2] }));
    t.type(e, ReaderRequestError);
    t.match(e.message, /integers/);
  }
  const it = r.read({ variables: ['SST', 'NOPE'], window: {} })[Symbol.asyncIterator]();
  {
    const e = await rejection(it.next());
    t.type(e, ReaderRequestError);
    t.match(e.message, /NOPE/);
  }
});

t.test('corrupt, truncated, non-HDF5 and missing files reject cleanly; the pool keeps serving', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odas-hdf5-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = fs.readFileSync(COADS);
  const truncated = path.join(dir, 'coads_half.nc');
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));

  const err = await rejection(openHdf5(truncated, pool));
  t.type(err, CorruptFileError);
  t.match(err.message, /truncated/);
  t.equal((err as CorruptFileError).path, truncated);
  t.ok(err.message.startsWith(`${truncated}: `), 'message names the file');
  {
    const e = await rejection(openHdf5(truncated, pool));
    t.type(e, CorruptFileError);
    t.match(e.message, /truncated/);
  } // both workers, again

  {
    const e = await rejection(openHdf5(sharedData('satellite/coads_sst_classic.nc'), pool));
    t.type(e, CorruptFileError);
    t.match(e.message, /signature|Not an HDF5/i);
  }
  const garbage = path.join(dir, 'garbage.h5');
  fs.writeFileSync(
    garbage,
    Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 0xab)]),
  );
  {
    const e = await rejection(openHdf5(garbage, pool));
    t.type(e, CorruptFileError);
    t.match(e.message, /garbage\.h5/);
  }
  const missing = await rejection(openHdf5(path.join(dir, 'nope.nc'), pool));
  t.type(missing, Error);
  t.match(missing.message, /no such file/);
  t.equal((missing as NodeJS.ErrnoException).code, 'ENOENT');

  const r = await openHdf5(COADS, pool);
  t.ok(
    Math.abs(num(await r.readRaw('SST', { TIME: [0, 1], COADSY: [45, 46], COADSX: [90, 91] }), [0, 0, 0]) - 26.615416) <
      1e-5,
  );
  t.equal(pool.stats.workers <= pool.size, true);
});

// ---- fixtures: filters, strings, groups, short unlimited variable --------------------------

interface Fixture {
  file: string;
  dir: string;
}

async function writeFixture(): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'odas-hdf5-fx-'));
  const file = path.join(dir, 'fixture.h5');
  const M = await h5wasm.ready;
  M.activate_throwing_error_handler();
  const pluginDir = path.join(
    path.dirname(createRequire(import.meta.url).resolve('h5wasm-plugins/package.json')),
    'plugins',
  );
  if (!M.get_plugin_search_paths().includes(pluginDir)) M.insert_plugin_search_path(pluginDir, 0);
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
  f.create_dataset({
    name: 'lzf',
    data: values,
    shape: [10, 100],
    chunks: [5, 50],
    compression: 32000,
    compression_opts: [],
  });
  f.create_dataset({ name: 'vlen_str', data: ['a', 'bc', 'def'], dtype: 'S' });
  f.create_dataset({ name: 'fixed_str', data: ['a', 'bc', 'def'], dtype: 'S4' });
  f.create_dataset({ name: 'big', data: BigInt64Array.from([1n, -2n, 2n ** 40n]) });
  f.create_dataset({ name: 'square', data: new Int16Array(16), shape: [4, 4] });
  const g = f.create_group('grp');
  const inner = g.create_dataset({ name: 'inner', data: Int32Array.from([1, 2, 3, 4, 5, 6]), shape: [2, 3] });
  inner.create_attribute('units', 'm');
  inner.create_attribute('valid_range', [0, 10], [2], '<i');
  inner.create_attribute('count', BigInt64Array.from([7n]));
  // A netCDF-style unlimited dimension whose variable holds fewer records than the scale.
  const time = f.create_dataset({
    name: 'time',
    data: Float64Array.from([0, 1, 2, 3, 4]),
    maxshape: [null],
    chunks: [5],
  });
  time.make_scale('time');
  const short = f.create_dataset({
    name: 'short',
    data: Float32Array.from([10, 11, 12]),
    maxshape: [null],
    chunks: [3],
  });
  short.attach_scale(0, '/time');
  f.close();
  return { file, dir };
}

t.test('fixture: plugin filters, unsupported filter, strings, int64, groups, short unlimited variable', async (t) => {
  const fx = await writeFixture();
  t.teardown(() => fs.rmSync(fx.dir, { recursive: true, force: true }));
  const r = await openHdf5(fx.file, pool);
  const info = await r.info();
  const byName = new Map(info.variables.map((v) => [v.name, v]));

  const z = await r.readRaw('zstd', { [byName.get('zstd')!.dims[0]!]: [2, 3] });
  t.same(
    Array.from(z.data as Float32Array).slice(0, 3),
    [50, 50.25, 50.5],
    'zstd (h5wasm-plugins) decodes in the worker',
  );

  const lzf = await rejection(r.readRaw('lzf'));
  t.type(lzf, UnsupportedFilterError);
  t.match(lzf.message, /filter 32000 \(lzf\)/);
  t.equal((lzf as UnsupportedFilterError).filterId, 32000);
  t.equal(num(await r.readRaw('zstd'), [9, 99]), 249.75, 'worker still fine after the refusal');

  const vs = await r.readRaw('vlen_str');
  t.equal(vs.dtype, 'string');
  t.same(vs.data, ['a', 'bc', 'def']);
  const fs4 = await r.readRaw('fixed_str', { [byName.get('fixed_str')!.dims[0]!]: [1, 3] });
  t.equal(fs4.dtype, 'string');
  t.same(fs4.data, ['bc', 'def']);

  const big = await r.readRaw('big');
  t.equal(big.dtype, 'i8');
  t.same(Array.from(big.data as BigInt64Array), [1n, -2n, 2n ** 40n]);

  const sq = byName.get('square');
  t.equal(sq?.dims.length, 2);
  t.not(sq?.dims[0], sq?.dims[1], 'equal-length axes of one dataset get distinct phony dims');

  const inner = byName.get('grp/inner');
  t.ok(inner, 'variables in groups are named by path');
  t.same(inner?.attrs, { units: 'm', valid_range: [0, 10], count: 7n });
  const innerRaw = await r.readRaw('grp/inner');
  t.same(Array.from(innerRaw.data as Int32Array), [1, 2, 3, 4, 5, 6]);

  t.equal(info.dims.time, 5);
  t.equal(info.unlimited, 'time');
  t.same(byName.get('short')?.dims, ['time']);
  t.same(byName.get('short')?.shape, [3], 'own shape, shorter than the dimension');
  const clamped = await r.readRaw('short', { time: [1, 5] });
  t.same(clamped.shape, [2], 'clamped to the variable');
  t.same(Array.from(clamped.data as Float32Array), [11, 12]);
  t.same((await r.readRaw('short', { time: [4, 5] })).shape, [0]);
  const parts: Chunk[] = [];
  for await (const c of r.read({ variables: ['short'], window: { time: [0, 5] } })) parts.push(c);
  t.same(
    parts.map((c) => c.window),
    [{ time: [0, 3] }],
  );
});

// ---- event loop ----------------------------------------------------------------------------

t.test('reads run off the main thread: the event loop keeps turning during large reads', async (t) => {
  const r = await reader(BAG);
  // Counted in event-loop turns, not milliseconds: a read on the main thread would hold the loop for
  // its whole length (one turn at most per read), whatever the machine's load. Timing lives in the bench.
  let turns = 0;
  let reading = true;
  const spin = (): void => {
    turns++;
    if (reading) setImmediate(spin);
  };
  setImmediate(spin);
  let cells = 0;
  const reads = 4;
  for (let i = 0; i < reads / 2; i++) {
    cells += (await r.readRaw('BAG_root/elevation')).data.length; // ~10 MB of gzip chunks each
    cells += (await r.readRaw('BAG_root/uncertainty')).data.length;
  }
  reading = false;
  t.equal(cells, reads * 1478 * 1707);
  t.ok(turns > 10 * reads, `${turns} event-loop turns during ${reads} reads`);
});

// ---- shared pool ---------------------------------------------------------------------------

t.test('default shared pool: openHdf5 without a pool, closeHdf5Pool', async (t) => {
  const r = await openHdf5(GLIDER);
  t.ok(Math.abs(num(await r.readRaw('temperature', { time: [117, 118] }), [0]) - 7.1517) < 1e-6);
  await r.close();
  {
    const e = await rejection(r.readRaw('temperature'));
    t.type(e, Error);
    t.match(e.message, /closed/);
  }
  await closeHdf5Pool();
  const again = await openHdf5(GLIDER); // a new shared pool
  t.equal((await again.info()).attrs.featureType, 'trajectory');
  await closeHdf5Pool();
});
