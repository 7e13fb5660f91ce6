import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { charAt, decodeChars, decodeNumeric, decodeStrings } from '../../src/cf/decode.js';
import { decodeTimes, isoString, parseArgoDate } from '../../src/cf/time.js';
import { readNetcdf3Header } from '../../src/readers/netcdf3/header.js';
import type { Netcdf3ReaderOptions } from '../../src/readers/netcdf3/reader.js';
import { Netcdf3Reader, openNetcdf3 } from '../../src/readers/netcdf3/reader.js';
import { FileSource, openFileSource } from '../../src/readers/source/file.js';
import type { ByteSource, Chunk, RawArray, Window } from '../../src/readers/types.js';
import { CorruptFileError, ReaderRequestError } from '../../src/readers/types.js';
import { referenceEntries, sharedData } from '../helpers/data.js';

const PROF = 'argo/1900857_prof.nc';
const SINGLE = 'argo/D1900857_001.nc';
const TRAJ = 'argo/1900857_Rtraj.nc';
const META = 'argo/1900857_meta.nc';
const COADS = 'satellite/coads_sst_classic.nc';

async function open(relPath: string, options?: Netcdf3ReaderOptions): Promise<Netcdf3Reader> {
  return openNetcdf3(await openFileSource(sharedData(relPath)), relPath, options);
}

async function numbers(reader: Netcdf3Reader, name: string, window?: Window): Promise<Float64Array> {
  const info = await reader.info();
  const attrs = info.variables.find((v) => v.name === name)!.attrs;
  return decodeNumeric(await reader.readRaw(name, window), attrs);
}

async function times(reader: Netcdf3Reader, name: string, window?: Window): Promise<Float64Array> {
  const attrs = (await reader.info()).variables.find((v) => v.name === name)!.attrs;
  return decodeTimes(
    await numbers(reader, name, window),
    String(attrs['units']),
    attrs['calendar'] as string | undefined,
  );
}

/** Reference values are printed with 6 decimals; float32 data is within 1e-5 of them. */
function near(
  t: { ok(pass: boolean, message: string): unknown },
  actual: number,
  expected: number | string | null | undefined,
  what: string,
): void {
  if (expected === null) t.ok(Number.isNaN(actual), `${what} is missing (got ${actual})`);
  else
    t.ok(
      Math.abs(actual - Number(expected)) <= 1e-5 * Math.max(1, Math.abs(Number(expected))),
      `${what}: ${actual} ≈ ${expected}`,
    );
}

/** Every typed-array element as a plain number, for deep comparisons. */
function plain(raw: RawArray): number[] {
  return Array.from(raw.data as ArrayLike<number>, Number);
}

async function collect(iterable: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

t.test('Argo single-profile file D1900857_001.nc', async (t) => {
  const r = await open(SINGLE);
  t.teardown(() => r.close());
  const info = await r.info();
  t.equal(info.format, 'netcdf3');
  t.equal(info.unlimited, 'N_HISTORY');
  t.match(info.dims, { N_PROF: 2, N_LEVELS: 109, N_HISTORY: 4, STRING8: 8, DATE_TIME: 14 });
  const pres = info.variables.find((v) => v.name === 'PRES')!;
  t.same(
    { dtype: pres.dtype, dims: pres.dims, shape: pres.shape },
    { dtype: 'f4', dims: ['N_PROF', 'N_LEVELS'], shape: [2, 109] },
  );
  t.equal(pres.attrs['units'], 'decibar');
  t.equal(pres.attrs['_FillValue'], 99999);
  t.equal(pres.chunks, undefined, 'contiguous storage has no chunk shape');
  const history = info.variables.find((v) => v.name === 'HISTORY_DATE')!;
  t.same(history.shape, [4, 2, 14], 'record variable shape counts the records');
  t.equal(info.variables.find((v) => v.name === 'CYCLE_NUMBER')!.dtype, 'i4');
  t.equal(info.variables.find((v) => v.name === 'JULD')!.dtype, 'f8');
  t.equal(info.variables.find((v) => v.name === 'DATA_MODE')!.dtype, 'char');
  t.equal(info.attrs['featureType'], 'trajectoryProfile');
  t.equal(info.attrs['Conventions'], 'Argo-3.1 CF-1.6');

  t.same(decodeStrings(await r.readRaw('PLATFORM_NUMBER')), ['1900857', '1900857']);
  t.same(decodeChars(await r.readRaw('DATA_MODE')), ['D', 'D']);
  t.same(decodeChars(await r.readRaw('DIRECTION')), ['A', 'A']);
  t.same(Array.from(await numbers(r, 'CYCLE_NUMBER')), [1, 1]);
  t.same(Array.from(await times(r, 'JULD'), isoString), ['2008-03-09T01:23:00Z', '2008-03-09T01:23:00Z']);
  t.same(
    decodeStrings(await r.readRaw('HISTORY_INSTITUTION', { N_PROF: [0, 1] })).length,
    4,
    'record variable windowed on an inner dimension',
  );

  const entries = referenceEntries(SINGLE);
  t.equal(entries.length, 3);
  const qc = await r.readRaw('PRES_QC');
  const psalQc = await r.readRaw('PSAL_QC');
  for (const e of entries) {
    const p = e.indices!['N_PROF']!;
    const l = e.indices!['N_LEVELS']!;
    const window = { N_PROF: [p, p + 1], N_LEVELS: [l, l + 1] } satisfies Window;
    for (const name of ['PRES', 'TEMP', 'PSAL', 'PRES_ADJUSTED', 'TEMP_ADJUSTED', 'PSAL_ADJUSTED']) {
      near(t, (await numbers(r, name, window))[0]!, e.values![name], `${name}[${p},${l}]`);
    }
    t.equal(charAt(qc, p, l), e.values!['PRES_QC'], `PRES_QC[${p},${l}]`);
    t.equal(charAt(psalQc, p, l), e.values!['PSAL_QC'], `PSAL_QC[${p},${l}]`);
    near(t, (await numbers(r, 'LATITUDE', { N_PROF: [p, p + 1] }))[0]!, e.coordinates!['lat'], 'LATITUDE');
    near(t, (await numbers(r, 'LONGITUDE', { N_PROF: [p, p + 1] }))[0]!, e.coordinates!['lon'], 'LONGITUDE');
  }
});

t.test('Argo multi-profile file 1900857_prof.nc', async (t) => {
  const r = await open(PROF);
  t.teardown(() => r.close());
  const info = await r.info();
  t.match(info.dims, { N_PROF: 194, N_LEVELS: 110, N_HISTORY: 0 });
  t.equal(info.unlimited, 'N_HISTORY');
  t.same(info.variables.find((v) => v.name === 'HISTORY_DATE')!.shape, [0, 194, 14], 'zero records');
  t.equal((await r.readRaw('HISTORY_DATE')).data.length, 0, 'reading zero records gives an empty array');

  const juld = await times(r, 'JULD');
  t.equal(isoString(juld[0]!), '2008-02-25T04:03:00Z');
  t.equal(isoString(juld[193]!), '2013-06-01T05:34:00Z');
  t.same(new Set(decodeStrings(await r.readRaw('PLATFORM_NUMBER'))), new Set(['1900857']));
  t.same(new Set(decodeStrings(await r.readRaw('DATA_CENTRE'))), new Set(['IF']));
  t.equal(decodeChars(await r.readRaw('DATA_MODE')).join(''), 'D'.repeat(194));
  const cycles = await numbers(r, 'CYCLE_NUMBER');
  t.same([Math.min(...cycles), Math.max(...cycles)], [0, 192]);
  const lat = await numbers(r, 'LATITUDE');
  const lon = await numbers(r, 'LONGITUDE');
  near(t, Math.min(...lat), -48.855, 'min latitude');
  near(t, Math.max(...lat), -34.444, 'max latitude');
  near(t, Math.min(...lon), 9.045, 'min longitude');
  near(t, Math.max(...lon), 93.926, 'max longitude');
  t.same(decodeStrings(await r.readRaw('STATION_PARAMETERS', { N_PROF: [0, 1] })).sort(), ['PRES', 'PSAL', 'TEMP']);

  const directions = decodeChars(await r.readRaw('DIRECTION'));
  const presQcStrings = decodeStrings(await r.readRaw('PRES_QC'), { trim: false });
  t.equal(presQcStrings.length, 194);
  t.ok(
    presQcStrings.every((s) => s.length === 110),
    'untrimmed QC strings keep one character per level',
  );
  const entries = referenceEntries(PROF);
  t.equal(entries.length, 4);
  for (const e of entries) {
    const p = e.indices!['N_PROF']!;
    const l = e.indices!['N_LEVELS']!;
    const window = { N_PROF: [p, p + 1], N_LEVELS: [l, l + 1] } satisfies Window;
    for (const name of ['PRES', 'TEMP', 'PSAL', 'PRES_ADJUSTED', 'TEMP_ADJUSTED', 'PSAL_ADJUSTED']) {
      near(t, (await numbers(r, name, window))[0]!, e.values![name], `${name}[${p},${l}]`);
    }
    for (const name of ['PRES_QC', 'TEMP_QC', 'PSAL_QC']) {
      t.equal(decodeChars(await r.readRaw(name, window))[0], e.values![name], `${name}[${p},${l}]`);
    }
    t.equal(presQcStrings[p]![l], e.values!['PRES_QC'], 'QC position l of the untrimmed string is level l');
    t.equal(isoString(juld[p]!), e.coordinates!['time']);
    near(t, lat[p]!, e.coordinates!['lat'], `LATITUDE[${p}]`);
    near(t, lon[p]!, e.coordinates!['lon'], `LONGITUDE[${p}]`);
    t.equal(cycles[p], e.coordinates!['cycle_number']);
    t.equal(directions[p], e.coordinates!['direction']);
  }

  // The same cells through a whole-variable read: windows and full reads agree.
  const wholePres = await r.readRaw('PRES');
  t.same(wholePres.shape, [194, 110]);
  const subPres = await r.readRaw('PRES', { N_PROF: [90, 100], N_LEVELS: [50, 60] });
  t.same(subPres.shape, [10, 10]);
  const whole = plain(wholePres);
  t.same(
    plain(subPres),
    Array.from({ length: 100 }, (_, i) => whole[(90 + Math.floor(i / 10)) * 110 + 50 + (i % 10)]),
  );
});

t.test('Argo trajectory file 1900857_Rtraj.nc: record variables', async (t) => {
  const r = await open(TRAJ);
  t.teardown(() => r.close());
  const info = await r.info();
  t.equal(info.unlimited, 'N_MEASUREMENT');
  t.equal(info.dims['N_MEASUREMENT'], 10682);
  t.equal(r.header.numrecs, 10682);
  t.ok(r.header.variables.find((v) => v.name === 'PRES')!.isRecord);
  t.same(decodeStrings(await r.readRaw('PLATFORM_NUMBER')), ['1900857']);
  t.same(decodeStrings(await r.readRaw('TRAJECTORY_PARAMETERS')).sort(), ['PRES', 'PSAL', 'TEMP']);

  const entries = referenceEntries(TRAJ);
  t.equal(entries.length, 3);
  for (const e of entries) {
    const m = e.indices!['N_MEASUREMENT']!;
    const window = { N_MEASUREMENT: [m, m + 1] } satisfies Window;
    t.equal(isoString((await times(r, 'JULD', window))[0]!), e.coordinates!['time'], `JULD[${m}]`);
    near(t, (await numbers(r, 'LATITUDE', window))[0]!, e.coordinates!['lat'], `LATITUDE[${m}]`);
    near(t, (await numbers(r, 'LONGITUDE', window))[0]!, e.coordinates!['lon'], `LONGITUDE[${m}]`);
    t.equal((await numbers(r, 'CYCLE_NUMBER', window))[0], e.coordinates!['cycle_number'], `CYCLE_NUMBER[${m}]`);
    t.equal(
      (await numbers(r, 'MEASUREMENT_CODE', window))[0],
      e.coordinates!['measurement_code'],
      `MEASUREMENT_CODE[${m}]`,
    );
    for (const name of ['PRES', 'TEMP', 'PSAL'])
      near(t, (await numbers(r, name, window))[0]!, e.values![name], `${name}[${m}]`);
  }
  const m5497 = { N_MEASUREMENT: [5497, 5498] } satisfies Window;
  t.equal((await numbers(r, 'PRES', m5497))[0], 980);
  near(t, (await numbers(r, 'TEMP', m5497))[0]!, 3.915, 'TEMP[5497]');
  t.equal((await numbers(r, 'CYCLE_NUMBER', m5497))[0], 96);
  t.equal(isoString((await times(r, 'JULD', m5497))[0]!), '2010-10-10T17:00:00Z');

  // Whole record variables: every record read, values as the manifest summarises them.
  const juld = await times(r, 'JULD');
  const valid = juld.filter(Number.isFinite);
  t.equal(valid.length, 9523, 'valid JULD count');
  t.equal(isoString(valid[0]!), '2008-02-25T02:51:00Z');
  t.equal(isoString(valid[valid.length - 1]!), '2013-06-01T14:20:13Z');
  const lat = await numbers(r, 'LATITUDE');
  const lon = await numbers(r, 'LONGITUDE');
  t.equal(lat.filter((y, i) => Number.isFinite(y) && Number.isFinite(lon[i]!)).length, 2604, 'valid positions');
  near(t, Math.min(...lat.filter(Number.isFinite)), -48.883, 'min latitude');
  near(t, Math.max(...lon.filter(Number.isFinite)), 93.948, 'max longitude');

  // A window in the middle of the records equals the same slice of the whole variable.
  const whole = plain(await r.readRaw('TEMP'));
  t.same(plain(await r.readRaw('TEMP', { N_MEASUREMENT: [4000, 4100] })), whole.slice(4000, 4100));
  // Streaming in small chunks splits along records and reassembles to the same values.
  const chunks = await collect(r.read({ variables: ['TEMP'], window: { N_MEASUREMENT: [100, 10682] } }));
  t.equal(chunks.length, 1, 'under 4 MiB: a single chunk');
  const small = await open(TRAJ, { maxChunkBytes: 4096 });
  t.teardown(() => small.close());
  const smallChunks = await collect(
    small.read({ variables: ['TEMP', 'JULD'], window: { N_MEASUREMENT: [100, 10682] } }),
  );
  const temp = smallChunks.filter((c) => c.variable === 'TEMP');
  t.equal(temp.length, Math.ceil(10582 / 1024), 'TEMP: 1024 float32 per 4 KiB chunk');
  t.same(temp[1]!.window, { N_MEASUREMENT: [1124, 2148] });
  t.same(
    temp.flatMap((c) => plain(c)),
    whole.slice(100),
  );
  t.equal(smallChunks.filter((c) => c.variable === 'JULD').length, Math.ceil(10582 / 512));
  t.ok(
    smallChunks.every((c) => c.data.length * (c.dtype === 'f8' ? 8 : 4) <= 4096),
    'every chunk within the bound',
  );
});

t.test('Argo meta file 1900857_meta.nc', async (t) => {
  const r = await open(META);
  t.teardown(() => r.close());
  const info = await r.info();
  t.equal(info.unlimited, 'N_MISSIONS');
  t.equal(info.dims['N_MISSIONS'], 2);
  const launchQc = info.variables.find((v) => v.name === 'LAUNCH_QC')!;
  t.same(launchQc.shape, [], 'scalar variable');
  t.equal((await r.readRaw('LAUNCH_QC')).data.length, 1);
  const entries = referenceEntries(META);
  t.equal(entries.length, 7);
  for (const e of entries) {
    const v = info.variables.find((x) => x.name === e.variable)!;
    const raw = await r.readRaw(v.name);
    if (v.dtype === 'char') t.equal(decodeStrings(raw)[0], e.value, v.name);
    else near(t, decodeNumeric(raw, v.attrs)[0]!, e.value, v.name);
  }
  t.equal(isoString(parseArgoDate(decodeStrings(await r.readRaw('LAUNCH_DATE'))[0]!)), '2008-02-25T02:51:00Z');
});

t.test('COADS classic grid: record variables over TIME, windows and streaming', async (t) => {
  const r = await open(COADS);
  t.teardown(() => r.close());
  const info = await r.info();
  t.same(info.dims, { TIME: 12, COADSX: 180, COADSY: 90 });
  t.equal(info.unlimited, 'TIME');
  const sst = info.variables.find((v) => v.name === 'SST')!;
  t.same(
    { dims: sst.dims, shape: sst.shape, dtype: sst.dtype },
    { dims: ['TIME', 'COADSY', 'COADSX'], shape: [12, 90, 180], dtype: 'f4' },
  );
  t.equal(info.variables.find((v) => v.name === 'TIME')!.attrs['units'], 'hours since 2000-01-01');

  const time = await times(r, 'TIME');
  t.equal(isoString(time[0]!), '2000-01-16T06:00:00Z');
  t.equal(isoString(time[6]!), '2000-07-16T20:54:36Z');
  t.equal(isoString(time[11]!), '2000-12-16T01:20:06Z');

  const wholeSst = plain(await r.readRaw('SST'));
  t.equal(wholeSst.length, 12 * 90 * 180);
  for (const e of referenceEntries(COADS)) {
    const { TIME: ti, COADSY: y, COADSX: x } = e.indices as { TIME: number; COADSY: number; COADSX: number };
    const cell = { TIME: [ti, ti + 1], COADSY: [y, y + 1], COADSX: [x, x + 1] } satisfies Window;
    near(t, (await numbers(r, 'SST', cell))[0]!, e.value!, `SST[${ti},${y},${x}]`);
    near(t, (await numbers(r, 'AIRT', cell))[0]!, e.other_variables_same_cell!['AIRT']!, `AIRT[${ti},${y},${x}]`);
    near(t, (await numbers(r, 'COADSX', { COADSX: [x, x + 1] }))[0]!, e.coordinates!['lon'], 'COADSX');
    near(t, (await numbers(r, 'COADSY', { COADSY: [y, y + 1] }))[0]!, e.coordinates!['lat'], 'COADSY');
    t.equal(isoString(time[ti]!), e.coordinates!['time']);
    t.equal(
      wholeSst[(ti * 90 + y) * 180 + x],
      (await r.readRaw('SST', cell)).data[0],
      'cell read equals the whole read',
    );
  }

  // A 3-D sub-window equals the same cells of the whole variable.
  const window = { TIME: [2, 7], COADSY: [10, 40], COADSX: [170, 180] } satisfies Window;
  const sub = await r.readRaw('SST', window);
  t.same(sub.shape, [5, 30, 10]);
  const expected: number[] = [];
  for (let ti = 2; ti < 7; ti++)
    for (let y = 10; y < 40; y++) for (let x = 170; x < 180; x++) expected.push(wholeSst[(ti * 90 + y) * 180 + x]!);
  t.same(plain(sub), expected);
  t.same(plain(await r.readRaw('SST', { COADSX: [5, 6] })).length, 12 * 90, 'a column through every record');

  // Streaming with a bound smaller than one record splits inside records, in order.
  const small = await open(COADS, { maxChunkBytes: 30 * 10 * 4 });
  t.teardown(() => small.close());
  const chunks = await collect(small.read({ variables: ['SST'], window }));
  t.same(
    chunks[0]!.window,
    { TIME: [2, 3], COADSY: [10, 40], COADSX: [170, 180] },
    'a whole record slab fits: one chunk per record',
  );
  t.equal(chunks.length, 5);
  const tiny = await open(COADS, { maxChunkBytes: 100 });
  t.teardown(() => tiny.close());
  const tinyChunks = await collect(tiny.read({ variables: ['SST'], window }));
  t.same(tinyChunks[0]!.window, { TIME: [2, 3], COADSY: [10, 12], COADSX: [170, 180] });
  t.same(
    tinyChunks.flatMap((c) => plain(c)),
    expected,
    'chunks reassemble to the window',
  );
  t.ok(tinyChunks.every((c) => c.data.length * 4 <= 100));
  t.same(await collect(r.read({ variables: ['SST'], window: { TIME: [3, 3] } })), [], 'an empty window yields nothing');
  t.same((await r.readRaw('SST', { TIME: [3, 3] })).shape, [0, 90, 180]);
});

t.test('window and variable validation', async (t) => {
  const r = await open(COADS);
  t.teardown(() => r.close());
  await t.rejects(r.readRaw('NOPE'), ReaderRequestError);
  await t.rejects(r.readRaw('NOPE'), /unknown variable "NOPE"/);
  await t.rejects(r.readRaw('SST', { DEPTH: [0, 1] }), /unknown dimension "DEPTH"/);
  await t.rejects(r.readRaw('SST', { TIME: [5, 2] }), /start 5 after stop 2/);
  await t.rejects(r.readRaw('SST', { TIME: [0, 13] }), /outside its extent 0\.\.12/);
  await t.rejects(r.readRaw('SST', { COADSX: [-1, 3] }), ReaderRequestError);
  await t.rejects(r.readRaw('SST', { COADSX: [0.5, 3] }), /must be integers/);
  // A dimension of the file that the variable lacks is allowed: one window serves several variables.
  t.same((await r.readRaw('COADSX', { TIME: [0, 1], COADSX: [0, 2] })).shape, [2]);
  const stream = r.read({ variables: ['SST', 'NOPE'], window: {} });
  await t.rejects(stream.next(), ReaderRequestError, 'validated before the first chunk');
});

t.test('abort signals', async (t) => {
  const r = await open(COADS, { maxChunkBytes: 64 * 1024 });
  t.teardown(() => r.close());
  await t.rejects(r.readRaw('SST', undefined, AbortSignal.abort()), { name: 'AbortError' });
  const controller = new AbortController();
  let seen = 0;
  await t.rejects(
    (async () => {
      for await (const _ of r.read({ variables: ['SST'], window: {}, signal: controller.signal })) {
        if (++seen === 2) controller.abort();
      }
    })(),
    { name: 'AbortError' },
  );
  t.equal(seen, 2, 'stopped after the chunk during which it was aborted');
});

t.test('truncated and corrupt files', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'odas-nc3-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bytes = readFileSync(sharedData(COADS));

  const truncatedPath = path.join(dir, 'coads_60pct.nc');
  await writeFile(truncatedPath, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const r = await openNetcdf3(await openFileSource(truncatedPath), truncatedPath);
  t.teardown(() => r.close());
  t.equal(r.header.numrecs, 12, 'the header is intact and still claims 12 records');
  const recordBytes = r.header.recordBytes;
  const firstRecord = r.header.variables.find((v) => v.name === 'TIME')!.begin;
  const completeRecords = Math.floor((Math.floor(bytes.length * 0.6) - firstRecord) / recordBytes);
  t.equal(completeRecords, 7);
  t.equal(isoString((await times(r, 'TIME', { TIME: [0, 7] }))[6]!), '2000-07-16T20:54:36Z', 'complete records read');
  near(
    t,
    (await numbers(r, 'SST', { TIME: [6, 7], COADSY: [27, 28], COADSX: [125, 126] }))[0]!,
    16.225,
    'SST in a complete record',
  );
  await t.rejects(r.readRaw('SST', { TIME: [11, 12] }), CorruptFileError);
  await t.rejects(r.readRaw('SST'), /variable SST needs bytes .* but the file ends at byte \d+ \(truncated file\?\)/);
  const error = await r.readRaw('SST').catch((e: unknown) => e);
  t.ok(error instanceof CorruptFileError && error.path === truncatedPath, 'the error names the file');
  await t.rejects(collect(r.read({ variables: ['SST'], window: { TIME: [5, 12] } })), CorruptFileError);
  t.same((await r.readRaw('COADSY')).shape, [90], 'other reads keep working');

  const headerCut = path.join(dir, 'coads_header_cut.nc');
  await writeFile(headerCut, bytes.subarray(0, 700));
  await t.rejects(openNetcdf3(await openFileSource(headerCut), headerCut), /truncated or corrupt header/);

  const badMagic = path.join(dir, 'bad_magic.nc');
  await writeFile(badMagic, Buffer.concat([Buffer.from('XDF\x01'), bytes.subarray(4, 2000)]));
  await t.rejects(openNetcdf3(await openFileSource(badMagic), badMagic), CorruptFileError);
  await t.rejects(
    openNetcdf3(await openFileSource(badMagic), badMagic),
    new RegExp(`^${badMagic}: not a NetCDF classic file`),
  );

  const badVersion = path.join(dir, 'bad_version.nc');
  await writeFile(badVersion, Buffer.concat([Buffer.from('CDF\x03'), bytes.subarray(4, 2000)]));
  await t.rejects(openNetcdf3(await openFileSource(badVersion), badVersion), /version byte 3/);

  const hdf5 = sharedData('satellite/coads_sst.nc');
  await t.rejects(
    openNetcdf3(await openFileSource(hdf5), hdf5),
    CorruptFileError,
    'an HDF5 file is not NetCDF classic',
  );

  const empty = path.join(dir, 'empty.nc');
  await writeFile(empty, new Uint8Array(0));
  await t.rejects(openNetcdf3(await openFileSource(empty), empty), CorruptFileError);
});

// ---------------------------------------------------------------------------------------------
// Hand-built CDF-1/2/5 files: the data set has only CDF-1, so the other variants are written here.

type NcTypeName =
  'byte' | 'char' | 'short' | 'int' | 'float' | 'double' | 'ubyte' | 'ushort' | 'uint' | 'int64' | 'uint64';
const TYPE_CODE: Record<NcTypeName, [code: number, size: number]> = {
  byte: [1, 1],
  char: [2, 1],
  short: [3, 2],
  int: [4, 4],
  float: [5, 4],
  double: [6, 8],
  ubyte: [7, 1],
  ushort: [8, 2],
  uint: [9, 4],
  int64: [10, 8],
  uint64: [11, 8],
};
type Values = string | (number | bigint)[];
interface SpecAttr {
  name: string;
  type: NcTypeName;
  values: Values;
}
interface SpecVar {
  name: string;
  type: NcTypeName;
  dims: string[];
  attrs?: SpecAttr[];
  values: Values;
}
interface Spec {
  version: 1 | 2 | 5;
  dims: [string, number | 'unlimited'][];
  attrs?: SpecAttr[];
  vars: SpecVar[];
  numrecs: number;
  streaming?: boolean;
}

/** Big-endian encoding of values of one nc type. */
function encodeValues(type: NcTypeName, values: Values): Uint8Array {
  if (typeof values === 'string') return new TextEncoder().encode(values);
  const size = TYPE_CODE[type][1];
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    const at = i * size;
    if (type === 'byte') view.setInt8(at, Number(v));
    else if (type === 'char' || type === 'ubyte') view.setUint8(at, Number(v));
    else if (type === 'short') view.setInt16(at, Number(v));
    else if (type === 'ushort') view.setUint16(at, Number(v));
    else if (type === 'int') view.setInt32(at, Number(v));
    else if (type === 'uint') view.setUint32(at, Number(v));
    else if (type === 'float') view.setFloat32(at, Number(v));
    else if (type === 'double') view.setFloat64(at, Number(v));
    else if (type === 'int64') view.setBigInt64(at, BigInt(v));
    else view.setBigUint64(at, BigInt(v));
  });
  return new Uint8Array(view.buffer);
}

/** A NetCDF classic file written straight from the format specification. */
function buildClassic(spec: Spec): Uint8Array {
  const wide = spec.version === 5;
  const dimLength = new Map(spec.dims.map(([n, l]) => [n, l === 'unlimited' ? spec.numrecs : l]));
  const recordDim = spec.dims.find(([, l]) => l === 'unlimited')?.[0];
  const isRecord = (v: SpecVar): boolean => v.dims[0] !== undefined && v.dims[0] === recordDim;
  const slab = (v: SpecVar): number =>
    v.dims.filter((d) => d !== recordDim).reduce((a, d) => a * dimLength.get(d)!, TYPE_CODE[v.type][1]);
  const pad = (n: number): number => Math.ceil(n / 4) * 4;

  const writeHeader = (begins: number[]): number[] => {
    const out: number[] = [];
    const u32 = (n: number): void => void out.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    const u64 = (n: number): void => {
      u32(Math.floor(n / 2 ** 32));
      u32(n % 2 ** 32);
    };
    const count = (n: number): void => (wide ? u64(n) : u32(n));
    const bytes = (b: Uint8Array): void => {
      out.push(...b);
      while (out.length % 4) out.push(0);
    };
    const name = (s: string): void => {
      const b = new TextEncoder().encode(s);
      count(b.length);
      bytes(b);
    };
    const attrs = (list: SpecAttr[] = []): void => {
      if (list.length === 0) {
        u32(0);
        count(0);
        return;
      }
      u32(0x0c);
      count(list.length);
      for (const a of list) {
        name(a.name);
        u32(TYPE_CODE[a.type][0]);
        const encoded = encodeValues(a.type, a.values);
        count(encoded.length / TYPE_CODE[a.type][1]);
        bytes(encoded);
      }
    };
    out.push(0x43, 0x44, 0x46, spec.version);
    if (spec.streaming) {
      u32(0xffffffff);
      if (wide) u32(0xffffffff);
    } else count(spec.numrecs);
    if (spec.dims.length === 0) {
      u32(0);
      count(0);
    } else {
      u32(0x0a);
      count(spec.dims.length);
      for (const [n, l] of spec.dims) {
        name(n);
        count(l === 'unlimited' ? 0 : l);
      }
    }
    attrs(spec.attrs);
    u32(0x0b);
    count(spec.vars.length);
    spec.vars.forEach((v, i) => {
      name(v.name);
      count(v.dims.length);
      for (const d of v.dims) count(spec.dims.findIndex(([n]) => n === d));
      attrs(v.attrs);
      u32(TYPE_CODE[v.type][0]);
      count(pad(slab(v)));
      if (spec.version === 1) u32(begins[i]!);
      else u64(begins[i]!);
    });
    return out;
  };

  const headerLength = writeHeader(spec.vars.map(() => 0)).length;
  const records = spec.vars.filter(isRecord);
  const recordSize = records.length === 1 ? slab(records[0]!) : records.reduce((s, v) => s + pad(slab(v)), 0);
  const begins: number[] = [];
  let at = headerLength;
  for (const v of spec.vars)
    if (!isRecord(v)) {
      begins[spec.vars.indexOf(v)] = at;
      at += pad(slab(v));
    }
  const recordStart = at;
  for (const v of records) {
    begins[spec.vars.indexOf(v)] = at;
    at += records.length === 1 ? slab(v) : pad(slab(v));
  }
  const total = recordStart + recordSize * spec.numrecs;
  const file = new Uint8Array(Math.max(total, recordStart));
  file.set(writeHeader(begins), 0);
  spec.vars.forEach((v, i) => {
    const data = encodeValues(v.type, v.values);
    if (!isRecord(v)) {
      file.set(data, begins[i]!);
      return;
    }
    const size = slab(v);
    for (let rec = 0; rec < spec.numrecs; rec++)
      file.set(data.subarray(rec * size, (rec + 1) * size), begins[i]! + rec * recordSize);
  });
  return file;
}

/** An in-memory ByteSource: the reader needs nothing else. */
function memorySource(bytes: Uint8Array): ByteSource {
  return {
    key: 'memory',
    size: async () => bytes.length,
    read: async (offset, length) => bytes.slice(offset, Math.min(bytes.length, offset + length)),
    close: async () => {},
  };
}

t.test('CDF-2 (64-bit offset): 64-bit begin, padding, several record variables', async (t) => {
  const file = buildClassic({
    version: 2,
    dims: [
      ['x', 3],
      ['rec', 'unlimited'],
      ['len', 5],
    ],
    attrs: [
      { name: 'title', type: 'char', values: 'CDF-2 test\0\0' },
      { name: 'ints', type: 'int', values: [1, -2, 3] },
      { name: 'scale', type: 'double', values: [0.5] },
    ],
    vars: [
      {
        name: 'sh',
        type: 'short',
        dims: ['x'],
        values: [-1, 2, 32767],
        attrs: [{ name: 'units', type: 'char', values: 'm' }],
      },
      { name: 'name', type: 'char', dims: ['len'], values: 'abc  ' },
      { name: 'rb', type: 'byte', dims: ['rec'], values: [-5, 6, 7, -128] },
      {
        name: 'rd',
        type: 'double',
        dims: ['rec', 'x'],
        values: [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5],
      },
      { name: 'rs', type: 'short', dims: ['rec'], values: [100, 200, 300, 400] },
    ],
    numrecs: 4,
  });
  const r = await openNetcdf3(memorySource(file), 'cdf2.nc');
  const info = await r.info();
  t.equal(r.header.version, 2);
  t.same(info.dims, { x: 3, rec: 4, len: 5 });
  t.equal(info.unlimited, 'rec');
  t.same(info.attrs, { title: 'CDF-2 test', ints: [1, -2, 3], scale: 0.5 });
  t.equal(r.header.recordBytes, 4 + 24 + 4, 'record variables padded to 4 bytes each');
  t.same(plain(await r.readRaw('sh')), [-1, 2, 32767]);
  t.equal((await r.readRaw('sh')).data.constructor, Int16Array);
  t.same(decodeStrings(await r.readRaw('name')), ['abc']);
  t.same(plain(await r.readRaw('rb')), [-5, 6, 7, -128]);
  t.same(plain(await r.readRaw('rd', { rec: [1, 3], x: [1, 3] })), [4.5, 5.5, 7.5, 8.5]);
  t.same(plain(await r.readRaw('rs', { rec: [2, 4] })), [300, 400]);
});

t.test('CDF-5: unsigned and 64-bit types, 64-bit counts, streaming numrecs', async (t) => {
  const file = buildClassic({
    version: 5,
    streaming: true,
    dims: [
      ['n', 2],
      ['t', 'unlimited'],
    ],
    attrs: [
      { name: 'big', type: 'int64', values: [9007199254740993n] },
      { name: 'ub', type: 'ubyte', values: [255, 1] },
    ],
    vars: [
      { name: 'u1', type: 'ubyte', dims: ['n'], values: [255, 7] },
      { name: 'u2', type: 'ushort', dims: ['n'], values: [65535, 1] },
      { name: 'u4', type: 'uint', dims: ['n'], values: [4294967295, 2] },
      {
        name: 'i8',
        type: 'int64',
        dims: ['n'],
        values: [-9223372036854775806n, 42n],
        attrs: [{ name: '_FillValue', type: 'int64', values: [-9223372036854775806n] }],
      },
      { name: 'u8', type: 'uint64', dims: ['n'], values: [18446744073709551615n, 3n] },
      { name: 'f', type: 'float', dims: ['t'], values: [1.5, 2.5, 3.5] },
    ],
    numrecs: 3,
  });
  const r = await openNetcdf3(memorySource(file), 'cdf5.nc');
  t.equal(r.header.version, 5);
  t.ok(r.header.numrecsFromFileSize, 'streaming numrecs computed from the file size');
  t.equal(r.header.numrecs, 3);
  t.equal(r.header.recordBytes, 4, 'a single record variable');
  const info = await r.info();
  t.same(info.attrs, { big: 9007199254740993n, ub: [255, 1] }, 'int64 attributes are bigints, exact');
  t.same(
    info.variables.map((v) => v.dtype),
    ['u1', 'u2', 'u4', 'i8', 'u8', 'f4'],
  );
  t.same(plain(await r.readRaw('u1')), [255, 7]);
  t.same(plain(await r.readRaw('u2')), [65535, 1]);
  t.same(plain(await r.readRaw('u4')), [4294967295, 2]);
  const i8 = await r.readRaw('i8');
  t.ok(i8.data instanceof BigInt64Array);
  t.same(Array.from(i8.data as BigInt64Array), [-9223372036854775806n, 42n]);
  t.same(Array.from(decodeNumeric(i8, info.variables[3]!.attrs)), [NaN, 42], 'int64 fill compared exactly');
  t.same(Array.from((await r.readRaw('u8')).data as BigUint64Array), [18446744073709551615n, 3n]);
  t.same(plain(await r.readRaw('f', { t: [1, 3] })), [2.5, 3.5]);
});

t.test('CDF-1: one short record variable is not padded between records', async (t) => {
  const file = buildClassic({
    version: 1,
    dims: [
      ['t', 'unlimited'],
      ['k', 3],
    ],
    vars: [
      { name: 'k', type: 'int', dims: ['k'], values: [10, 20, 30] },
      { name: 's', type: 'short', dims: ['t', 'k'], values: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    ],
    numrecs: 3,
  });
  const r = await openNetcdf3(memorySource(file), 'cdf1.nc');
  t.equal(r.header.recordBytes, 6, 'three shorts per record, no padding');
  t.same(plain(await r.readRaw('s')), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.same(plain(await r.readRaw('s', { t: [1, 3], k: [2, 3] })), [6, 9]);
  t.same(plain(await r.readRaw('k', { k: [1, 2] })), [20]);

  const streamed = buildClassic({
    version: 1,
    streaming: true,
    dims: [['t', 'unlimited']],
    vars: [{ name: 'c', type: 'char', dims: ['t'], values: 'hello' }],
    numrecs: 5,
  });
  const rs = await openNetcdf3(memorySource(streamed), 'stream.nc');
  t.equal(rs.header.numrecs, 5, 'streaming numrecs: one byte per record');
  t.same(decodeStrings(await rs.readRaw('c')), ['hello']);

  await t.rejects(openNetcdf3(memorySource(file.subarray(0, 40)), 'cut.nc'), CorruptFileError);
  const wrongTag = file.slice();
  wrongTag[11] = 0x0b; // dimension list tag turned into a variable tag
  await t.rejects(openNetcdf3(memorySource(wrongTag), 'tag.nc'), /expected tag 0xa, found 0xb/);
});

/** An in-memory source that records every (offset, length) it is asked for. */
function recordingSource(bytes: Uint8Array, log: Array<[number, number]>): ByteSource {
  return {
    ...memorySource(bytes),
    read: async (offset, length) => {
      log.push([offset, length]);
      return bytes.slice(offset, offset + length);
    },
  };
}

t.test('header is read incrementally through the source', async (t) => {
  const reads: [number, number][] = [];
  const bytes = readFileSync(sharedData(PROF));
  const source = recordingSource(bytes, reads);
  const header = await readNetcdf3Header(source, PROF, { initialBytes: 256 });
  t.equal(header.variables.length, 64);
  t.ok(reads.length > 1, `grew the prefix ${reads.length} times`);
  t.ok(reads.every(([o]) => o === 0) && reads.at(-1)![1] < bytes.length / 10, 'never read far past the header');
});

t.test('reads touch only the bytes of the window', async (t) => {
  const bytes = readFileSync(sharedData(COADS));
  const requests: [number, number][] = [];
  const counting = recordingSource(bytes, requests);
  const strict = await openNetcdf3(counting, COADS, { maxGapBytes: 0 });
  requests.length = 0;
  await strict.readRaw('SST', { TIME: [6, 7], COADSY: [27, 28], COADSX: [125, 126] });
  const sst = strict.header.variables.find((v) => v.name === 'SST')!;
  t.same(
    requests,
    [[sst.begin + 6 * strict.header.recordBytes + (27 * 180 + 125) * 4, 4]],
    'one cell: one 4-byte request',
  );

  requests.length = 0;
  await strict.readRaw('SST', { TIME: [0, 2], COADSY: [10, 13] });
  t.equal(requests.length, 2, 'full rows are contiguous: one request per record');
  t.ok(requests.every(([, length]) => length === 3 * 180 * 4));

  requests.length = 0;
  await strict.readRaw('SST', { TIME: [0, 1], COADSY: [0, 4], COADSX: [0, 2] });
  t.equal(requests.length, 4, 'partial rows: one request per row when gaps may not be bridged');

  const merging = await openNetcdf3(counting, COADS);
  requests.length = 0;
  await merging.readRaw('SST', { TIME: [0, 1], COADSY: [0, 4], COADSX: [0, 2] });
  t.same(requests.length, 1, 'with the default gap bound, nearby rows are fetched together');
  t.ok(requests[0]![1] < 4 * 180 * 4, 'and nothing beyond the last row');
});

t.test('FileSource', async (t) => {
  const file = sharedData(PROF);
  const bytes = readFileSync(file);
  const { size, mtimeMs } = statSync(file);
  const source = await openFileSource(file, { blockBytes: 4096, maxBlocks: 3 });
  t.teardown(() => source.close());
  t.ok(source instanceof FileSource);
  t.equal(source.key, `${file}:${size}:${mtimeMs}`);
  t.equal(await source.size(), bytes.length);
  for (const [offset, length] of [
    [0, 4],
    [4090, 20],
    [100_000, 4096],
    [5000, 50_000],
    [bytes.length - 10, 100],
    [bytes.length + 5, 10],
    [123, 0],
  ] as const) {
    const got = await source.read(offset, length);
    t.same(Buffer.from(got), bytes.subarray(offset, offset + length), `read(${offset}, ${length})`);
  }
  const first = await source.read(0, 8);
  first[0] = 0;
  t.equal((await source.read(0, 8))[0], 0x43, 'callers may modify what they get: cached bytes are copied');
  await t.rejects(source.read(0, 4, AbortSignal.abort()), { name: 'AbortError' });
  const reason = new Error('client went away');
  const controller = new AbortController();
  controller.abort(reason);
  await t.rejects(source.read(0, 4, controller.signal), reason);
  await source.close();
  await t.rejects(source.read(0, 4), /read after close/);
  await t.rejects(openFileSource(sharedData('argo')), /not a regular file/);
  await t.rejects(openFileSource(sharedData('argo/missing.nc')), { code: 'ENOENT' });
});
