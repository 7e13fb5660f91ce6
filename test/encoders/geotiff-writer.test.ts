import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inflateSync } from 'node:zlib';
import { fromFile } from 'geotiff';
import t, { type Test } from 'tap';
import {
  geoTiffSize,
  InputOrderError,
  writeGeoTiff,
  type GeoTiffDef,
  type GeoTiffDType,
  type GeoTiffLayout,
  type PixelArray,
  type RowBand,
} from '../../src/encoders/geotiff/writer.js';
import { openGeoTiff } from '../../src/readers/geotiff/reader.js';
import type { NumericArray } from '../../src/readers/types.js';

const GDAL_PYTHON = '/usr/bin/python3';

type Check = Pick<Test, 'ok' | 'equal'>;

let dir = '';
t.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'odas-gtiff-test-'));
});
t.teardown(() => rm(dir, { recursive: true, force: true }));

let fileCounter = 0;

interface Written {
  file: string;
  bytes: number;
  layout: GeoTiffLayout | undefined;
  chunks: number;
}

/** Streams the writer into a file through a Node stream pipeline, as an HTTP reply would. */
async function write(def: GeoTiffDef, rows: AsyncIterable<RowBand> | Iterable<RowBand>): Promise<Written> {
  const file = path.join(dir, `out-${++fileCounter}.tif`);
  let layout: GeoTiffLayout | undefined;
  let bytes = 0;
  let chunks = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of writeGeoTiff(def, rows, { onLayout: (l) => (layout = l) })) {
      bytes += chunk.byteLength;
      chunks++;
      yield chunk;
    }
  }
  await pipeline(Readable.from(counted()), createWriteStream(file));
  return { file, bytes, layout, chunks };
}

/** The value of every pixel, by formula, so no test needs the whole raster twice. */
type Pattern = (band: number, row: number, col: number) => number;

function arrayFor(dtype: GeoTiffDType, n: number): Exclude<PixelArray, readonly number[]> {
  switch (dtype) {
    case 'u1':
      return new Uint8Array(n);
    case 'i1':
      return new Int8Array(n);
    case 'u2':
      return new Uint16Array(n);
    case 'i2':
      return new Int16Array(n);
    case 'u4':
      return new Uint32Array(n);
    case 'i4':
      return new Int32Array(n);
    case 'f4':
      return new Float32Array(n);
    case 'f8':
      return new Float64Array(n);
  }
}

/** Row bands of uneven heights (1, 7, 50, 1, 7, 50…), band after band. */
function* rowBands(def: GeoTiffDef, pattern: Pattern, heights = [1, 7, 50]): Generator<RowBand> {
  for (let band = 0; band < def.bands; band++) {
    let i = 0;
    for (let y = 0; y < def.height;) {
      const y1 = Math.min(def.height, y + heights[i++ % heights.length]!);
      const data = arrayFor(def.dtype, (y1 - y) * def.width);
      for (let r = y; r < y1; r++)
        for (let c = 0; c < def.width; c++) data[(r - y) * def.width + c] = pattern(band, r, c);
      yield { band, rows: [y, y1], data };
      y = y1;
    }
  }
}

function expectedBand(def: GeoTiffDef, pattern: Pattern, band: number): Float64Array {
  const out = new Float64Array(def.width * def.height);
  const cast = arrayFor(def.dtype, 1);
  for (let r = 0; r < def.height; r++) {
    for (let c = 0; c < def.width; c++) {
      cast[0] = pattern(band, r, c);
      out[r * def.width + c] = cast[0]!;
    }
  }
  return out;
}

function sameValues(
  t: Check,
  found: ArrayLike<number | bigint>,
  wanted: ArrayLike<number | bigint>,
  message: string,
): void {
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

interface GdalInfo {
  size: [number, number];
  geoTransform: number[];
  stac?: { 'proj:epsg'?: number };
  metadata: Record<string, Record<string, string>>;
  bands: Array<{
    band: number;
    block: [number, number];
    type: string;
    noDataValue?: number | string;
    description?: string;
    scale?: number;
    offset?: number;
    unit?: string;
    metadata: Record<string, Record<string, string>>;
  }>;
}

/** What GDAL makes of a written file: gdalinfo's JSON and every value of every band, as float64. */
interface GdalRead {
  info: GdalInfo;
  bands: Float64Array[];
}

/**
 * GDAL's reading of several files in one Python process (starting Python and GDAL costs more than
 * reading a small file): a JSON line of gdalinfo documents and byte counts, then the values.
 */
function gdalRead(files: Array<{ file: string; width: number; height: number }>): GdalRead[] {
  const script = [
    'import json, sys',
    'from osgeo import gdal',
    'import numpy as np',
    'gdal.UseExceptions()',
    'infos, parts = [], []',
    'for f in sys.argv[1:]:',
    '    ds = gdal.Open(f)',
    "    infos.append(gdal.Info(ds, format='json'))",
    '    parts.append(ds.ReadAsArray().astype(np.float64).tobytes())',
    '    ds = None',
    "sys.stdout.buffer.write((json.dumps({'infos': infos, 'sizes': [len(p) for p in parts]}) + '\\n').encode())",
    "sys.stdout.buffer.write(b''.join(parts))",
  ].join('\n');
  const out = execFileSync(GDAL_PYTHON, ['-c', script, ...files.map((f) => f.file)], { maxBuffer: 1 << 28 });
  const eol = out.indexOf(10);
  const head = JSON.parse(out.subarray(0, eol).toString('utf8')) as { infos: GdalInfo[]; sizes: number[] };
  let at = eol + 1;
  return files.map(({ width, height }, k) => {
    const bytes = out.subarray(at, at + head.sizes[k]!);
    at += head.sizes[k]!;
    const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const n = width * height;
    return {
      info: head.infos[k]!,
      bands: Array.from({ length: all.length / n }, (_, b) => all.subarray(b * n, (b + 1) * n)),
    };
  });
}

async function geotiffJsBand(file: string, band: number): Promise<NumericArray> {
  const tiff = await fromFile(file);
  try {
    const image = await tiff.getImage(0);
    return (await image.readRasters({ samples: [band], interleave: false }))[0]!;
  } finally {
    await tiff.close();
  }
}

/** Checks one written file against its definition with GDAL (read beforehand with others, or now), geotiff.js and our reader. */
async function verify(
  t: Check,
  written: Written,
  def: GeoTiffDef,
  pattern: Pattern,
  gdal: GdalRead = gdalRead([{ file: written.file, width: def.width, height: def.height }])[0]!,
): Promise<GdalRead> {
  const { file } = written;
  t.equal(statSync(file).size, written.bytes, 'file size = bytes yielded');
  t.equal(written.layout?.totalBytes, written.bytes, 'bytes yielded = declared total');
  const info = gdal.info;
  t.equal(JSON.stringify(info.size), JSON.stringify([def.width, def.height]), 'GDAL size');
  t.equal(JSON.stringify(info.geoTransform), JSON.stringify(def.transform), 'GDAL geotransform');
  t.equal(info.stac?.['proj:epsg'], def.epsg, 'GDAL EPSG');
  t.equal(info.bands.length, def.bands, 'GDAL band count');
  const ts = def.tileSize ?? 256;
  for (const b of info.bands) {
    t.equal(JSON.stringify(b.block), JSON.stringify([ts, ts]), `band ${b.band} tiled ${ts}`);
    if (def.nodata === undefined) t.equal(b.noDataValue, undefined, 'no nodata');
    else if (Number.isNaN(def.nodata)) t.equal(b.noDataValue, 'NaN', 'GDAL nodata NaN');
    else t.equal(b.noDataValue, def.nodata, 'GDAL nodata');
  }
  const reader = await openGeoTiff(file);
  try {
    const geo = reader.georef();
    t.equal(geo.epsg, def.epsg, 'reader EPSG');
    t.equal(geo.geographic, def.geographic, 'reader geographic');
    t.equal(JSON.stringify(geo.transform), JSON.stringify(def.transform), 'reader transform');
    const variables = (await reader.info()).variables;
    for (let band = 0; band < def.bands; band++) {
      const wanted = expectedBand(def, pattern, band);
      sameValues(t, gdal.bands[band]!, wanted, `band ${band}: every GDAL value`);
      sameValues(t, await geotiffJsBand(file, band), wanted, `band ${band}: every geotiff.js value`);
      sameValues(
        t,
        (await reader.readRaw(variables[band]!.name)).data as NumericArray,
        wanted,
        `band ${band}: every value through GeoTiffReader`,
      );
    }
  } finally {
    await reader.close();
  }
  return gdal;
}

const UTM: Pick<GeoTiffDef, 'transform' | 'epsg' | 'geographic'> = {
  transform: [101985, 300, 0, 2826915, 0, -300],
  epsg: 32618,
  geographic: false,
};
const LONLAT: Pick<GeoTiffDef, 'transform' | 'epsg' | 'geographic'> = {
  transform: [26.375, 0.0416, 0, 48.75, 0, -0.0417],
  epsg: 4326,
  geographic: true,
};

t.test('u1, 3 bands, 300×200 with edge tiles, projected: none and deflate', async (t) => {
  const pattern: Pattern = (b, r, c) => (c * 3 + r * 5 + b * 70) & 255;
  for (const compression of ['none', 'deflate'] as const) {
    const def: GeoTiffDef = { width: 300, height: 200, bands: 3, dtype: 'u1', compression, ...UTM };
    const written = await write(def, rowBands(def, pattern));
    const { info } = await verify(t, written, def, pattern);
    if (compression === 'none') t.equal(geoTiffSize(def), written.bytes, 'geoTiffSize predicts the uncompressed size');
    else t.equal(geoTiffSize(def), undefined, 'no size before compressing');
    t.equal(info.metadata['IMAGE_STRUCTURE']?.['INTERLEAVE'], 'BAND', 'one band per plane');
    t.equal(info.metadata['IMAGE_STRUCTURE']?.['COMPRESSION'], compression === 'deflate' ? 'DEFLATE' : undefined);
  }
});

t.test('i2 with nodata, scale/offset/description and metadata, geographic', async (t) => {
  const pattern: Pattern = (b, r, c) => ((r + c) % 17 === 0 ? -32768 : r * 100 + c - 15000 + b);
  for (const compression of ['none', 'deflate'] as const) {
    const def: GeoTiffDef = {
      width: 270,
      height: 260,
      bands: 2,
      dtype: 'i2',
      compression,
      nodata: -32768,
      ...LONLAT,
      metadata: { title: 'SST & friends <test> "quoted"', Conventions: 'CF-1.8' },
      bandInfo: [
        {
          description: 'analysed_sst',
          scale: 0.01,
          offset: 273.15,
          units: 'kelvin',
          metadata: { standard_name: 'sea_surface_temperature' },
        },
        { description: 'température' },
      ],
    };
    const written = await write(def, rowBands(def, pattern, [260]));
    const { info } = await verify(t, written, def, pattern);
    t.equal(info.metadata['']?.['title'], 'SST & friends <test> "quoted"', 'GDAL reads escaped metadata back');
    t.equal(info.metadata['']?.['Conventions'], 'CF-1.8');
    const [b1, b2] = info.bands;
    t.equal(b1?.description, 'analysed_sst');
    t.equal(b1?.scale, 0.01);
    t.equal(b1?.offset, 273.15);
    t.equal(b1?.unit, 'kelvin');
    t.equal(b1?.metadata['']?.['standard_name'], 'sea_surface_temperature');
    t.equal(b2?.description, 'température', 'UTF-8 survives the ASCII tag');
    const reader = await openGeoTiff(written.file);
    const vars = (await reader.info()).variables;
    t.equal(vars[0]?.name, 'analysed_sst', 'reader names bands from descriptions');
    t.equal(vars[0]?.attrs['scale_factor'], 0.01);
    t.equal(vars[0]?.attrs['add_offset'], 273.15);
    t.equal(vars[0]?.attrs['_FillValue'], -32768);
    t.equal(vars[1]?.name, 'température');
    await reader.close();
    // Edge tiles are padded with nodata: the last tile's last value, read from the raw bytes.
    const tiff = await fromFile(written.file);
    const fd = (await tiff.getImage(0)).fileDirectory;
    const last = 2 * 2 * 2 - 1;
    const offset = Number(await fd.loadValueIndexed('TileOffsets', last));
    const count = Number(await fd.loadValueIndexed('TileByteCounts', last));
    await tiff.close();
    const raw = readFileSync(written.file).subarray(offset, offset + count);
    const tile = compression === 'deflate' ? inflateSync(raw) : raw;
    t.equal(tile.length, 256 * 256 * 2);
    t.equal(tile.readInt16LE(tile.length - 2), -32768, `${compression}: padding holds nodata`);
  }
});

t.test('f4 with NaN values and NaN nodata', async (t) => {
  const pattern: Pattern = (b, r, c) => ((r * c) % 23 === 1 ? Number.NaN : (r - c) / 7 + b * 0.5);
  for (const compression of ['none', 'deflate'] as const) {
    const def: GeoTiffDef = {
      width: 257,
      height: 513,
      bands: 1,
      dtype: 'f4',
      compression,
      nodata: Number.NaN,
      ...LONLAT,
    };
    const written = await write(def, rowBands(def, pattern, [100, 3]));
    await verify(t, written, def, pattern);
  }
});

t.test('every dtype, 16-px tiles, rows one at a time', async (t) => {
  const dtypes: GeoTiffDType[] = ['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'f4', 'f8'];
  const pattern: Pattern = (b, r, c) => (r * 41 + c * 13 + b) * (r % 2 === 0 ? 1 : -1) * 1.5;
  const defs = dtypes.map((dtype): GeoTiffDef => ({
    width: 40,
    height: 35,
    bands: 2,
    dtype,
    tileSize: 16,
    compression: dtype.endsWith('1') ? 'none' : 'deflate',
    ...UTM,
  }));
  const written: Written[] = [];
  for (const def of defs) written.push(await write(def, rowBands(def, pattern, [1])));
  // GDAL reads the eight files in one go.
  const gdal = gdalRead(defs.map((def, k) => ({ file: written[k]!.file, width: def.width, height: def.height })));
  for (const [k, def] of defs.entries()) await verify(t, written[k]!, def, pattern, gdal[k]);
});

t.test('rotated grid: ModelTransformation', async (t) => {
  const def: GeoTiffDef = {
    width: 50,
    height: 40,
    bands: 1,
    dtype: 'u2',
    transform: [1000, 10, 2, 5000, 3, -10],
    epsg: 32618,
    geographic: false,
  };
  const pattern: Pattern = (_b, r, c) => r * 50 + c;
  const written = await write(def, rowBands(def, pattern));
  const [gdal] = gdalRead([{ file: written.file, width: def.width, height: def.height }]);
  t.equal(JSON.stringify(gdal!.info.geoTransform), JSON.stringify(def.transform));
  sameValues(t, gdal!.bands[0]!, expectedBand(def, pattern, 0), 'values');
});

t.test('BigTIFF forced on a small file', async (t) => {
  const pattern: Pattern = (b, r, c) => (r ^ c) + b;
  for (const compression of ['none', 'deflate'] as const) {
    const def: GeoTiffDef = {
      width: 300,
      height: 100,
      bands: 2,
      dtype: 'u2',
      compression,
      bigTiff: true,
      nodata: 0,
      ...UTM,
    };
    const written = await write(def, rowBands(def, pattern));
    t.equal(written.layout?.bigTiff, true);
    const head = readFileSync(written.file).subarray(0, 4);
    t.equal(head.readUInt16LE(2), 43, 'BigTIFF magic');
    await verify(t, written, def, pattern);
    if (compression === 'none') t.equal(geoTiffSize(def), written.bytes);
  }
  // auto keeps small files classic
  const def: GeoTiffDef = { width: 16, height: 16, bands: 1, dtype: 'u1', ...UTM };
  const small = await write(
    def,
    rowBands(def, () => 1),
  );
  t.equal(readFileSync(small.file).readUInt16LE(2), 42, 'classic TIFF by default');
});

t.test('DEFLATE spool: spilled to a temp file, same bytes, temp file removed', async (t) => {
  const pattern: Pattern = (b, r, c) => Math.sin(r / 9) * Math.cos(c / 7) * 1000 + b;
  const base: GeoTiffDef = { width: 600, height: 520, bands: 2, dtype: 'f4', compression: 'deflate', ...LONLAT };
  const spoolDir = await mkdtemp(path.join(dir, 'spool-'));
  const inMemory = await write(base, rowBands(base, pattern));
  const spilled = await write({ ...base, spoolMemoryBytes: 0, tempDir: spoolDir }, rowBands(base, pattern));
  t.ok(readFileSync(inMemory.file).equals(readFileSync(spilled.file)), 'identical files');
  t.same(await readdir(spoolDir), [], 'spill directory removed');
  await verify(t, spilled, base, pattern);

  // A consumer that stops early (client gone) still removes the spill file.
  const gen = writeGeoTiff({ ...base, spoolMemoryBytes: 0, tempDir: spoolDir }, rowBands(base, pattern));
  const first = await gen.next();
  t.equal(first.done, false);
  t.ok((await readdir(spoolDir)).length > 0, 'spill file exists while streaming');
  await gen.return(undefined);
  t.same(await readdir(spoolDir), [], 'spill directory removed on early return');
});

t.test('bad definitions and bad input', async (t) => {
  const def: GeoTiffDef = { width: 40, height: 30, bands: 2, dtype: 'u1', tileSize: 16, ...UTM };
  const drain = async (d: GeoTiffDef, rows: Iterable<RowBand>) => {
    for await (const _chunk of writeGeoTiff(d, rows)) void _chunk;
  };
  const rows = [...rowBands(def, () => 1, [10])];
  await t.rejects(drain({ ...def, tileSize: 100 }, rows), RangeError, 'tile size not a multiple of 16');
  await t.rejects(drain({ ...def, nodata: 300 }, rows), RangeError, 'nodata outside u1');
  await t.rejects(drain({ ...def, nodata: Number.NaN }, rows), RangeError, 'NaN nodata on integers');
  await t.rejects(drain({ ...def, width: 0 }, rows), RangeError, 'empty raster');
  await t.rejects(drain({ ...def, transform: [0, 0, 0, 0, 0, -1] }, rows), RangeError, 'zero pixel size');
  const huge: GeoTiffDef = { ...def, width: 70000, height: 70000, tileSize: 512 };
  await t.rejects(drain({ ...huge, bigTiff: false }, []), /needs BigTIFF/, 'too big for classic TIFF');
  t.ok(geoTiffSize(huge)! > 2 ** 32, 'auto switches to BigTIFF past 4 GB');
  for (const compression of ['none', 'deflate'] as const) {
    let consumed = 0;
    const counting = (function* () {
      for (const r of rows) {
        consumed++;
        yield r;
      }
    })();
    await t.rejects(
      drain({ ...def, compression, bandInfo: [{ description: 'a\0b' }] }, counting),
      RangeError,
      `${compression}: NUL in a text tag`,
    );
    t.equal(consumed, 0, `${compression}: rejected before reading any input`);
  }
  await t.rejects(drain(def, rows.slice(0, -1)), InputOrderError, 'input ends early');
  await t.rejects(drain(def, [rows[1]!, rows[0]!]), InputOrderError, 'rows out of order');
  await t.rejects(drain(def, [rows[3]!]), InputOrderError, 'band 1 before band 0');
  await t.rejects(
    drain(def, [{ band: 0, rows: [0, 10], data: new Uint8Array(5) }]),
    InputOrderError,
    'wrong value count',
  );
  await t.rejects(drain(def, [...rows, rows[0]!]), InputOrderError, 'rows after the end');
});

t.test('20000×20000 u1 in row bands: streamed, complete, GDAL reads the corners', async (t) => {
  const width = 20000;
  const height = 20000;
  const def: GeoTiffDef = { width, height, bands: 1, dtype: 'u1', ...UTM };
  const band = 64;
  async function* rows(): AsyncGenerator<RowBand> {
    const data = new Uint8Array(band * width);
    for (let y = 0; y < height; y += band) {
      const y1 = Math.min(height, y + band);
      for (let r = y; r < y1; r++) data.fill((r * 7) & 255, (r - y) * width, (r - y + 1) * width);
      data[0 * width + (width - 1)] = 200; // top-right of each band
      yield { band: 0, rows: [y, y1], data: data.subarray(0, (y1 - y) * width) };
    }
  }
  const written = await write(def, rows());
  t.equal(written.bytes, geoTiffSize(def), 'every byte declared was written');
  t.equal(statSync(written.file).size, written.bytes);
  const value = (col: number, row: number) =>
    Number(
      execFileSync('gdallocationinfo', ['-valonly', written.file, String(col), String(row)], {
        encoding: 'utf8',
      }).trim(),
    );
  t.equal(value(0, 0), 0, 'top-left');
  t.equal(value(width - 1, 0), 200, 'top-right');
  t.equal(value(0, height - 1), ((height - 1) * 7) & 255, 'bottom-left');
  t.equal(value(width - 1, height - 1), ((height - 1) * 7) & 255, 'bottom-right');
  await rm(written.file);
});
