import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fromFile } from 'geotiff';
import t, { type Test } from 'tap';
import { decodeNumeric } from '../../src/cf/decode.js';
import { GeoTiffReader, openGeoTiff, type GeoTiffReaderOptions } from '../../src/readers/geotiff/reader.js';
import { openReader } from '../../src/readers/registry.js';
import type { Chunk, NumericArray, RawArray } from '../../src/readers/types.js';
import { CorruptFileError, ReaderRequestError } from '../../src/readers/types.js';
import { referenceEntries, sharedData } from '../helpers/data.js';

const GHRSST = 'geotiff/ghrsst_blk_analysed_sst_20160707_cog.tif';
const RGB = 'geotiff/RGB.byte.tif';
const COGEO = 'geotiff/cogeo.tif';
const OISST =
  'stac/noaa-cdr/noaa-cdr-sea-surface-temperature-optimum-interpolation/oisst-avhrr-v02r01.20220913/oisst-avhrr-v02r01.20220913-sst.tif';
const OHC =
  'stac/noaa-cdr/noaa-cdr-ocean-heat-content/ocean-heat-content-2017-2021-100m/mean_temperature_anomaly_0-100_pentad_2017-2021.tif';

/** Debian's GDAL (python3-gdal), used as the reference decoder for whole rasters. */
const GDAL_PYTHON = '/usr/bin/python3';
const hasGdal =
  existsSync(GDAL_PYTHON) &&
  (() => {
    try {
      execFileSync(GDAL_PYTHON, ['-c', 'from osgeo import gdal'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

/** One band as GDAL reads it, as float64 (every stored type here fits exactly). */
function gdalBand(file: string, band: number): Float64Array {
  // The dataset must stay referenced while its band is read (GDAL's Python bindings crash otherwise).
  const script =
    'import sys; from osgeo import gdal; import numpy as np; ds = gdal.Open(sys.argv[1]); ' +
    'a = ds.GetRasterBand(int(sys.argv[2])).ReadAsArray().astype(np.float64); sys.stdout.buffer.write(a.tobytes())';
  const out = execFileSync(GDAL_PYTHON, ['-c', script, file, String(band)], { maxBuffer: 1 << 28 });
  return new Float64Array(out.buffer, out.byteOffset, out.byteLength / 8);
}

/** The assertions the helpers below use. */
type Check = Pick<Test, 'ok' | 'same' | 'equal'>;

function open(relPath: string, options?: GeoTiffReaderOptions): Promise<GeoTiffReader> {
  return openGeoTiff(sharedData(relPath), options);
}

function values(raw: RawArray | NumericArray): number[] {
  const data = 'data' in raw ? raw.data : raw;
  return Array.from(data as ArrayLike<number>, Number);
}

/** Big arrays compared without tap's deep diff (slow on a million cells): index and values of the first difference. */
function sameValues(t: Check, found: ArrayLike<number>, wanted: ArrayLike<number>, message: string): void {
  let at = found.length === wanted.length ? -1 : Math.min(found.length, wanted.length);
  for (let i = 0; at < 0 && i < found.length; i++) {
    if (!Object.is(Number(found[i]), Number(wanted[i]))) at = i;
  }
  t.equal(
    at < 0 ? 'equal' : `differ at ${at}: ${found[at]} vs ${wanted[at]} (lengths ${found.length}, ${wanted.length})`,
    'equal',
    message,
  );
}

async function collect(iterable: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

/** Rasterio's affine (a, b, c, d, e, f) printed in MANIFEST.md, as a GDAL geotransform. */
function fromAffine([a, b, c, d, e, f]: number[]): number[] {
  return [c!, a!, b!, f!, d!, e!];
}

/** Pastes streamed chunks of one band into a full-size array, checking they tile the window exactly once. */
function assemble(
  t: Check,
  chunks: Chunk[],
  width: number,
  height: number,
  rows: [number, number] = [0, height],
): Float64Array {
  const out = new Float64Array(width * height).fill(Number.NaN);
  const seen = new Uint8Array(width * height);
  for (const c of chunks) {
    const [y0, y1] = c.window['y']!;
    const [x0, x1] = c.window['x']!;
    t.same(c.shape, [y1 - y0, x1 - x0], 'chunk shape matches its window');
    const data = c.data as NumericArray;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        out[y * width + x] = Number(data[(y - y0) * (x1 - x0) + (x - x0)]);
        seen[y * width + x]! += 1;
      }
    }
  }
  t.ok(
    seen.subarray(rows[0] * width, rows[1] * width).every((n) => n === 1),
    'chunks cover the window exactly once',
  );
  return out;
}

/** Reference cells: raw value, coordinates of the cell centre, physical value where given. */
async function checkReferences(t: Check, r: GeoTiffReader, relPath: string): Promise<void> {
  const info = await r.info();
  const entries = referenceEntries(relPath);
  t.ok(entries.length > 0, 'reference entries exist');
  for (const e of entries) {
    const band = `band${e['band'] as number}`;
    const { row, col } = e.indices as { row: number; col: number };
    const raw = await r.readRaw(band, { y: [row, row + 1], x: [col, col + 1] });
    t.same(raw.shape, [1, 1]);
    const expected = Number(e.value);
    const got = Number((raw.data as NumericArray)[0]);
    if (Number.isInteger(expected)) t.equal(got, expected, `${band}[${row},${col}] = ${expected}`);
    else t.ok(Math.abs(got - expected) < 1e-6, `${band}[${row},${col}] = ${got} ≈ ${expected}`);
    const x = (await r.readRaw('x', { x: [col, col + 1] })).data as Float64Array;
    const y = (await r.readRaw('y', { y: [row, row + 1] })).data as Float64Array;
    const coords = e.coordinates as { x: number; y: number };
    t.ok(Math.abs(x[0]! - coords.x) < 1e-6 * Math.max(1, Math.abs(coords.x)), `x of col ${col}: ${x[0]} ≈ ${coords.x}`);
    t.ok(Math.abs(y[0]! - coords.y) < 1e-6 * Math.max(1, Math.abs(coords.y)), `y of row ${row}: ${y[0]} ≈ ${coords.y}`);
    if (e['physical_value'] !== undefined) {
      const attrs = info.variables.find((v) => v.name === band)!.attrs;
      const physical = decodeNumeric(raw, attrs)[0]!;
      t.ok(
        Math.abs(physical - Number(e['physical_value'])) < 1e-5,
        `physical ${physical} ≈ ${String(e['physical_value'])}`,
      );
    }
  }
}

/** A window read equals the same cells of a full read. */
async function checkWindow(
  t: Check,
  r: GeoTiffReader,
  band: string,
  full: RawArray,
  y: [number, number],
  x: [number, number],
): Promise<void> {
  const width = full.shape[1]!;
  const win = await r.readRaw(band, { y, x });
  const expected: number[] = [];
  for (let row = y[0]; row < y[1]; row++) {
    for (let col = x[0]; col < x[1]; col++) expected.push(Number((full.data as NumericArray)[row * width + col]));
  }
  t.same(win.shape, [y[1] - y[0], x[1] - x[0]]);
  sameValues(t, values(win), expected, `${band} window y=${y} x=${x} equals the full read`);
}

t.test('GHRSST COG: int16 with scale/offset, 128-px tiles, 2 overviews', async (t) => {
  const r = await open(GHRSST);
  t.teardown(() => r.close());
  const info = await r.info();
  t.equal(info.format, 'geotiff');
  t.same(info.dims, { y: 240, x: 384 });
  t.same(
    info.variables.map((v) => v.name),
    ['band1', 'x', 'y'],
  );
  const band = info.variables[0]!;
  t.same(
    { dtype: band.dtype, dims: band.dims, shape: band.shape, chunks: band.chunks },
    { dtype: 'i2', dims: ['y', 'x'], shape: [240, 384], chunks: [128, 128] },
  );
  t.equal(band.attrs['_FillValue'], -32768);
  t.equal(band.attrs['scale_factor'], 0.009999999776482582);
  t.equal(band.attrs['add_offset'], 273.1499938964844);
  t.equal(band.attrs['units'], 'kelvin');
  t.equal(band.attrs['long_name'], 'analysed sea surface temperature');
  t.equal(band.attrs['standard_name'], 'sea_surface_temperature');
  t.equal(band.attrs['valid_min'], -300, 'valid_min kept numeric for CF decoding');
  t.equal(info.attrs['Conventions'], 'CF-1.4', 'NC_GLOBAL# items become global attributes');
  t.match(
    String(info.attrs['comment']),
    /Values >127 are/,
    'GDAL double-escaped text is unescaped twice, as gdalinfo shows it',
  );
  const x = info.variables.find((v) => v.name === 'x')!;
  t.same({ dtype: x.dtype, dims: x.dims, shape: x.shape }, { dtype: 'f8', dims: ['x'], shape: [384] });
  t.match(x.attrs, { units: 'degrees_east', standard_name: 'longitude' });
  t.match(info.variables.find((v) => v.name === 'y')!.attrs, { units: 'degrees_north', standard_name: 'latitude' });

  const geo = r.georef();
  t.equal(geo.epsg, 4326);
  t.equal(geo.geographic, true);
  t.same(
    geo.transform,
    fromAffine([0.04166683764744054, 0.0, 26.3749662180171, 0.0, -0.04166693268460709, 48.75003192215285]),
  );
  t.same([geo.width, geo.height], [384, 240]);
  t.same(geo.overviews, [
    { width: 192, height: 120, index: 1 },
    { width: 96, height: 60, index: 2 },
  ]);

  await checkReferences(t, r, GHRSST);
  const full = await r.readRaw('band1');
  t.same(full.shape, [240, 384]);
  t.ok(full.data instanceof Int16Array);
  await checkWindow(t, r, 'band1', full, [100, 200], [120, 300]); // crosses tile edges both ways
  await checkWindow(t, r, 'band1', full, [239, 240], [383, 384]); // last cell, in an edge tile
  await checkWindow(t, r, 'band1', full, [0, 240], [5, 6]); // one full column
  if (hasGdal) sameValues(t, values(full), Array.from(gdalBand(sharedData(GHRSST), 1)), 'every value equals GDAL');

  // Streamed with a bound of one tile row band: chunks follow tile rows and reassemble to the full read.
  const chunks = await collect(r.read({ variables: ['band1', 'x'], window: {} }));
  t.same(
    chunks.map((c) => c.variable),
    ['band1', 'x'],
    'small band in one chunk, then x',
  );
  const small = await collect(
    (await open(GHRSST, { maxChunkBytes: 384 * 128 * 2 })).read({ variables: ['band1'], window: { y: [10, 230] } }),
  );
  t.same(
    small.map((c) => c.window['y']),
    [
      [10, 128],
      [128, 230],
    ],
    'row bands end on tile boundaries',
  );
  const pasted = assemble(t, small, 384, 240, [10, 230]);
  sameValues(
    t,
    Array.from(pasted.subarray(10 * 384, 230 * 384)),
    values(full).slice(10 * 384, 230 * 384),
    'values equal',
  );
});

t.test('GHRSST COG: readResampled picks overviews', async (t) => {
  const r = await open(GHRSST);
  t.teardown(() => r.close());
  const tiff = await fromFile(sharedData(GHRSST));
  t.teardown(() => tiff.close());
  for (const { index, width, height } of r.georef().overviews) {
    const expected = await (await tiff.getImage(index)).readRasters({ samples: [0], interleave: false });
    const got = await r.readResampled('band1', undefined, width, height);
    t.same(got.shape, [height, width]);
    t.equal(got.dtype, 'i2');
    sameValues(
      t,
      values(got),
      Array.from(expected[0]!, Number),
      `${width}×${height} is overview ${index}, cell for cell`,
    );
  }
  // Between two overview sizes: the finer one (192×120) is sampled, never the coarser.
  const ov1 = (await (await tiff.getImage(1)).readRasters({ samples: [0], interleave: false }))[0]!;
  const got = await r.readResampled('band1', undefined, 150, 100);
  t.same(got.shape, [100, 150]);
  const expected: number[] = [];
  for (let i = 0; i < 100; i++) {
    for (let j = 0; j < 150; j++)
      expected.push(
        Number(ov1[Math.floor(((i + 0.5) * 240) / 100 / 2) * 192 + Math.floor(((j + 0.5) * 384) / 150 / 2)]),
      );
  }
  sameValues(t, values(got), expected, 'nearest cells of overview 1');
  // Upsampling and full resolution read the full-resolution image.
  const full = await r.readRaw('band1', { y: [50, 60], x: [70, 80] });
  t.same(
    values(await r.readResampled('band1', { y: [50, 60], x: [70, 80] }, 10, 10)),
    values(full),
    'same size: the window itself',
  );
  const up = await r.readResampled('band1', { y: [50, 60], x: [70, 80] }, 20, 20);
  t.equal(
    Number((up.data as NumericArray)[20 * 19 + 19]),
    Number((full.data as NumericArray)[99]),
    'upsampled corner is the window corner',
  );
  // A window of the full grid, downscaled 4×, comes from the 96×60 overview at the matching cells.
  const ov2 = (
    await (await tiff.getImage(2)).readRasters({ window: [10, 5, 30, 25], samples: [0], interleave: false })
  )[0]!;
  const sub = await r.readResampled('band1', { y: [20, 100], x: [40, 120] }, 20, 20);
  sameValues(t, values(sub), Array.from(ov2, Number), 'window at 1/4 scale equals overview 2 cells');
  await t.rejects(r.readResampled('band1', undefined, 0, 10), ReaderRequestError);
  await t.rejects(r.readResampled('band1', { x: [5, 5] }, 10, 10), ReaderRequestError);
});

t.test("GHRSST COG: readPicks reads the overview whose cells fit the picks' spacing", async (t) => {
  const r = await open(GHRSST);
  t.teardown(() => r.close());
  const tiff = await fromFile(sharedData(GHRSST));
  t.teardown(() => tiff.close());
  const every = (from: number, to: number, step: number) =>
    Int32Array.from({ length: Math.ceil((to - from) / step) }, (_, k) => from + k * step);
  // Every 4th cell from 2: the cells of the 1/4 overview (96 × 60), one for one.
  const ov2 = (await (await tiff.getImage(2)).readRasters({ samples: [0], interleave: false }))[0]!;
  const quarter = await r.readPicks('band1', [every(2, 240, 4), every(2, 384, 4)]);
  t.same(quarter.shape, [60, 96]);
  sameValues(t, values(quarter), Array.from(ov2, Number), 'every 4th cell = overview 2');
  // Every 2nd cell of a window: overview 1 at the matching cells.
  const ov1 = (
    await (await tiff.getImage(1)).readRasters({ window: [10, 5, 30, 25], samples: [0], interleave: false })
  )[0]!;
  sameValues(
    t,
    values(await r.readPicks('band1', [every(10, 50, 2), every(20, 60, 2)])),
    Array.from(ov1, Number),
    'every 2nd cell = overview 1',
  );
  // Neighbouring cells: full resolution, the same as the window.
  sameValues(
    t,
    values(await r.readPicks('band1', [every(50, 60, 1), every(70, 80, 1)])),
    values(await r.readRaw('band1', { y: [50, 60], x: [70, 80] })),
    'every cell = full resolution',
  );
  await t.rejects(r.readPicks('band1', [Int32Array.of(3, 1), Int32Array.of(0)]), ReaderRequestError);
  await t.rejects(r.readPicks('band1', [Int32Array.of(0), Int32Array.of(384)]), ReaderRequestError);
});

t.test('RGB.byte.tif: striped, pixel-interleaved, projected UTM 18N', async (t) => {
  const r = await open(RGB);
  t.teardown(() => r.close());
  const info = await r.info();
  t.same(
    info.variables.map((v) => [v.name, v.dtype]),
    [
      ['band1', 'u1'],
      ['band2', 'u1'],
      ['band3', 'u1'],
      ['x', 'f8'],
      ['y', 'f8'],
    ],
  );
  for (const v of info.variables.slice(0, 3)) {
    t.same(v.chunks, [3, 791], `${v.name} chunks are the strips`);
    t.equal(v.attrs['_FillValue'], 0);
  }
  t.match(info.variables.find((v) => v.name === 'x')!.attrs, { units: 'm', standard_name: 'projection_x_coordinate' });
  t.match(info.variables.find((v) => v.name === 'y')!.attrs, { units: 'm', standard_name: 'projection_y_coordinate' });
  const geo = r.georef();
  t.equal(geo.epsg, 32618);
  t.equal(geo.geographic, false);
  t.same(geo.transform, fromAffine([300.0379266750948, 0.0, 101985.0, 0.0, -300.041782729805, 2826915.0]));
  t.same(geo.overviews, []);
  await checkReferences(t, r, RGB);
  for (const band of ['band1', 'band2', 'band3']) {
    const full = await r.readRaw(band);
    await checkWindow(t, r, band, full, [298, 305], [395, 410]);
    if (hasGdal)
      sameValues(
        t,
        values(full),
        Array.from(gdalBand(sharedData(RGB), Number(band.slice(4)))),
        `${band}: every value equals GDAL`,
      );
  }
  // A 40-strip bound: chunks are multiples of the 3-row strips.
  const small = await collect(
    (await open(RGB, { maxChunkBytes: 791 * 120 })).read({ variables: ['band2'], window: {} }),
  );
  t.ok(small.length > 1);
  t.ok(
    small.every((c) => c.window['y']![0] % 3 === 0),
    'every chunk starts on a strip',
  );
  t.ok(
    small.every((c) => (c.data as Uint8Array).byteLength <= 791 * 120),
    'every chunk within the bound',
  );
  sameValues(t, Array.from(assemble(t, small, 791, 718)), values(await r.readRaw('band2')), 'values equal');
  // No overviews: half size samples full-resolution cells 2i+1, 2j+1.
  const full = await r.readRaw('band1');
  const half = await r.readResampled('band1', { y: [0, 718], x: [0, 790] }, 395, 359);
  t.same(half.shape, [359, 395]);
  const expected: number[] = [];
  for (let i = 0; i < 359; i++)
    for (let j = 0; j < 395; j++) expected.push(Number((full.data as Uint8Array)[(2 * i + 1) * 791 + 2 * j + 1]));
  sameValues(t, values(half), expected, 'values equal');
});

t.test('cogeo.tif: JPEG (YCbCr) COG in EPSG:3857 with an internal mask', async (t) => {
  const r = await open(COGEO);
  t.teardown(() => r.close());
  const geo = r.georef();
  t.equal(geo.epsg, 3857);
  t.equal(geo.geographic, false);
  t.same(
    geo.transform,
    fromAffine([0.5971640348434448, 0.0, 14321853.115736904, 0.0, -0.5971640348434448, 4533021.525424092]),
  );
  t.same(
    geo.overviews.map((o) => o.width),
    [512, 256, 128, 64, 32, 16],
    'mask IFDs are not overviews',
  );
  const info = await r.info();
  t.same(
    info.variables.slice(0, 3).map((v) => [v.name, v.dtype, v.chunks]),
    [
      ['band1', 'u1', [512, 512]],
      ['band2', 'u1', [512, 512]],
      ['band3', 'u1', [512, 512]],
    ],
  );
  t.equal(info.variables[0]!.attrs['_FillValue'], undefined, 'no nodata (the file uses a mask)');
  // JPEG is decoded by libjpeg-turbo, as GDAL decodes it: every value of every band equals GDAL's
  // (geotiff.js's own decoder was off by up to ±13 after YCbCr→RGB).
  await checkReferences(t, r, COGEO);
  const full = await r.readRaw('band3');
  if (hasGdal) {
    for (const b of [1, 2, 3])
      sameValues(
        t,
        values(b === 3 ? full : await r.readRaw(`band${b}`)),
        Array.from(gdalBand(sharedData(COGEO), b)),
        `band${b}: every value equals GDAL's`,
      );
  }
  await checkWindow(t, r, 'band3', full, [500, 530], [490, 530]);
  const resampled = await r.readResampled('band1', undefined, 256, 256);
  t.same(resampled.shape, [256, 256]);
});

t.test('NOAA OISST COG: int16, nodata -999, 1440×720, 512-px tiles', async (t) => {
  const r = await open(OISST);
  t.teardown(() => r.close());
  const info = await r.info();
  t.same(info.dims, { y: 720, x: 1440 });
  const band = info.variables[0]!;
  t.same([band.name, band.dtype, band.chunks], ['band1', 'i2', [512, 512]]);
  t.equal(band.attrs['_FillValue'], -999);
  t.equal(band.attrs['scale_factor'], undefined, 'the scale lives only in the STAC item');
  const geo = r.georef();
  t.same([geo.epsg, geo.geographic, geo.width, geo.height], [4326, true, 1440, 720]);
  t.same(geo.transform, [-180, 0.25, 0, 90, 0, -0.25]);
  t.same(
    geo.overviews.map((o) => [o.width, o.height]),
    [
      [720, 360],
      [360, 180],
    ],
  );
  await checkReferences(t, r, OISST);
  const full = await r.readRaw('band1');
  await checkWindow(t, r, 'band1', full, [500, 530], [500, 530]);
  if (hasGdal) sameValues(t, values(full), Array.from(gdalBand(sharedData(OISST), 1)), 'every value equals GDAL');
  // One tile per chunk: a block row of the full width does not fit, so chunks split on tile columns.
  const chunks = await collect(
    (await open(OISST, { maxChunkBytes: 512 * 512 * 2 })).read({ variables: ['band1'], window: {} }),
  );
  t.same(chunks.map((c) => [c.window['y'], c.window['x']]).slice(0, 4), [
    [
      [0, 512],
      [0, 512],
    ],
    [
      [0, 512],
      [512, 1024],
    ],
    [
      [0, 512],
      [1024, 1440],
    ],
    [
      [512, 720],
      [0, 512],
    ],
  ]);
  sameValues(t, Array.from(assemble(t, chunks, 1440, 720)), values(full), 'values equal');
  const quarter = await r.readResampled('band1', undefined, 360, 180);
  t.same(quarter.shape, [180, 360]);
});

t.test('float32 COG with NaN nodata', async (t) => {
  const r = await open(OHC);
  t.teardown(() => r.close());
  const band = (await r.info()).variables[0]!;
  t.equal(band.dtype, 'f4');
  t.ok(Number.isNaN(band.attrs['_FillValue']), '_FillValue is NaN ("nan" in GDAL_NODATA)');
  await checkReferences(t, r, OHC);
});

t.test('requests that do not fit the file', async (t) => {
  const r = await open(GHRSST);
  t.teardown(() => r.close());
  await t.rejects(r.readRaw('band2'), ReaderRequestError, 'unknown band');
  await t.rejects(r.readRaw('band1', { y: [0, 241] }), ReaderRequestError, 'past the end');
  await t.rejects(r.readRaw('band1', { y: [-1, 5] }), ReaderRequestError, 'negative');
  await t.rejects(r.readRaw('band1', { y: [5, 4] }), ReaderRequestError, 'reversed');
  await t.rejects(r.readRaw('band1', { y: [0.5, 4] }), ReaderRequestError, 'not integers');
  await t.rejects(r.readRaw('band1', { time: [0, 1] }), ReaderRequestError, 'unknown dimension');
  await t.rejects(
    collect(r.read({ variables: ['band1', 'nope'], window: {} })),
    ReaderRequestError,
    'validated before reading',
  );
  const empty = await collect(r.read({ variables: ['band1'], window: { y: [3, 3] } }));
  t.same(empty, [], 'an empty window yields nothing');
  t.same((await r.readRaw('band1', { x: [7, 7] })).shape, [240, 0]);

  const controller = new AbortController();
  controller.abort();
  await t.rejects(collect(r.read({ variables: ['band1'], window: {}, signal: controller.signal })), {
    name: 'AbortError',
  });
  // Aborted between chunks: the stream stops after the chunk in hand.
  const later = new AbortController();
  const seen: Chunk[] = [];
  const streamed = (await open(GHRSST, { maxChunkBytes: 384 * 128 * 2 })).read({
    variables: ['band1'],
    window: {},
    signal: later.signal,
  });
  await t.rejects(
    (async () => {
      for await (const c of streamed) {
        seen.push(c);
        later.abort();
      }
    })(),
    { name: 'AbortError' },
  );
  t.equal(seen.length, 1);
});

t.test('broken files', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'odas-geotiff-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bytes = readFileSync(sharedData(OISST));

  const truncated = path.join(dir, 'truncated.tif');
  await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await t.rejects(openGeoTiff(truncated), CorruptFileError, 'truncated: tiles past the end of the file');

  const garbage = path.join(dir, 'garbage.tif');
  await writeFile(garbage, Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(100, 0xff)]));
  await t.rejects(openGeoTiff(garbage), CorruptFileError, 'garbage after a TIFF signature');

  // Zeroed tile bytes: the file opens, the tile does not inflate.
  const damaged = path.join(dir, 'damaged.tif');
  const copy = Buffer.from(bytes);
  const r0 = await openGeoTiff(sharedData(OISST));
  const offsets = (await (await fromFile(sharedData(OISST))).getImage(0)).fileDirectory;
  const first = Number(await offsets.loadValueIndexed('TileOffsets', 0));
  await r0.close();
  copy.fill(0, first, first + 200);
  await writeFile(damaged, copy);
  const r = await openGeoTiff(damaged);
  t.teardown(() => r.close());
  await t.rejects(r.readRaw('band1', { y: [0, 10], x: [0, 10] }), CorruptFileError, 'undecodable tile');
  t.same((await r.readRaw('band1', { y: [0, 1], x: [600, 601] })).shape, [1, 1], 'other tiles still read');

  await t.rejects(openGeoTiff(path.join(dir, 'missing.tif')), { code: 'ENOENT' }, 'a missing file is not "corrupt"');
});

t.test('registry opens GeoTIFF files with this reader', async (t) => {
  const r = await openReader(sharedData(GHRSST));
  t.teardown(() => r.close());
  t.ok(r instanceof GeoTiffReader);
  t.equal((await r.info()).format, 'geotiff');
});
