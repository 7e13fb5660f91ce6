/**
 * CF time coordinates ("<unit> since <reference>") to epoch milliseconds and ISO 8601 strings.
 * Results are instants on the ordinary (proleptic Gregorian) time line, rounded to the millisecond:
 * float days such as Argo JULD 21237.16875 carry binary noise far below a millisecond.
 */

export class TimeUnitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeUnitsError';
  }
}

type TimeUnit = 'milliseconds' | 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks';

/**
 * - standard: CF's default mixed Julian/Gregorian calendar (Julian before 1582-10-15); for later
 *   reference dates, i.e. all real data, identical to proleptic_gregorian.
 * - julian: computed as proleptic_gregorian. Dates written by CF tools in a Julian calendar file are
 *   kept as written, which is what this gives whenever the data do not straddle a day that only the
 *   Julian calendar has (29 February 1900 or 2100), i.e. for all ocean data.
 * - noleap: dates are counted in a 365-day calendar, then written as the same Gregorian date and time
 *   (every noleap date exists in the Gregorian calendar; intervals across a Gregorian 29 February
 *   are therefore one day shorter than they look, as in every CF tool that prints such dates).
 */
type CalendarKind = 'standard' | 'proleptic_gregorian' | 'julian' | 'noleap';

export interface ParsedTimeUnits {
  unit: TimeUnit;
  msPerUnit: number;
  calendar: CalendarKind;
  /** The reference date as written (time zone already applied to `referenceMillis`). */
  reference: {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
    utcOffsetMinutes: number;
  };
  /**
   * The reference as milliseconds since 1970-01-01T00:00:00 counted in `calendar`: epoch
   * milliseconds for the Gregorian and Julian calendars, a position on the 365-day time line for noleap.
   */
  referenceMillis: number;
}

const MS_PER_DAY = 86_400_000;

const UNIT_ALIASES: Record<string, TimeUnit> = {
  milliseconds: 'milliseconds',
  millisecond: 'milliseconds',
  msecs: 'milliseconds',
  msec: 'milliseconds',
  ms: 'milliseconds',
  seconds: 'seconds',
  second: 'seconds',
  secs: 'seconds',
  sec: 'seconds',
  s: 'seconds',
  minutes: 'minutes',
  minute: 'minutes',
  mins: 'minutes',
  min: 'minutes',
  hours: 'hours',
  hour: 'hours',
  hrs: 'hours',
  hr: 'hours',
  h: 'hours',
  days: 'days',
  day: 'days',
  d: 'days',
  weeks: 'weeks',
  week: 'weeks',
};

const MS_PER_UNIT: Record<TimeUnit, number> = {
  milliseconds: 1,
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: MS_PER_DAY,
  weeks: 7 * MS_PER_DAY,
};

const CALENDAR_ALIASES: Record<string, CalendarKind> = {
  '': 'standard',
  standard: 'standard',
  gregorian: 'standard',
  proleptic_gregorian: 'proleptic_gregorian',
  julian: 'julian',
  noleap: 'noleap',
  '365_day': 'noleap',
};

const UNREPRESENTABLE_CALENDARS = new Set(['360_day', 'all_leap', '366_day', 'none']);

const NOLEAP_MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const NOLEAP_DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Days from 1970-01-01 of a proleptic Gregorian date (valid for any year, including year 0 and before). */
function gregorianDays(year: number, month: number, day: number): number {
  const a = floorDiv(14 - month, 12);
  const y = year + 4800 - a;
  const m = month + 12 * a - 3;
  const jdn = day + floorDiv(153 * m + 2, 5) + 365 * y + floorDiv(y, 4) - floorDiv(y, 100) + floorDiv(y, 400) - 32045;
  return jdn - 2440588;
}

/** Days from 1970-01-01 (Gregorian) of a Julian-calendar date. */
function julianDays(year: number, month: number, day: number): number {
  const a = floorDiv(14 - month, 12);
  const y = year + 4800 - a;
  const m = month + 12 * a - 3;
  const jdn = day + floorDiv(153 * m + 2, 5) + 365 * y + floorDiv(y, 4) - 32083;
  return jdn - 2440588;
}

function noleapDays(year: number, month: number, day: number): number {
  return (year - 1970) * 365 + NOLEAP_DAYS_BEFORE_MONTH[month - 1]! + day - 1;
}

function isGregorianLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(calendar: CalendarKind, year: number, month: number): number {
  if (month !== 2) return NOLEAP_MONTH_DAYS[month - 1]!;
  if (calendar === 'noleap') return 28;
  const julianRules = calendar === 'standard' && year < 1582;
  const leap = julianRules ? year % 4 === 0 : isGregorianLeap(year);
  return leap ? 29 : 28;
}

function dayNumber(calendar: CalendarKind, year: number, month: number, day: number, units: string): number {
  switch (calendar) {
    case 'proleptic_gregorian':
    case 'julian':
      return gregorianDays(year, month, day);
    case 'noleap':
      return noleapDays(year, month, day);
    case 'standard': {
      const key = year * 10_000 + month * 100 + day;
      if (key >= 15821015) return gregorianDays(year, month, day);
      if (key > 15821004)
        throw new TimeUnitsError(
          `reference date in "${units}" falls in the 1582 calendar gap (5-14 October do not exist)`,
        );
      return julianDays(year, month, day);
    }
  }
}

const REFERENCE_PATTERN =
  /^([+-]?\d{1,5})-(\d{1,2})-(\d{1,2})(?:(?:T|\s+)(\d{1,2})(?::(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?)?\s*(Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$/i;

function parseCalendar(calendar: string | undefined): CalendarKind {
  const name = (calendar ?? '').trim().toLowerCase();
  const kind = CALENDAR_ALIASES[name];
  if (kind) return kind;
  if (UNREPRESENTABLE_CALENDARS.has(name)) {
    throw new TimeUnitsError(
      `calendar "${name}" has dates that do not exist in ISO 8601 (e.g. 30 February or 29 February of any year); not supported`,
    );
  }
  throw new TimeUnitsError(`unknown calendar "${calendar}"`);
}

function parseUtcOffset(zone: string | undefined): number {
  if (!zone || /^(z|utc|gmt)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

/** Parses CF time units such as "days since 1950-01-01 00:00:00 UTC" or "seconds since 1970-01-01T00:00:00Z". */
export function parseTimeUnits(units: string, calendar?: string): ParsedTimeUnits {
  const match = /^\s*([a-z]+)\s+since\s+(.+?)\s*$/i.exec(units ?? '');
  if (!match) throw new TimeUnitsError(`not CF time units ("<unit> since <date>"): "${units}"`);
  const unitName = match[1]!.toLowerCase();
  const unit = UNIT_ALIASES[unitName];
  if (!unit) {
    const hint = /^(months?|years?|yr|yrs|common_years?)$/.test(unitName)
      ? ' (months and years have no fixed length; CF advises against them)'
      : '';
    throw new TimeUnitsError(`unsupported time unit "${match[1]}" in "${units}"${hint}`);
  }
  const kind = parseCalendar(calendar);
  const ref = REFERENCE_PATTERN.exec(match[2]!);
  if (!ref) throw new TimeUnitsError(`cannot read the reference date "${match[2]}" in "${units}"`);
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(ref[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = Number(ref[6] ?? 0);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(kind, year, month) ||
    hour > 24 ||
    minute > 59 ||
    second >= 61
  ) {
    throw new TimeUnitsError(`invalid reference date "${match[2]}" in "${units}"`);
  }
  const utcOffsetMinutes = parseUtcOffset(ref[7]);
  const days = dayNumber(kind, year, month, day, units);
  const referenceMillis = days * MS_PER_DAY + ((hour * 60 + minute - utcOffsetMinutes) * 60 + second) * 1000;
  return {
    unit,
    msPerUnit: MS_PER_UNIT[unit],
    calendar: kind,
    reference: { year, month, day, hour, minute, second, utcOffsetMinutes },
    referenceMillis,
  };
}

/** One time value to epoch milliseconds (NaN stays NaN), rounded to the millisecond. */
export function toEpochMillis(value: number, parsed: ParsedTimeUnits): number {
  if (!Number.isFinite(value)) return NaN;
  const millis = Math.round(parsed.referenceMillis + value * parsed.msPerUnit);
  return parsed.calendar === 'noleap' ? noleapToGregorian(millis) : millis;
}

/** A position on the 365-day time line to the epoch milliseconds of the same date and time of day. */
function noleapToGregorian(millis: number): number {
  const days = Math.floor(millis / MS_PER_DAY);
  const timeOfDay = millis - days * MS_PER_DAY;
  const year = 1970 + Math.floor(days / 365);
  let dayOfYear = days - (year - 1970) * 365;
  let month = 0;
  while (dayOfYear >= NOLEAP_MONTH_DAYS[month]!) dayOfYear -= NOLEAP_MONTH_DAYS[month++]!;
  return gregorianDays(year, month + 1, dayOfYear + 1) * MS_PER_DAY + timeOfDay;
}

/** A whole time coordinate to epoch milliseconds; NaN (missing) stays NaN. Throws TimeUnitsError for unusable units. */
export function decodeTimes(values: Float64Array, units: string, calendar?: string): Float64Array {
  const parsed = parseTimeUnits(units, calendar);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toEpochMillis(values[i]!, parsed);
  return out;
}

/** ISO 8601 UTC, e.g. "2008-02-25T04:03:00Z"; milliseconds only when not zero ("2019-06-20T07:22:30.718Z"). */
export function isoString(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`isoString: not a time: ${ms}`);
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** An Argo YYYYMMDDHHMISS date ("20080225025100") to epoch milliseconds; NaN when blank or malformed. */
export function parseArgoDate(text: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text.trim());
  if (!m) return NaN;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth('proleptic_gregorian', year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return NaN;
  }
  return gregorianDays(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
}
