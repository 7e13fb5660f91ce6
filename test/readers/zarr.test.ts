/**
 * Zarr v2 reader against the two real stores in ../shared/data/zarr (converted from NetCDF files: their
 * values must match the originals read through the existing readers, cell by cell) plus tiny stores
 * written here, JSON and deflated chunk bytes, for what the real stores lack (missing chunks, big-endian,
 * '/' separators, filters, strings, corrupt chunks, path escapes).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { closeHdf5Pool } from '../../src/readers/hdf5/reader.js';
import { openReader, sniffFormat } from '../../src/readers/registry.js';
import type { Chunk, RawArray, Reader, Window } from '../../src/readers/types.js';
import { CorruptFileError, ReaderRequestError } from '../../src/readers/types.js';
import { bloscDecompress, lz4DecompressBlock } from '../../src/readers/zarr/codecs.js';
import { checkStoreKey, parsePythonJson } from '../../src/readers/zarr/metadata.js';
import { openZarr, planPieces, UnsupportedFilterError, ZarrReader } from '../../src/readers/zarr/reader.js';
import { zarrStoreStamp } from '../../src/readers/zarr/stamp.js';
import { sharedData } from '../helpers/data.js';

const COADS_ZARR = sharedData('zarr/coads_climatology.zarr');
const MED_ZARR = sharedData('zarr/med_allsat_phy_l4_2005_P1D.zarr');
// MANIFEST §zarr: the stores were written from these two files.
const COADS_NC = sharedData('satellite/coads_sst.nc');
const MED_NC = sharedData('satellite/dt_med_allsat_phy_l4_2005T2.nc');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'odas-zarr-test-'));
const opened: Reader[] = [];
t.teardown(async () => {
  for (const r of opened) await r.close();
  await closeHdf5Pool();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function open(p: string): Promise<Reader> {
  const r = await openReader(p);
  opened.push(r);
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

/** Index of the first differing element (NaN equals NaN), or -1. */
function firstDifference(a: RawArray, b: RawArray): number {
  if (a.data.length !== b.data.length) return 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (x !== y && !(typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y))) return i;
  }
  return -1;
}

/** The error a promise rejects with; throws (failing the test) when it resolves. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err instanceof Error ? err : new Error(`non-Error rejection: ${String(err)}`);
  }
  throw new Error('expected the promise to reject');
}

async function collect(it: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

/** Puts streamed chunks back together over `window` (absolute ranges, every dim given), row-major. */
function assemble(chunks: Chunk[], dims: string[], window: Window, template: RawArray): RawArray {
  const shape = dims.map((d) => window[d]![1] - window[d]![0]);
  const total = shape.reduce((a, b) => a * b, 1);
  const Ctor = template.data.constructor as new (n: number) => RawArray['data'];
  const data = new Ctor(total) as Float32Array;
  for (const c of chunks) {
    const n = c.data.length;
    for (let k = 0; k < n; k++) {
      let rem = k;
      const idx = new Array<number>(dims.length);
      for (let d = dims.length - 1; d >= 0; d--) {
        idx[d] = rem % c.shape[d]!;
        rem = Math.floor(rem / c.shape[d]!);
      }
      let flat = 0;
      dims.forEach((dim, d) => {
        flat = flat * shape[d]! + (c.window[dim]![0] + idx[d]! - window[dim]![0]);
      });
      data[flat] = (c.data as Float32Array)[k]!;
    }
  }
  return { dtype: template.dtype, shape, data };
}

// ---- tiny stores written here ---------------------------------------------------------------

interface TinyArray {
  dtype: string;
  shape: number[];
  chunks: number[];
  fill?: unknown;
  compressor?: { id: string; [k: string]: unknown } | null;
  filters?: Array<{ id: string; [k: string]: unknown }> | null;
  order?: string;
  separator?: '.' | '/';
  /** `_ARRAY_DIMENSIONS`; null leaves it out. */
  dims: string[] | null;
  attrs?: Record<string, unknown>;
  /** Uncompressed (already filtered) chunk bytes by chunk key; missing keys are not written. */
  chunks_: Record<string, Uint8Array>;
}

function encode(compressor: TinyArray['compressor'], bytes: Uint8Array): Uint8Array {
  if (!compressor) return bytes;
  if (compressor.id === 'zlib') return zlib.deflateSync(bytes);
  if (compressor.id === 'gzip') return zlib.gzipSync(bytes);
  return bytes; // unsupported codecs: the reader refuses before looking at the bytes
}

/** Writes a store; consolidated adds .zmetadata (as zarr.consolidate_metadata does), else per-array files only. */
function writeStore(
  name: string,
  arrays: Record<string, TinyArray>,
  opts: { consolidated?: boolean; rootAttrs?: Record<string, unknown>; rawZattrs?: Record<string, string> } = {},
): string {
  const dir = path.join(tmp, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const meta: Record<string, unknown> = { '.zgroup': { zarr_format: 2 }, '.zattrs': opts.rootAttrs ?? {} };
  fs.writeFileSync(path.join(dir, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
  fs.writeFileSync(path.join(dir, '.zattrs'), JSON.stringify(opts.rootAttrs ?? {}));
  for (const [arrayName, a] of Object.entries(arrays)) {
    const zarray: Record<string, unknown> = {
      chunks: a.chunks,
      compressor: a.compressor === undefined ? { id: 'zlib', level: 1 } : a.compressor,
      dtype: a.dtype,
      fill_value: a.fill === undefined ? null : a.fill,
      filters: a.filters ?? null,
      order: a.order ?? 'C',
      shape: a.shape,
      zarr_format: 2,
    };
    if (a.separator) zarray.dimension_separator = a.separator;
    const zattrs = { ...(a.dims ? { _ARRAY_DIMENSIONS: a.dims } : {}), ...(a.attrs ?? {}) };
    meta[`${arrayName}/.zarray`] = zarray;
    meta[`${arrayName}/.zattrs`] = zattrs;
    const adir = path.join(dir, arrayName);
    fs.mkdirSync(adir, { recursive: true });
    fs.writeFileSync(path.join(adir, '.zarray'), JSON.stringify(zarray));
    fs.writeFileSync(path.join(adir, '.zattrs'), opts.rawZattrs?.[arrayName] ?? JSON.stringify(zattrs));
    for (const [key, bytes] of Object.entries(a.chunks_)) {
      const file = path.join(adir, ...key.split('/'));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, encode(zarray.compressor as TinyArray['compressor'], bytes));
    }
  }
  if (opts.consolidated ?? true)
    fs.writeFileSync(path.join(dir, '.zmetadata'), JSON.stringify({ metadata: meta, zarr_consolidated_format: 1 }));
  return dir;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function bigEndian(values: number[], width: 2 | 4): Uint8Array {
  const b = Buffer.alloc(values.length * width);
  values.forEach((v, i) => (width === 2 ? b.writeInt16BE(v, i * 2) : b.writeInt32BE(v, i * 4)));
  return new Uint8Array(b);
}

function shuffle(src: Uint8Array, size: number): Uint8Array {
  const n = src.length / size;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < n; i++) for (let j = 0; j < size; j++) out[j * n + i] = src[i * size + j]!;
  return out;
}

// ---- real stores: metadata ------------------------------------------------------------------

t.test('registry: sniffFormat recognises stores and still files; openReader opens a store', async (t) => {
  t.equal(await sniffFormat(COADS_ZARR), 'zarr');
  t.equal(await sniffFormat(MED_ZARR), 'zarr');
  t.equal(await sniffFormat(path.join(COADS_ZARR, 'SST')), 'zarr', 'an array folder is a store of one array');
  t.equal(await sniffFormat(COADS_NC), 'hdf5', 'files are unchanged');
  t.equal(await sniffFormat(sharedData('satellite/coads_sst_classic.nc')), 'netcdf3');
  const plain = path.join(tmp, 'plain-dir');
  fs.mkdirSync(plain, { recursive: true });
  t.equal(await sniffFormat(plain), undefined, 'a directory without Zarr markers is no dataset');
  const r = await open(COADS_ZARR);
  t.type(r, ZarrReader);
  t.equal((await r.info()).format, 'zarr');
  const err = await rejection(openReader(plain));
  t.type(err, CorruptFileError);
  const missing = await rejection(openReader(path.join(tmp, 'no-such.zarr'), 'zarr'));
  t.equal((missing as NodeJS.ErrnoException).code, 'ENOENT', 'a missing store is ENOENT, like a missing file');
  t.type(await rejection(openReader(COADS_NC, 'zarr')), CorruptFileError, 'a file is no store');
});

t.test('zarrStoreStamp: metadata sizes and mtimes; a new chunk or a longer array changes it', async (t) => {
  const real = await zarrStoreStamp(MED_ZARR);
  const metaFiles = [
    '.zmetadata',
    '.zgroup',
    '.zattrs',
    ...['adt', 'latitude', 'longitude', 'time'].flatMap((a) => [`${a}/.zarray`, `${a}/.zattrs`]),
  ];
  t.equal(
    real.size,
    metaFiles.reduce((n, f) => n + fs.statSync(path.join(MED_ZARR, f)).size, 0),
  );
  t.ok(real.mtimeMs >= fs.statSync(path.join(MED_ZARR, '.zmetadata')).mtimeMs);

  const dir = writeStore('stamp', {
    v: { dtype: '<i2', shape: [4], chunks: [2], dims: ['x'], chunks_: { '0': bytesOf(new Int16Array([1, 2])) } },
  });
  const past = new Date(Date.now() - 60_000);
  for (const p of [
    dir,
    path.join(dir, 'v'),
    ...fs.readdirSync(dir).map((f) => path.join(dir, f)),
    ...fs.readdirSync(path.join(dir, 'v')).map((f) => path.join(dir, 'v', f)),
  ])
    fs.utimesSync(p, past, past);
  const before = await zarrStoreStamp(dir);
  // zarr-python writes a chunk to a temporary file and renames it into place.
  fs.writeFileSync(path.join(dir, 'v', '.tmp-1'), zlib.deflateSync(Buffer.from(new Int16Array([3, 4]).buffer)));
  fs.renameSync(path.join(dir, 'v', '.tmp-1'), path.join(dir, 'v', '1'));
  const after = await zarrStoreStamp(dir);
  t.ok(after.mtimeMs > before.mtimeMs, 'a chunk written into place moves the mtime');
  t.equal(after.size, before.size, 'chunk bytes are not counted');
  const zarray = JSON.parse(fs.readFileSync(path.join(dir, 'v', '.zarray'), 'utf8')) as { shape: number[] };
  zarray.shape = [400];
  fs.writeFileSync(path.join(dir, 'v', '.zarray'), JSON.stringify(zarray));
  t.not((await zarrStoreStamp(dir)).size, after.size, 'a longer shape changes the size');
});

t.test('coads_climatology.zarr: dims, variables, attributes, fill values', async (t) => {
  const r = await open(COADS_ZARR);
  const info = await r.info();
  t.equal(info.format, 'zarr');
  t.same(info.dims, { TIME: 12, COADSY: 90, COADSX: 180 });
  t.equal(info.unlimited, undefined, 'Zarr has no unlimited dimension');
  t.same(
    info.variables.map((v) => v.name),
    ['AIRT', 'COADSX', 'COADSY', 'SST', 'TIME', 'UWND', 'VWND'],
  );
  t.equal(info.attrs.history, 'FERRET V4.30 (debug/no GUI) 15-Aug-96');
  const sst = info.variables.find((v) => v.name === 'SST')!;
  t.same(sst.dims, ['TIME', 'COADSY', 'COADSX']);
  t.same(sst.shape, [12, 90, 180]);
  t.same(sst.chunks, [1, 90, 180]);
  t.equal(sst.dtype, 'f4');
  t.equal(sst.attrs.units, 'Deg C');
  t.equal(sst.attrs.long_name, 'SEA SURFACE TEMPERATURE');
  t.equal(
    sst.attrs._FillValue,
    Math.fround(-9.99999979e33),
    'fill_value exposed as _FillValue, as the NetCDF file has it',
  );
  t.notOk('_ARRAY_DIMENSIONS' in sst.attrs, 'the dimension-name attribute is consumed');
  const time = info.variables.find((v) => v.name === 'TIME')!;
  t.equal(time.dtype, 'f8');
  t.same(time.dims, ['TIME']);
  t.equal(time.attrs.units, 'hours since 2000-01-01');
  t.ok(Number.isNaN(time.attrs._FillValue), 'fill_value "NaN" → NaN');

  // Same metadata as the NetCDF original, apart from the fill value xarray moved into .zarray.
  const nc = await open(COADS_NC);
  const ncSst = (await nc.info()).variables.find((v) => v.name === 'SST')!;
  for (const k of ['units', 'long_name', 'history', 'missing_value', '_FillValue'])
    t.same(sst.attrs[k], ncSst.attrs[k], `SST ${k} as in NetCDF`);
});

t.test('med_allsat_phy_l4_2005_P1D.zarr: int16 packed adt, global attributes', async (t) => {
  const r = await open(MED_ZARR);
  const info = await r.info();
  t.same(info.dims, { time: 91, latitude: 128, longitude: 344 });
  const adt = info.variables.find((v) => v.name === 'adt')!;
  t.equal(adt.dtype, 'i2');
  t.same(adt.dims, ['time', 'latitude', 'longitude']);
  t.same(adt.chunks, [1, 128, 344]);
  t.equal(adt.attrs._FillValue, -32767);
  t.ok(Math.abs((adt.attrs.scale_factor as number) - 1e-4) < 1e-12);
  t.equal(adt.attrs.units, 'm');
  t.equal(info.attrs.institution, 'CLS, CNES');
  t.match(info.attrs.title as string, /Mediterranean Sea/);
  t.equal(info.variables.find((v) => v.name === 'latitude')?.dtype, 'f4');
});

// ---- real stores: values against the NetCDF originals ---------------------------------------

t.test('coads: SST, AIRT and blosc-compressed coordinates equal the NetCDF file, cell by cell', async (t) => {
  const z = await open(COADS_ZARR);
  const nc = await open(COADS_NC);
  // Crosses chunk edges along TIME (one chunk per step); a sub-window of the others.
  const w: Window = { TIME: [4, 8], COADSY: [30, 61], COADSX: [100, 157] };
  for (const v of ['SST', 'AIRT']) {
    const a = await z.readRaw(v, w);
    const b = await nc.readRaw(v, w);
    t.same(a.shape, [4, 31, 57]);
    t.type(a.data, Float32Array);
    t.equal(firstDifference(a, b), -1, `${v} window equals NetCDF`);
  }
  for (const v of ['TIME', 'COADSX', 'COADSY', 'UWND']) {
    const a = await z.readRaw(v);
    t.equal(firstDifference(a, await nc.readRaw(v)), -1, `whole ${v} equals NetCDF`);
  }
  // MANIFEST reference cells.
  const cells: [number[], number][] = [
    [[0, 45, 90], 26.615416],
    [[6, 27, 125], 16.225],
    [[11, 64, 48], 7.615],
  ];
  for (const [[ti, yi, xi], ref] of cells) {
    const raw = await z.readRaw('SST', { TIME: [ti!, ti! + 1], COADSY: [yi!, yi! + 1], COADSX: [xi!, xi! + 1] });
    t.same(raw.shape, [1, 1, 1]);
    t.ok(Math.abs(num(raw, [0, 0, 0]) - ref) < 1e-5, `SST[${ti},${yi},${xi}] = ${ref}`);
  }
});

t.test('med: adt windows equal the NetCDF file; MANIFEST reference values', async (t) => {
  const z = await open(MED_ZARR);
  const nc = await open(MED_NC);
  // The NetCDF-4 file has 20×64×344 chunks, the store 1×128×344: windows cross both grids.
  for (const w of [
    { time: [18, 23], latitude: [60, 70], longitude: [100, 201] },
    { time: [0, 91], latitude: [64, 65], longitude: [172, 173] },
    { time: [89, 91], latitude: [0, 128], longitude: [0, 344] },
  ] as Window[]) {
    const a = await z.readRaw('adt', w);
    const b = await nc.readRaw('adt', w);
    t.type(a.data, Int16Array);
    t.same(a.shape, b.shape);
    t.equal(firstDifference(a, b), -1, `adt ${JSON.stringify(w)} equals NetCDF`);
  }
  const full = await z.readRaw('adt');
  t.same(full.shape, [91, 128, 344]);
  t.equal(num(full, [0, 64, 172]), -1502);
  t.equal(num(full, [45, 38, 240]), -1709);
  t.equal(num(full, [90, 89, 86]), -1590);
  for (const v of ['time', 'latitude', 'longitude'])
    t.equal(firstDifference(await z.readRaw(v), await nc.readRaw(v)), -1, `${v} equals NetCDF`);
});

t.test('streamed read equals readRaw; pieces are ordered and on the chunk grid', async (t) => {
  // 40 KB pieces: one 1×128×344 int16 chunk (88 KB) per piece, split along latitude never (a chunk is read whole).
  const z = await openZarr(MED_ZARR, { maxChunkBytes: 40_000, readAhead: 3 });
  opened.push(z);
  const w: Window = { time: [3, 9], latitude: [10, 100], longitude: [5, 300] };
  const chunks = await collect(z.read({ variables: ['adt'], window: w }));
  t.equal(chunks.length, 6, 'one piece per storage chunk when a chunk exceeds maxChunkBytes');
  chunks.forEach((c, i) => {
    t.same(c.window, { time: [3 + i, 4 + i], latitude: [10, 100], longitude: [5, 300] }, `piece ${i} in order`);
    t.same(c.shape, [1, 90, 295]);
    t.equal(c.variable, 'adt');
  });
  const raw = await z.readRaw('adt', w);
  t.equal(firstDifference(assemble(chunks, ['time', 'latitude', 'longitude'], w, raw), raw), -1, 'stream = readRaw');

  // Big pieces: several chunks per piece, boundaries on the chunk grid.
  const z2 = await openZarr(COADS_ZARR, { maxChunkBytes: 3 * 90 * 180 * 4 });
  opened.push(z2);
  const w2: Window = { TIME: [1, 12], COADSY: [0, 90], COADSX: [0, 180] };
  const parts = await collect(z2.read({ variables: ['SST', 'AIRT'], window: w2 }));
  t.same(
    parts.map((c) => `${c.variable}:${c.window.TIME}`),
    ['SST:1,4', 'SST:4,7', 'SST:7,10', 'SST:10,12', 'AIRT:1,4', 'AIRT:4,7', 'AIRT:7,10', 'AIRT:10,12'],
  );
  const sstRaw = await z2.readRaw('SST', w2);
  t.equal(
    firstDifference(
      assemble(
        parts.filter((c) => c.variable === 'SST'),
        ['TIME', 'COADSY', 'COADSX'],
        w2,
        sstRaw,
      ),
      sstRaw,
    ),
    -1,
  );

  t.same(
    await collect(z2.read({ variables: ['SST'], window: { TIME: [3, 3] } })),
    [],
    'an empty window yields nothing',
  );
});

t.test('planPieces: covers the selection once, on the chunk grid', async (t) => {
  const sel = { start: [3, 7, 2], count: [10, 20, 30] };
  const chunks = [4, 5, 8];
  for (const maxBytes of [1, 100, 4 * 5 * 30 * 2, 4 * 20 * 30 * 2 * 2, 1e9]) {
    const seen = new Map<string, number>();
    for (const p of planPieces(sel, chunks, 2, maxBytes)) {
      for (let d = 0; d < 3; d++) {
        const s = p.start[d]!;
        const e = s + p.count[d]!;
        t.ok(s === sel.start[d] || s % chunks[d]! === 0, `start on grid (max ${maxBytes})`);
        t.ok(e === sel.start[d]! + sel.count[d]! || e % chunks[d]! === 0, `stop on grid (max ${maxBytes})`);
      }
      for (let i = p.start[0]!; i < p.start[0]! + p.count[0]!; i++)
        for (let j = p.start[1]!; j < p.start[1]! + p.count[1]!; j++)
          for (let k = p.start[2]!; k < p.start[2]! + p.count[2]!; k++)
            seen.set(`${i},${j},${k}`, (seen.get(`${i},${j},${k}`) ?? 0) + 1);
    }
    t.equal(seen.size, 10 * 20 * 30, `every cell covered (max ${maxBytes})`);
    t.ok(
      [...seen.values()].every((n) => n === 1),
      `no cell twice (max ${maxBytes})`,
    );
  }
});

// ---- tiny stores ----------------------------------------------------------------------------

t.test('missing chunk files read as the fill value; chunk edges inside a window', async (t) => {
  const c00 = bytesOf(new Int16Array([1, 2, 3, 4, 5, 6]));
  const c02 = bytesOf(new Int16Array([20, 21, 0, 22, 23, 0])); // edge chunk: padded to the full chunk shape
  const dir = writeStore('missing', {
    v: { dtype: '<i2', shape: [2, 8], chunks: [2, 3], fill: -9, dims: ['y', 'x'], chunks_: { '0.0': c00, '0.2': c02 } },
    nofill: { dtype: '<f4', shape: [2, 8], chunks: [2, 3], fill: null, dims: ['y', 'x'], chunks_: {} },
  });
  const r = await open(dir);
  const raw = await r.readRaw('v');
  t.same(Array.from(raw.data as Int16Array), [1, 2, 3, -9, -9, -9, 20, 21, 4, 5, 6, -9, -9, -9, 22, 23]);
  const win = await r.readRaw('v', { x: [2, 7] });
  t.same(win.shape, [2, 5]);
  t.same(Array.from(win.data as Int16Array), [3, -9, -9, -9, 20, 6, -9, -9, -9, 22]);
  t.same(Array.from((await r.readRaw('nofill')).data as Float32Array), new Array(16).fill(0), 'no fill_value: zeros');
  const streamed = await collect(
    (await openZarr(dir, { maxChunkBytes: 12 })).read({ variables: ['v'], window: { x: [1, 8] } }),
  );
  t.same(
    streamed.map((c) => c.window.x),
    [
      [1, 3],
      [3, 6],
      [6, 8],
    ],
  );
  t.same(Array.from(streamed[1]!.data as Int16Array), [-9, -9, -9, -9, -9, -9]);
});

t.test('big-endian dtypes, "/" separator, gzip, shuffle and delta filters, no compressor', async (t) => {
  const values = [1, -2, 300, 70000, -5, 6];
  const deltas = values.map((v, i) => (i === 0 ? v : v - values[i - 1]!));
  const dir = writeStore('codecs', {
    be: {
      dtype: '>i4',
      shape: [2, 3],
      chunks: [1, 3],
      separator: '/',
      compressor: { id: 'gzip', level: 1 },
      dims: ['row', 'col'],
      fill: 0,
      chunks_: { '0/0': bigEndian(values.slice(0, 3), 4), '1/0': bigEndian(values.slice(3), 4) },
    },
    be2: {
      dtype: '>i2',
      shape: [3],
      chunks: [3],
      compressor: null,
      dims: ['three'],
      chunks_: { '0': bigEndian([-1, 2, -300], 2) },
    },
    shuf: {
      dtype: '<f8',
      shape: [4],
      chunks: [4],
      filters: [{ id: 'shuffle', elementsize: 8 }],
      dims: ['four'],
      chunks_: { '0': shuffle(bytesOf(new Float64Array([0.5, -1.25, 1e300, Number.NaN])), 8) },
    },
    delta: {
      dtype: '<i4',
      shape: [6],
      chunks: [6],
      filters: [{ id: 'delta', dtype: '<i4' }],
      dims: ['six'],
      chunks_: { '0': bytesOf(new Int32Array(deltas)) },
    },
    u8: {
      dtype: '<u8',
      shape: [2],
      chunks: [2],
      fill: 7,
      dims: ['two'],
      chunks_: { '0': bytesOf(new BigUint64Array([2n ** 63n + 5n, 1n])) },
    },
  });
  const r = await open(dir);
  const be = await r.readRaw('be');
  t.type(be.data, Int32Array);
  t.same(Array.from(be.data as Int32Array), values);
  t.same(Array.from((await r.readRaw('be', { row: [1, 2], col: [1, 3] })).data as Int32Array), [-5, 6]);
  t.same(Array.from((await r.readRaw('be2')).data as Int16Array), [-1, 2, -300]);
  const shuf = Array.from((await r.readRaw('shuf')).data as Float64Array);
  t.same(shuf.slice(0, 3), [0.5, -1.25, 1e300]);
  t.ok(Number.isNaN(shuf[3]));
  t.same(Array.from((await r.readRaw('delta')).data as Int32Array), values);
  const u8 = await r.readRaw('u8');
  t.same(Array.from(u8.data as BigUint64Array), [2n ** 63n + 5n, 1n]);
  t.equal((await r.info()).variables.find((v) => v.name === 'u8')?.attrs._FillValue, 7n, '64-bit fill as bigint');
});

t.test(
  'fixed strings as char, dims without _ARRAY_DIMENSIONS, Python NaN in attributes, per-array metadata',
  async (t) => {
    const dir = writeStore(
      'strings',
      {
        platform: {
          dtype: '|S4',
          shape: [3],
          chunks: [2],
          dims: ['n'],
          fill: Buffer.from(' ').toString('base64'),
          chunks_: { '0': new Uint8Array(Buffer.from('ab\0\0cdef')) },
        },
        flag: {
          dtype: '|S1',
          shape: [3],
          chunks: [3],
          dims: ['n'],
          chunks_: { '0': new Uint8Array(Buffer.from('ABC')) },
        },
        anon: {
          dtype: '<u1',
          shape: [2, 2],
          chunks: [2, 2],
          dims: null,
          chunks_: { '0.0': new Uint8Array([1, 2, 3, 4]) },
        },
        weird: { dtype: '<U4', shape: [1], chunks: [1], dims: ['one'], chunks_: {} },
        fortran: { dtype: '<i2', shape: [2, 2], chunks: [2, 2], order: 'F', dims: ['y', 'x'], chunks_: {} },
        zstd: {
          dtype: '<i2',
          shape: [2, 2],
          chunks: [2, 2],
          compressor: { id: 'zstd', level: 1 },
          dims: ['y', 'x'],
          chunks_: {},
        },
        delta8: {
          dtype: '<i2',
          shape: [2],
          chunks: [2],
          filters: [{ id: 'delta', dtype: '<i2', astype: '<i1' }],
          dims: ['two'],
          chunks_: {},
        },
        bloscz: {
          dtype: '<i2',
          shape: [2, 2],
          chunks: [2, 2],
          compressor: { id: 'blosc', cname: 'zstd', clevel: 5, shuffle: 1 },
          dims: ['y', 'x'],
          chunks_: {},
        },
      },
      {
        consolidated: false,
        rootAttrs: { title: 'tiny', flags: [1, 2], ok: true, nested: { a: 1 }, names: ['a', 'b'] },
        rawZattrs: {
          flag: '{"_ARRAY_DIMENSIONS": ["n"], "valid_min": NaN, "valid_max": Infinity, "note": "NaN stays text"}',
        },
      },
    );
    const r = await open(dir);
    const info = await r.info();
    t.same(info.attrs, { title: 'tiny', flags: [1, 2], ok: 1, nested: '{"a":1}', names: '["a","b"]' });
    t.same(info.dims, { n: 3, string4: 4, dim_0: 2, dim_1: 2, one: 1, y: 2, x: 2, two: 2 });
    const platform = info.variables.find((v) => v.name === 'platform')!;
    t.equal(platform.dtype, 'char');
    t.same(platform.dims, ['n', 'string4']);
    t.same(platform.chunks, [2, 4]);
    t.equal(platform.attrs._FillValue, ' ');
    const raw = await r.readRaw('platform');
    t.same(raw.shape, [3, 4]);
    t.equal(Buffer.from(raw.data as Uint8Array).toString('latin1'), 'ab\0\0cdef    ', 'missing chunk: fill bytes');
    t.equal(
      Buffer.from((await r.readRaw('platform', { n: [1, 2], string4: [1, 3] })).data as Uint8Array).toString('latin1'),
      'de',
    );
    t.equal(Buffer.from((await r.readRaw('flag')).data as Uint8Array).toString('latin1'), 'ABC');
    const flag = info.variables.find((v) => v.name === 'flag')!;
    t.same(flag.dims, ['n'], '|S1 stays one char per element');
    t.ok(Number.isNaN(flag.attrs.valid_min));
    t.equal(flag.attrs.valid_max, Number.POSITIVE_INFINITY);
    t.equal(flag.attrs.note, 'NaN stays text');
    t.same(info.variables.find((v) => v.name === 'anon')?.dims, ['dim_0', 'dim_1']);
    t.same(Array.from((await r.readRaw('anon', { dim_1: [1, 2] })).data as Uint8Array), [2, 4]);

    t.notOk(
      info.variables.some((v) => v.name === 'weird'),
      'unicode strings have no DType: not listed',
    );
    const weird = await rejection(r.readRaw('weird'));
    t.type(weird, UnsupportedFilterError);
    t.match(weird.message, /<U4/);
    const fortran = await rejection(r.readRaw('fortran'));
    t.type(fortran, UnsupportedFilterError);
    t.match(fortran.message, /order "F".*only order "C"/);
    t.ok(
      info.variables.some((v) => v.name === 'fortran'),
      'listed, refused on read',
    );
    const zstd = await rejection(r.readRaw('zstd'));
    t.match(zstd.message, /compressor "zstd" is not supported/);
    t.match(zstd.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const bloscZstd = await rejection(collect(r.read({ variables: ['bloscz'], window: {} })));
    t.match(bloscZstd.message, /blosc with inner codec "zstd"/);

    t.match(
      (await rejection(r.readRaw('delta8'))).message,
      /delta filter with astype "<i1" different from dtype "<i2"/,
    );

    t.type(await rejection(r.readRaw('nope')), ReaderRequestError);
    t.type(await rejection(r.readRaw('anon', { dim_0: [0, 3] })), ReaderRequestError);
    t.type(await rejection(r.readRaw('anon', { nodim: [0, 1] })), ReaderRequestError);
  },
);

t.test('a corrupt chunk names the store, the array and the chunk key', async (t) => {
  // A copy of the real store with SST chunk 3.0.0 overwritten by garbage (the shared data stays read-only).
  const copy = path.join(tmp, 'corrupt.zarr');
  fs.mkdirSync(path.join(copy, 'SST'), { recursive: true });
  for (const f of ['.zmetadata', '.zgroup', '.zattrs'])
    fs.writeFileSync(path.join(copy, f), fs.readFileSync(path.join(COADS_ZARR, f)));
  for (const f of fs.readdirSync(path.join(COADS_ZARR, 'SST'))) {
    fs.writeFileSync(path.join(copy, 'SST', f), fs.readFileSync(path.join(COADS_ZARR, 'SST', f)));
  }
  fs.writeFileSync(path.join(copy, 'SST', '3.0.0'), Buffer.from('this is not a zlib stream, just garbage bytes'));
  // A valid zlib stream of the wrong size is corrupt too.
  fs.writeFileSync(path.join(copy, 'SST', '5.0.0'), zlib.deflateSync(Buffer.alloc(100)));
  const r = await open(copy);
  t.equal(
    num(await r.readRaw('SST', { TIME: [0, 1], COADSY: [45, 46], COADSX: [90, 91] }), [0, 0, 0]),
    Math.fround(26.615416),
    'intact chunks still read',
  );
  const err = await rejection(r.readRaw('SST', { TIME: [2, 5] }));
  t.type(err, CorruptFileError);
  t.match(err.message, copy);
  t.match(err.message, /array "SST", chunk 3\.0\.0: zlib decompression failed/);
  const streamed = await rejection(collect(r.read({ variables: ['SST'], window: {} })));
  t.type(streamed, CorruptFileError);
  t.match(streamed.message, /chunk 3\.0\.0/);
  const short = await rejection(r.readRaw('SST', { TIME: [5, 6] }));
  t.match(short.message, /array "SST", chunk 5\.0\.0: decodes to 100 bytes, expected 64800/);
  t.equal(
    (await r.readRaw('AIRT', { TIME: [0, 1] })).data[0],
    Math.fround(-9.99999979e33),
    'AIRT has no files in the copy: all fill',
  );
});

t.test('metadata cannot send reads outside the store', async (t) => {
  for (const bad of ['..', '../x', '/etc', 'a/../../b', 'a\\..\\b', '.', '']) {
    t.throws(() => checkStoreKey(tmp, bad), CorruptFileError, `refuses ${JSON.stringify(bad)}`);
  }
  t.doesNotThrow(() => checkStoreKey(tmp, 'SST'));
  const dir = path.join(tmp, 'escape.zarr');
  fs.mkdirSync(dir, { recursive: true });
  const zarray = {
    chunks: [2],
    compressor: null,
    dtype: '<i2',
    fill_value: 0,
    filters: null,
    order: 'C',
    shape: [2],
    zarr_format: 2,
  };
  fs.writeFileSync(
    path.join(dir, '.zmetadata'),
    JSON.stringify({
      metadata: { '.zgroup': { zarr_format: 2 }, '../.zarray': zarray, '../.zattrs': { _ARRAY_DIMENSIONS: ['x'] } },
      zarr_consolidated_format: 1,
    }),
  );
  const err = await rejection(openReader(dir));
  t.type(err, CorruptFileError);
  t.match(err.message, /key "\.\.", which is not a plain path inside the store/);
});

t.test('abort: before the first chunk, between chunks, and a consumer that stops', async (t) => {
  const z = await openZarr(COADS_ZARR, { maxChunkBytes: 1, readAhead: 2 });
  opened.push(z);
  const pre = new AbortController();
  pre.abort();
  const e1 = await rejection(collect(z.read({ variables: ['SST'], window: {}, signal: pre.signal })));
  t.equal(e1.name, 'AbortError');

  const ac = new AbortController();
  let seen = 0;
  const e2 = await rejection(
    (async () => {
      for await (const _c of z.read({ variables: ['SST'], window: {}, signal: ac.signal })) {
        seen++;
        if (seen === 2) ac.abort();
      }
    })(),
  );
  t.equal(e2.name, 'AbortError');
  t.equal(seen, 2, 'no chunk after the abort');

  // Reads stop too: with one chunk per piece and 2 pieces read ahead, at most 4 of the 12 chunk files are loaded.
  class Counting extends ZarrReader {
    loads = 0;
    protected override loadChunk(...args: Parameters<ZarrReader['loadChunk']>): ReturnType<ZarrReader['loadChunk']> {
      this.loads++;
      return super.loadChunk(...args);
    }
  }
  const counting = new Counting(z.path, z.meta, { maxChunkBytes: 1, readAhead: 2 });
  const ac3 = new AbortController();
  let got = 0;
  const e4 = await rejection(
    (async () => {
      for await (const _c of counting.read({ variables: ['SST'], window: {}, signal: ac3.signal })) {
        if (++got === 2) ac3.abort();
      }
    })(),
  );
  t.equal(e4.name, 'AbortError');
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(counting.loads <= 4, `${counting.loads} chunk files loaded of 12`);

  const e3 = await rejection(z.readRaw('SST', {}, pre.signal));
  t.equal(e3.name, 'AbortError');

  let taken = 0;
  for await (const _c of z.read({ variables: ['SST', 'AIRT'], window: {} })) {
    if (++taken === 3) break;
  }
  t.equal(taken, 3, 'breaking out of the loop ends the stream cleanly');
  await z.close();
  t.match((await rejection(collect(z.read({ variables: ['SST'], window: {} })))).message, /closed/);
  t.match((await rejection(z.readRaw('SST'))).message, /closed/);
});

// ---- codecs ---------------------------------------------------------------------------------

t.test('codecs: Python JSON, lz4 blocks, blosc frames', async (t) => {
  t.same(parsePythonJson('{"a": NaN, "b": [-Infinity, 1], "c": "NaN Infinity"}'), {
    a: Number.NaN,
    b: [Number.NEGATIVE_INFINITY, 1],
    c: 'NaN Infinity',
  });
  // lz4: literal "abc", then a match of 9 bytes at offset 3 (overlapping), then literals "Z".
  const lz = new Uint8Array([0x35, 0x61, 0x62, 0x63, 0x03, 0x00, 0x10, 0x5a]);
  const dest = new Uint8Array(13);
  t.equal(lz4DecompressBlock(lz, dest), 13);
  t.equal(Buffer.from(dest).toString(), 'abcabcabcabcZ');
  t.throws(() => lz4DecompressBlock(new Uint8Array([0x05, 0x61, 0x09, 0x00]), new Uint8Array(20)), /offset/);
  // Real blosc-lz4 frames of the store: shuffled (COADSX) and memcpyed (TIME).
  const x = bloscDecompress(new Uint8Array(fs.readFileSync(path.join(COADS_ZARR, 'COADSX', '0'))));
  t.same(Array.from(new Float64Array(x.buffer, 0, 3)), [-179, -177, -175]);
  const time = bloscDecompress(new Uint8Array(fs.readFileSync(path.join(COADS_ZARR, 'TIME', '0'))));
  t.equal(new Float64Array(time.buffer)[0], 366);
  t.throws(() => bloscDecompress(new Uint8Array(8)), /shorter than its header/);
});

const hasPythonZarr = spawnSync('/usr/bin/python3', ['-c', 'import zarr'], { encoding: 'utf8' }).status === 0;

t.test(
  'python3-zarr cross-check (optional)',
  { skip: hasPythonZarr ? false : 'python3-zarr is not installed (apt install python3-zarr)' },
  async (t) => {
    const dir = path.join(tmp, 'py.zarr');
    const script = [
      'import sys, zarr, numpy as np',
      'g = zarr.open_group(sys.argv[1], mode="w")',
      'a = g.create_dataset("v", shape=(5, 7), chunks=(2, 3), dtype=">i4", fill_value=-1)',
      'a[:4, :] = np.arange(28).reshape(4, 7)',
      'a.attrs["_ARRAY_DIMENSIONS"] = ["y", "x"]',
      'zarr.consolidate_metadata(sys.argv[1])',
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    t.equal(run.status, 0, run.stderr);
    const r = await open(dir);
    const raw = await r.readRaw('v');
    const expected = [...Array.from({ length: 28 }, (_, i) => i), ...new Array(7).fill(-1)];
    t.same(Array.from(raw.data as Int32Array), expected);
  },
);
