import { InvalidParameterValue } from '../errors.js';

/** A closed time interval in epoch milliseconds; an open end is ±Infinity. */
export interface TimeInterval {
  start: number;
  end: number;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parse one RFC 3339 instant. A date alone, or a date-time without zone, is taken as UTC;
 * for an interval's end a date alone means the end of that day (what a user means by `2010-12-31`).
 */
export function parseInstant(text: string, parameter: string, endOfDay = false): number {
  const m = RFC3339.exec(text.trim());
  if (!m)
    throw new InvalidParameterValue(parameter, `'${text}' is not an RFC 3339 date-time (e.g. 2010-01-31T12:00:00Z)`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    Number(h ?? 0) > 23 ||
    Number(mi ?? 0) > 59 ||
    Number(s ?? 0) > 60
  ) {
    throw new InvalidParameterValue(parameter, `'${text}' is not a valid date-time`);
  }
  // A leap second (:60, RFC 3339 allows it) is the last instant of its minute here.
  const leap = Number(s ?? 0) === 60;
  let ms = Date.UTC(
    Number(y),
    month - 1,
    day,
    Number(h ?? 0),
    Number(mi ?? 0),
    leap ? 59 : Number(s ?? 0),
    leap ? 999 : frac ? Math.round(Number(frac) * 1000) : 0,
  );
  if (new Date(ms).getUTCDate() !== day) throw new InvalidParameterValue(parameter, `'${text}' is not a valid date`);
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  if (endOfDay && h === undefined) ms += 86_400_000 - 1;
  return ms;
}

/** RFC 3339 §5.6 `date-time`: full date, `T`, full time with seconds, and a zone (`Z` or `±hh:mm`). */
const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Refuse what RFC 3339 does not allow: a date alone, a time without zone, `+0100`, a comma before the fraction. */
function requireRfc3339(text: string, parameter: string): void {
  const m = RFC3339_DATE_TIME.exec(text);
  if (!m || Number(m[1] ?? 0) > 23 || Number(m[2] ?? 0) > 59) {
    throw new InvalidParameterValue(
      parameter,
      `'${text}' is not an RFC 3339 date-time: give a date, a time with seconds and a zone, e.g. 2010-01-31T12:00:00Z or 2010-01-31T13:00:00+01:00`,
    );
  }
}

export interface DatetimeOptions {
  /**
   * Only RFC 3339 date-times (STAC API item search requires it); otherwise a date alone means the
   * whole day and a time without zone is UTC, as the OGC APIs' users expect.
   */
  rfc3339?: boolean;
}

/** `datetime`: an instant, `a/b`, `../b`, `a/..`, `/b`, `a/` (OGC API and STAC). */
export function parseDatetime(value: string, parameter = 'datetime', opts: DatetimeOptions = {}): TimeInterval {
  const text = opts.rfc3339 ? value : value.trim();
  if (opts.rfc3339)
    for (const part of text.split('/')) if (part !== '' && part !== '..') requireRfc3339(part, parameter);
  if (!text.includes('/')) {
    const t = parseInstant(text, parameter);
    const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
    return { start: t, end: dateOnly ? t + 86_400_000 - 1 : t };
  }
  const parts = text.split('/');
  if (parts.length !== 2) throw new InvalidParameterValue(parameter, `'${value}' has more than one '/'`);
  const [a, b] = parts.map((p) => p.trim());
  const open = (p: string) => p === '' || p === '..';
  if (open(a!) && open(b!)) throw new InvalidParameterValue(parameter, 'both ends of the interval are open');
  const start = open(a!) ? -Infinity : parseInstant(a!, parameter);
  const end = open(b!) ? Infinity : parseInstant(b!, parameter, true);
  if (start > end) throw new InvalidParameterValue(parameter, `the start ${a} is after the end ${b}`);
  return { start, end };
}

export function overlaps(q: TimeInterval, start: number, end: number): boolean {
  if (Number.isNaN(start) && Number.isNaN(end)) return false;
  const s = Number.isNaN(start) ? end : start;
  const e = Number.isNaN(end) ? start : end;
  return s <= q.end && e >= q.start;
}

const DAY_MS = 86_400_000;
/** Mean Gregorian year and month: a period compared with a grid's spacing, not added to a date. */
const YEAR_MS = 365.2425 * DAY_MS;
const MONTH_MS = YEAR_MS / 12;
const DURATION =
  /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** An ISO 8601 period (P1M, P10D, PT6H) as milliseconds, months and years at their mean Gregorian length. */
export function parseDuration(text: string, parameter: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new InvalidParameterValue(parameter, `'${text}' is not an ISO 8601 period (e.g. P1D, P1M, PT6H)`);
  const [, y, mo, w, d, h, mi, s] = m.map((v) => Number(v ?? 0));
  const ms = y! * YEAR_MS + mo! * MONTH_MS + w! * 7 * DAY_MS + d! * DAY_MS + h! * 3_600_000 + mi! * 60_000 + s! * 1000;
  if (!(ms > 0)) throw new InvalidParameterValue(parameter, `'${text}' is not a positive period`);
  return ms;
}
