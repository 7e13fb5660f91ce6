import t from 'tap';
import { charAt, decodeChars, decodeNumeric, decodeStrings, physicalValidRange } from '../../src/cf/decode.js';
import { openNetcdf3 } from '../../src/readers/netcdf3/reader.js';
import { openFileSource } from '../../src/readers/source/file.js';
import type { DType, NumericArray, RawArray } from '../../src/readers/types.js';
import { sharedData } from '../helpers/data.js';

function raw(dtype: DType, data: NumericArray, shape: number[] = [data.length]): RawArray {
  return { dtype, shape, data };
}

function chars(text: string, shape: number[]): RawArray {
  return { dtype: 'char', shape, data: Uint8Array.from(Buffer.from(text, 'latin1')) };
}

/** NaN-aware comparison with a tolerance for float arithmetic. */
function same(actual: Float64Array, expected: number[]): boolean {
  return (
    actual.length === expected.length &&
    expected.every((e, i) =>
      Number.isNaN(e) ? Number.isNaN(actual[i]!) : Math.abs(actual[i]! - e) < 1e-9 * Math.max(1, Math.abs(e)),
    )
  );
}

t.test('_FillValue, scale_factor and add_offset (GHRSST-style packed int16)', async (t) => {
  const attrs = { scale_factor: 0.01, add_offset: Math.fround(273.149994), _FillValue: -32768 };
  const out = decodeNumeric(raw('i2', Int16Array.from([2529, -32768, 2549, 0])), attrs);
  t.ok(
    same(out, [
      2529 * 0.01 + Math.fround(273.149994),
      NaN,
      2549 * 0.01 + Math.fround(273.149994),
      Math.fround(273.149994),
    ]),
    String(out),
  );
  t.ok(Math.abs(out[0]! - 298.44) < 1e-5, 'reference analysed_sst 298.440002');
  t.ok(
    same(decodeNumeric(raw('i2', Int16Array.from([-1502, -32767])), { scale_factor: 0.0001, _FillValue: -32767 }), [
      -0.1502,
      NaN,
    ]),
    'AVISO adt',
  );
});

t.test('missing_value, arrays of missing values and NaN', async (t) => {
  t.ok(
    same(decodeNumeric(raw('f8', Float64Array.from([1, 2, 3, NaN])), { missing_value: [2, 3] }), [1, NaN, NaN, NaN]),
  );
  t.ok(
    same(decodeNumeric(raw('f8', Float64Array.from([1, 2, 3])), { _FillValue: 1, missing_value: 3 }), [NaN, 2, NaN]),
  );
  t.ok(
    same(decodeNumeric(raw('f4', Float32Array.from([NaN, 5])), {}), [NaN, 5]),
    'NaN floats are missing without any attribute',
  );
  t.ok(
    same(decodeNumeric(raw('i4', Int32Array.from([-2147483647, 5])), {}), [-2147483647, 5]),
    'no default integer fill is assumed',
  );
  t.ok(
    same(decodeNumeric(raw('f8', Float64Array.from([1e35, 2])), { _FillValue: 1e35 }), [NaN, 2]),
    'mooring 1e35 fill',
  );
  t.ok(
    same(decodeNumeric(raw('f4', Float32Array.from([1, 2])), { _FillValue: NaN }), [1, 2]),
    'a NaN fill masks nothing else',
  );
  t.ok(same(decodeNumeric(raw('f4', Float32Array.from([1])), { _FillValue: 'x' }), [1]), 'text fill ignored');
});

t.test('float32 fill values match whatever precision the attribute has', async (t) => {
  const data = Float32Array.from([-1e34, 99999, 12.5]);
  t.ok(
    same(decodeNumeric(raw('f4', data), { _FillValue: -9.99999979e33 }), [NaN, 99999, 12.5]),
    'COADS -9.99999979e33 given as double',
  );
  t.ok(same(decodeNumeric(raw('f4', data), { _FillValue: Math.fround(-1e34) }), [NaN, 99999, 12.5]), 'as float32');
  t.ok(same(decodeNumeric(raw('f4', data), { _FillValue: -1e34, missing_value: 99999.0 }), [NaN, NaN, 12.5]));
  t.ok(
    same(decodeNumeric(raw('f4', Float32Array.from([0.1])), { _FillValue: 0.1 }), [NaN]),
    '0.1 as double equals 0.1 stored as float32',
  );
});

t.test('valid_min / valid_max / valid_range', async (t) => {
  const data = Float64Array.from([-5, 0, 50, 100, 200]);
  t.ok(same(decodeNumeric(raw('f8', data), { valid_min: 0, valid_max: 100 }), [NaN, 0, 50, 100, NaN]));
  t.ok(same(decodeNumeric(raw('f8', data), { valid_range: [0, 100] }), [NaN, 0, 50, 100, NaN]));
  t.ok(same(decodeNumeric(raw('f8', data), { valid_min: 0 }), [NaN, 0, 50, 100, 200]), 'only a minimum');
  t.ok(same(decodeNumeric(raw('f8', data), { valid_max: 50 }), [-5, 0, 50, NaN, NaN]), 'only a maximum');
  t.ok(
    same(
      decodeNumeric(raw('f8', Float64Array.from([1.8012, 32.896, 1e35])), {
        valid_min: 10000,
        valid_max: -10000,
        _FillValue: 1e35,
      }),
      [1.8012, 32.896, NaN],
    ),
    'swapped valid_min/valid_max (the DFO mooring file) are ignored, not applied',
  );
  t.ok(
    same(decodeNumeric(raw('f8', data), { valid_range: [100, 0] }), [-5, 0, 50, 100, 200]),
    'reversed valid_range ignored',
  );
  t.ok(
    same(decodeNumeric(raw('f4', Float32Array.from([-1, 0, 12000, 12001])), { valid_min: 0, valid_max: 12000 }), [
      NaN,
      0,
      12000,
      NaN,
    ]),
    'Argo PRES limits',
  );
});

t.test('valid range in packed or physical units', async (t) => {
  // NSIDC sea ice: ubyte, scale 0.01, valid_range 0..100 in packed units, 251..255 are flags.
  const ice = raw('u1', Uint8Array.from([100, 99, 96, 251, 254, 255]));
  const iceAttrs = { scale_factor: 0.01, _FillValue: 255, valid_range: [0, 100] };
  t.ok(same(decodeNumeric(ice, iceAttrs), [1, 0.99, 0.96, NaN, NaN, NaN]));
  // Limits with fractions cannot be packed integers: they are physical.
  const packed = raw('i2', Int16Array.from([0, 100, 250]));
  t.ok(same(decodeNumeric(packed, { scale_factor: 0.01, valid_min: 0.5, valid_max: 1.5 }), [NaN, 1, NaN]));
  // Integer-valued limits on integer storage: packed by default; the option says otherwise.
  t.ok(same(decodeNumeric(packed, { scale_factor: 0.01, valid_range: [0, 1] }), [0, NaN, NaN]));
  t.ok(
    same(decodeNumeric(packed, { scale_factor: 0.01, valid_range: [0, 1] }, { validRangeUnits: 'physical' }), [
      0,
      1,
      NaN,
    ]),
  );
  t.ok(
    same(decodeNumeric(packed, { scale_factor: 0.01, valid_range: [0, 1] }, { validRangeUnits: 'packed' }), [
      0,
      NaN,
      NaN,
    ]),
  );
  // Float storage with scale: limits are physical.
  t.ok(same(decodeNumeric(raw('f4', Float32Array.from([1, 3])), { scale_factor: 2, valid_max: 4 }), [2, NaN]));
});

t.test('valid range units follow the attribute types (CF §8.1)', async (t) => {
  // RSS SSMIS: int16 winds, scale 0.2 (float), valid_range float [0, 50] m/s.
  const winds = raw('i2', Int16Array.from([0, 60, 200, 250, 255]));
  const attrs = { scale_factor: Math.fround(0.2), valid_range: [0, 50] };
  const physical = { attrTypes: { scale_factor: 'f4', valid_range: 'f4' } } as const;
  const got = Array.from(decodeNumeric(winds, attrs, physical), (x) => Math.round(x * 1e4) / 1e4);
  t.same(got, [0, 12, 40, 50, NaN], 'float limits: physical units; 250 × 0.2f is the limit itself');
  t.same(
    Array.from(
      decodeNumeric(winds, attrs, { attrTypes: { scale_factor: 'f4', valid_range: 'i2' } }),
      (x) => Math.round(x * 1e4) / 1e4,
    ),
    [0, NaN, NaN, NaN, NaN],
    'limits of the packed type: packed units (0..50 stored = 0..10 m/s)',
  );
  t.ok(same(decodeNumeric(winds, attrs), [0, NaN, NaN, NaN, NaN]), 'no types: integer limits on integers are packed');
  // Each end by its own attribute: valid_min packed (i2), valid_max physical (f8).
  const ends = decodeNumeric(
    winds,
    { scale_factor: 0.2, valid_min: 20, valid_max: 45 },
    {
      attrTypes: { scale_factor: 'f8', valid_min: 'i2', valid_max: 'f8' },
    },
  );
  t.same(
    Array.from(ends, (x) => Math.round(x * 1e4) / 1e4),
    [NaN, 12, 40, NaN, NaN],
  );
  const mixed = decodeNumeric(
    winds,
    { scale_factor: 0.2, valid_min: 100, valid_max: 45 },
    { attrTypes: { scale_factor: 'f8', valid_min: 'i2', valid_max: 'f8' } },
  );
  t.same(
    Array.from(mixed, (x) => Math.round(x * 1e4) / 1e4),
    [NaN, NaN, 40, NaN, NaN],
    'valid_min 100 stored (20 m/s), valid_max 45 m/s: not a reversed range',
  );
  // `_Unsigned` storage: limits of the signed type are packed.
  const bytes = raw('i1', Int8Array.from([10, -56, -6]));
  const unsignedAttrs = { _Unsigned: 'true', scale_factor: 0.5, valid_range: [0, 100] };
  t.ok(
    same(decodeNumeric(bytes, unsignedAttrs, { attrTypes: { scale_factor: 'f4', valid_range: 'i1' } }), [5, NaN, NaN]),
  );
  t.same(physicalValidRange('i2', attrs, { scale_factor: 'f4', valid_range: 'f4' }), [0, 50]);
  t.same(
    physicalValidRange('i2', attrs, { scale_factor: 'f4', valid_range: 'i2' })?.map((x) => Math.round(x * 1e4) / 1e4),
    [0, 10],
  );
});

t.test('_Unsigned = "true" on signed storage', async (t) => {
  const bytes = raw('i1', Int8Array.from([-1, -2, 5, -128]));
  t.ok(same(decodeNumeric(bytes, { _Unsigned: 'true' }), [255, 254, 5, 128]));
  t.ok(
    same(decodeNumeric(bytes, { _Unsigned: 'true', _FillValue: -1 }), [NaN, 254, 5, 128]),
    'fill given in the signed reading',
  );
  t.ok(
    same(decodeNumeric(bytes, { _Unsigned: 'true', _FillValue: 255 }), [NaN, 254, 5, 128]),
    'fill given in the unsigned reading',
  );
  t.ok(
    same(decodeNumeric(bytes, { _Unsigned: 'true', valid_range: [0, 250] }), [NaN, NaN, 5, 128]),
    'valid range on unsigned values',
  );
  t.ok(same(decodeNumeric(bytes, { _Unsigned: 'false' }), [-1, -2, 5, -128]));
  t.ok(
    same(
      decodeNumeric(raw('i2', Int16Array.from([-1, 1000])), { _Unsigned: 'TRUE', scale_factor: 0.5, _FillValue: -1 }),
      [NaN, 500],
    ),
  );
  t.ok(same(decodeNumeric(raw('i4', Int32Array.from([-1])), { _Unsigned: 'true' }), [4294967295]));
  t.ok(
    same(decodeNumeric(raw('i2', Int16Array.from([300, 5])), { _FillValue: 1e35 }), [300, 5]),
    'a fill the type cannot hold matches nothing',
  );
  const ints = raw('i1', Int8Array.from([-1, 2]));
  decodeNumeric(ints, { _Unsigned: 'true' });
  t.same(Array.from(ints.data as Int8Array), [-1, 2], 'input untouched');
});

t.test('64-bit integers', async (t) => {
  const big = raw('i8', BigInt64Array.from([-9223372036854775806n, 5n, 1n << 40n]));
  t.ok(same(decodeNumeric(big, { _FillValue: -9223372036854775806n }), [NaN, 5, 2 ** 40]));
  t.ok(same(decodeNumeric(big, { _FillValue: 5 }), [Number(-9223372036854775806n), NaN, 2 ** 40]));
  t.ok(same(decodeNumeric(raw('u8', BigUint64Array.from([3n])), { scale_factor: 2 }), [6]));
});

t.test('text is rejected by decodeNumeric', async (t) => {
  t.throws(() => decodeNumeric(chars('ab', [2]), {}), TypeError);
  t.throws(() => decodeNumeric({ dtype: 'string', shape: [1], data: ['x'] }, {}), TypeError);
});

t.test('decodeStrings', async (t) => {
  t.same(decodeStrings(chars('1900857 1900857\0', [2, 8])), ['1900857', '1900857'], 'space and NUL padding trimmed');
  t.same(decodeStrings(chars('PRES            TEMP            ', [2, 16])), ['PRES', 'TEMP']);
  t.same(decodeStrings(chars('  lead', [6])), ['  lead'], '1-D: one string, leading spaces kept');
  t.same(decodeStrings(chars('A', [])), ['A'], 'scalar char');
  t.same(decodeStrings(chars('ab\0junk', [7])), ['ab'], 'a string ends at its first NUL');
  t.same(decodeStrings(chars('', [0, 4])), [], 'no strings');
  t.same(decodeStrings(chars('11 4\0', [5]), { trim: false }), ['11 4\0'], 'untrimmed keeps every byte in place');
  t.same(decodeStrings(chars('12  34  ', [2, 4]), { trim: false }), ['12  ', '34  ']);
  t.same(
    decodeStrings({ dtype: 'char', shape: [6], data: Uint8Array.from(Buffer.from('10 °C', 'utf8')) }),
    ['10 °C'],
    'UTF-8 text',
  );
  t.same(
    decodeStrings({ dtype: 'char', shape: [5], data: Uint8Array.from([0x31, 0x30, 0x20, 0xb0, 0x43]) }),
    ['10 °C'],
    'Latin-1 fallback',
  );
  t.same(
    decodeStrings({ dtype: 'string', shape: [2], data: ['abc  ', 'x\0'] }),
    ['abc', 'x'],
    'string data passes through, trimmed',
  );
  t.same(decodeStrings({ dtype: 'string', shape: [1], data: ['abc  '] }, { trim: false }), ['abc  ']);
  t.throws(() => decodeStrings(raw('u1', Uint8Array.from([65]))), TypeError);
});

t.test('decodeChars and charAt', async (t) => {
  t.same(decodeChars(chars('DA ', [3])), ['D', 'A', ' ']);
  const qc = chars('1114' + '4111', [2, 4]);
  t.equal(charAt(qc, 0, 3), '4');
  t.equal(charAt(qc, 1, 0), '4');
  t.equal(charAt(qc, 1, 3), '1');
  t.throws(() => charAt(qc, 2, 0), RangeError);
  t.throws(() => charAt(qc, 0), RangeError);
  t.throws(() => charAt(raw('f4', Float32Array.from([1])), 0), TypeError);
});

t.test('real files: COADS land is missing, Argo adjusted values and QC flags', async (t) => {
  const coadsPath = sharedData('satellite/coads_sst_classic.nc');
  const coads = await openNetcdf3(await openFileSource(coadsPath), coadsPath);
  t.teardown(() => coads.close());
  const sstInfo = (await coads.info()).variables.find((v) => v.name === 'SST')!;
  const sst = decodeNumeric(await coads.readRaw('SST', { TIME: [0, 1] }), sstInfo.attrs);
  const missing = sst.filter(Number.isNaN).length;
  t.ok(missing > 1000 && missing < sst.length / 2, `land and ice cells are NaN (${missing} of ${sst.length})`);
  t.ok(
    sst.every((v) => Number.isNaN(v) || (v > -5 && v < 40)),
    'no fill value survives as a number',
  );
  t.ok(Math.abs(sst[45 * 180 + 90]! - 26.615416) < 1e-5, 'reference SST[0,45,90]');

  const argoPath = sharedData('argo/D1900857_001.nc');
  const argo = await openNetcdf3(await openFileSource(argoPath), argoPath);
  t.teardown(() => argo.close());
  const info = await argo.info();
  const attrsOf = (name: string) => info.variables.find((v) => v.name === name)!.attrs;
  const psalAdj = decodeNumeric(await argo.readRaw('PSAL_ADJUSTED'), attrsOf('PSAL_ADJUSTED'));
  t.ok(Number.isNaN(psalAdj[109 + 1]!), 'PSAL_ADJUSTED[1,1] is missing (reference null)');
  t.ok(Math.abs(psalAdj[108]! - 34.772999) < 1e-5, 'PSAL_ADJUSTED[0,108]');
  const psalQc = await argo.readRaw('PSAL_QC');
  t.equal(charAt(psalQc, 1, 1), '4');
  const perProfile = decodeStrings(psalQc, { trim: false });
  t.equal(perProfile[1]![1], '4', 'untrimmed per-profile QC string keeps level positions');
  t.equal(perProfile[0]!.length, 109);
});
