import t from 'tap';
import { decodeNumeric } from '../../src/cf/decode.js';
import {
  TimeUnitsError,
  decodeTimes,
  isoString,
  parseArgoDate,
  parseTimeUnits,
  toEpochMillis,
} from '../../src/cf/time.js';
import { openNetcdf3 } from '../../src/readers/netcdf3/reader.js';
import { openFileSource } from '../../src/readers/source/file.js';
import { referenceEntries, sharedData } from '../helpers/data.js';

function iso(value: number, units: string, calendar?: string): string {
  return isoString(toEpochMillis(value, parseTimeUnits(units, calendar)));
}

t.test('units and reference dates found in the data set', async (t) => {
  t.equal(
    iso(21239.16875, 'days since 1950-01-01 00:00:00 UTC'),
    '2008-02-25T04:03:00Z',
    'Argo JULD, float days exact to the second',
  );
  t.equal(iso(22202.08611111111, 'days since 1950-01-01 00:00:00 UTC'), '2010-10-15T02:04:00Z');
  t.equal(iso(4748.91, 'hours since 2000-01-01', 'proleptic_gregorian'), '2000-07-16T20:54:36Z', 'COADS TIME[6]');
  t.equal(
    iso(1561015350.718, 'seconds since 1970-01-01T00:00:00+00:00'),
    '2019-06-20T07:22:30.718Z',
    'glider: milliseconds kept',
  );
  t.equal(iso(1120694400, 'seconds since 1981-01-01 00:00:00', 'Gregorian'), '2016-07-07T00:00:00Z', 'GHRSST');
  const seaIceDays = (Date.UTC(2021, 11, 1) - Date.UTC(1601, 0, 1)) / 86_400_000;
  t.equal(iso(seaIceDays, 'days since 1601-01-01 00:00:00'), '2021-12-01T00:00:00Z', 'NSIDC days since 1601');
  t.equal(iso(1366290000, 'seconds since 1970-01-01T00:00:00Z'), '2013-04-18T13:00:00Z', 'mooring');
  t.equal(iso(0, 'days since 2000-01-01'), '2000-01-01T00:00:00Z');
});

t.test('unit spellings', async (t) => {
  const ref = 'since 2000-01-01T00:00:00Z';
  for (const unit of ['seconds', 'second', 's', 'sec', 'secs'])
    t.equal(iso(90, `${unit} ${ref}`), '2000-01-01T00:01:30Z', unit);
  for (const unit of ['minutes', 'minute', 'min', 'mins'])
    t.equal(iso(90, `${unit} ${ref}`), '2000-01-01T01:30:00Z', unit);
  for (const unit of ['hours', 'hour', 'h', 'hr', 'hrs'])
    t.equal(iso(36, `${unit} ${ref}`), '2000-01-02T12:00:00Z', unit);
  for (const unit of ['days', 'day', 'd']) t.equal(iso(1.5, `${unit} ${ref}`), '2000-01-02T12:00:00Z', unit);
  t.equal(iso(1500, `milliseconds ${ref}`), '2000-01-01T00:00:01.500Z');
  t.equal(iso(1, `Days Since 2000-01-01`), '2000-01-02T00:00:00Z', 'case-insensitive');
  t.equal(iso(2, `  hours   since   2000-01-01 00:00  `), '2000-01-01T02:00:00Z', 'extra spaces, no seconds');
});

t.test('reference date forms and time zones', async (t) => {
  const forms: [string, string][] = [
    ['days since 1950-01-01 00:00:00 UTC', '1950-01-01T00:00:00Z'],
    ['days since 1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z'],
    ['days since 2000-01-01', '2000-01-01T00:00:00Z'],
    ['days since 1601-01-01 00:00:00', '1601-01-01T00:00:00Z'],
    ['days since 1981-01-01 00:00:00', '1981-01-01T00:00:00Z'],
    ['days since 1970-01-01T00:00:00+00:00', '1970-01-01T00:00:00Z'],
    ['days since 1970-1-1 0:0:0', '1970-01-01T00:00:00Z'],
    ['days since 1970-01-01 00:00:00.5', '1970-01-01T00:00:00.500Z'],
    ['days since 1970-01-01T06:00:00+06:00', '1970-01-01T00:00:00Z'],
    ['days since 1970-01-01 00:00:00 -0130', '1970-01-01T01:30:00Z'],
    ['days since 1970-01-01 00:00:00GMT', '1970-01-01T00:00:00Z'],
  ];
  for (const [units, expected] of forms) t.equal(iso(0, units), expected, units);
  const parsed = parseTimeUnits('hours since 2000-01-01T00:00:00-06:00');
  t.same(parsed.reference, { year: 2000, month: 1, day: 1, hour: 0, minute: 0, second: 0, utcOffsetMinutes: -360 });
  t.equal(parsed.unit, 'hours');
  t.equal(parsed.msPerUnit, 3_600_000);
  t.equal(parsed.calendar, 'standard');
});

t.test('calendars', async (t) => {
  // Checked against ncdump -t (netCDF-C 4.9) on the same values.
  t.equal(
    iso(730120, 'days since 0001-01-01', 'standard'),
    '1999-12-31T00:00:00Z',
    'mixed Julian/Gregorian before 1582',
  );
  t.equal(iso(730120, 'days since 0001-01-01', 'proleptic_gregorian'), '2000-01-02T00:00:00Z');
  t.equal(
    iso(1, 'days since 1582-10-04', 'standard'),
    '1582-10-15T00:00:00Z',
    'the day after 4 October 1582 is 15 October',
  );
  t.throws(() => parseTimeUnits('days since 1582-10-10', 'standard'), /calendar gap/);
  t.equal(iso(365, 'days since 2000-01-01', 'noleap'), '2001-01-01T00:00:00Z', 'noleap skips 29 February 2000');
  t.equal(iso(59, 'days since 2000-01-01', '365_day'), '2000-03-01T00:00:00Z');
  t.equal(iso(424.25, 'days since 2000-01-01', 'noleap'), '2001-03-01T06:00:00Z');
  t.equal(iso(-1, 'days since 2000-01-01', 'noleap'), '1999-12-31T00:00:00Z');
  t.equal(iso(36524, 'days since 2000-01-01', 'julian'), '2099-12-31T00:00:00Z', 'julian read as proleptic Gregorian');
  t.throws(() => parseTimeUnits('days since 2000-02-29', 'noleap'), /invalid reference date/);
  for (const calendar of ['360_day', 'all_leap', '366_day', 'none']) {
    t.throws(
      () => parseTimeUnits('days since 2000-01-01', calendar),
      new RegExp(`calendar "${calendar}" has dates that do not exist`),
    );
  }
  t.throws(() => parseTimeUnits('days since 2000-01-01', 'martian'), /unknown calendar "martian"/);
  t.equal(parseTimeUnits('days since 2000-01-01', ' GREGORIAN ').calendar, 'standard');
});

t.test('unusable units are clear errors', async (t) => {
  t.throws(() => parseTimeUnits(''), TimeUnitsError);
  t.throws(() => parseTimeUnits('degree_Celsius'), /not CF time units/);
  t.throws(() => parseTimeUnits('months since 2000-01-01'), /unsupported time unit "months".*no fixed length/);
  t.throws(() => parseTimeUnits('years since 2000-01-01'), /no fixed length/);
  t.throws(() => parseTimeUnits('fortnights since 2000-01-01'), /unsupported time unit "fortnights"/);
  t.throws(() => parseTimeUnits('days since yesterday'), /cannot read the reference date "yesterday"/);
  t.throws(() => parseTimeUnits('days since 2000-13-01'), /invalid reference date/);
  t.throws(() => parseTimeUnits('days since 2001-02-29'), /invalid reference date/);
  t.throws(() => decodeTimes(new Float64Array(1), 'days'), TimeUnitsError);
});

t.test('decodeTimes, NaN and rounding', async (t) => {
  const out = decodeTimes(Float64Array.from([0, NaN, 0.5, Infinity]), 'days since 1950-01-01 00:00:00 UTC');
  t.equal(out[0], Date.UTC(1950, 0, 1));
  t.ok(Number.isNaN(out[1]!), 'missing stays missing');
  t.equal(out[2], Date.UTC(1950, 0, 1, 12));
  t.ok(Number.isNaN(out[3]!));
  t.equal(toEpochMillis(1 / 3, parseTimeUnits('seconds since 1970-01-01')), 333, 'rounded to the millisecond');
  t.equal(toEpochMillis(0.0006, parseTimeUnits('seconds since 1970-01-01')), 1);
});

t.test('isoString', async (t) => {
  t.equal(isoString(Date.UTC(2008, 1, 25, 4, 3)), '2008-02-25T04:03:00Z');
  t.equal(isoString(Date.UTC(2019, 5, 20, 7, 22, 30, 718)), '2019-06-20T07:22:30.718Z');
  t.equal(isoString(Date.UTC(2019, 5, 20, 7, 22, 30, 10)), '2019-06-20T07:22:30.010Z');
  t.throws(() => isoString(NaN), RangeError);
});

t.test('parseArgoDate', async (t) => {
  t.equal(isoString(parseArgoDate('20080225025100')), '2008-02-25T02:51:00Z');
  t.equal(isoString(parseArgoDate(' 20131231235959 ')), '2013-12-31T23:59:59Z');
  t.ok(Number.isNaN(parseArgoDate('              ')), 'blank (fill) date');
  t.ok(Number.isNaN(parseArgoDate('20081325025100')), 'month 13');
  t.ok(Number.isNaN(parseArgoDate('20090229000000')), '29 February of a common year');
  t.ok(Number.isNaN(parseArgoDate('2008-02-25')));
});

t.test('real time coordinates', async (t) => {
  const coadsPath = sharedData('satellite/coads_sst_classic.nc');
  const coads = await openNetcdf3(await openFileSource(coadsPath), coadsPath);
  t.teardown(() => coads.close());
  const timeVar = (await coads.info()).variables.find((v) => v.name === 'TIME')!;
  const times = decodeTimes(
    decodeNumeric(await coads.readRaw('TIME'), timeVar.attrs),
    String(timeVar.attrs['units']),
    String(timeVar.attrs['calendar']),
  );
  t.equal(isoString(times[0]!), '2000-01-16T06:00:00Z');
  t.equal(isoString(times[11]!), '2000-12-16T01:20:06Z');
  for (const e of referenceEntries('satellite/coads_sst_classic.nc'))
    t.equal(isoString(times[e.indices!['TIME']!]!), e.coordinates!['time']);

  const profPath = sharedData('argo/1900857_prof.nc');
  const prof = await openNetcdf3(await openFileSource(profPath), profPath);
  t.teardown(() => prof.close());
  const juldVar = (await prof.info()).variables.find((v) => v.name === 'JULD')!;
  const juldRaw = await prof.readRaw('JULD');
  t.equal((juldRaw.data as Float64Array)[0], 21239.16875, 'the stored JULD of the first profile');
  const juld = decodeTimes(decodeNumeric(juldRaw, juldVar.attrs), String(juldVar.attrs['units']));
  for (const e of referenceEntries('argo/1900857_prof.nc'))
    t.equal(isoString(juld[e.indices!['N_PROF']!]!), e.coordinates!['time']);
  t.ok(
    Array.from(juld).every((ms) => ms % 1000 === 0),
    'all 194 profile times land on whole seconds',
  );
});
