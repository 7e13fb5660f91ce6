/**
 * ERDDAP tabledap queries: `var1,var2&var op value&orderBy("a,b")&distinct()`.
 *
 * - Result variables are comma-separated (none: all of them).
 * - Constraints: `=`, `!=`, `<`, `<=`, `>`, `>=` and `=~` (a regular expression the whole value
 *   must match). String values are in double quotes (`platform_number="1900857"`); a bare value is
 *   taken as it is. Numbers compare as numbers, `NaN` is the missing value (`temp!=NaN`).
 * - `time` takes ISO 8601 (`2008-03-09T01:23:00Z`, `2008-03-09`), epoch seconds, or `now`,
 *   `now-7days`, `now+1hour` (units: second, minute, hour, day, week, month, year; singular or plural).
 * - Filters: `distinct()`, `orderBy("a,b")`, `orderByMax("a,b")`, `orderByMin("a,b")`,
 *   `orderByDescending("a,b")`, `orderByClosest("a,time/2hours")` (also ERDDAP's older
 *   `"a,time,2 hours"`: per group of the other variables, the row closest to each multiple of the
 *   interval; a bare number for a numeric variable), `units("UDUNITS")` (the default) or
 *   `units("UCUM")` (units written in UCUM). Parameters starting with `.` (graph options) are ignored.
 *
 * The query is split on `&` before percent-decoding, so an encoded `&` (%26) stays inside a value.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import type { TableDataset, TableVar } from './tabledap-schema.js';

const QUERY = 'query';

type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | '=~';

export interface Constraint {
  variable: TableVar;
  op: Operator;
  /** Numbers (time in epoch ms; NaN for missing) or the string. */
  value: number | string;
  /** For `=~`: the whole-value pattern. */
  regex?: RegExp;
}

type OrderKind = 'orderBy' | 'orderByMax' | 'orderByMin' | 'orderByDescending' | 'orderByClosest';

export interface TableQuery {
  columns: TableVar[];
  constraints: Constraint[];
  /** `interval` (orderByClosest): in the last variable's units, epoch ms for time. */
  order?: { kind: OrderKind; by: TableVar[]; interval?: number };
  distinct: boolean;
  /** Which standard units are written in (ERDDAP's `units()` filter). */
  units: 'UDUNITS' | 'UCUM';
}

function decode(piece: string): string {
  try {
    return decodeURIComponent(piece);
  } catch {
    throw new InvalidParameterValue(QUERY, `'${piece}' is not valid %-encoding`);
  }
}

function unquote(text: string): { text: string; quoted: boolean } {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"'))
    return { text: t.slice(1, -1).replace(/\\(["\\])/g, '$1'), quoted: true };
  return { text: t, quoted: false };
}

const UNIT_MS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/** ERDDAP's time values: ISO 8601 (UTC when no zone), epoch seconds, or now±n units. */
export function parseTimeValue(text: string, now = Date.now()): number {
  const t = text.trim();
  if (t === 'NaN') return NaN;
  if (/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t)) return Number(t) * 1000;
  const rel = /^now(?:([+-])(\d+(?:\.\d+)?)?\s*([a-zA-Z]+?)s?)?$/.exec(t);
  if (rel) {
    if (!rel[1]) return now;
    const n = Number(rel[2] ?? 1) * (rel[1] === '-' ? -1 : 1);
    const unit = rel[3]!.toLowerCase();
    if (unit === 'month' || unit === 'year') {
      const d = new Date(now);
      if (unit === 'month') d.setUTCMonth(d.getUTCMonth() + n);
      else d.setUTCFullYear(d.getUTCFullYear() + n);
      return d.getTime();
    }
    const ms = UNIT_MS[unit];
    if (ms === undefined) throw new InvalidParameterValue(QUERY, `'${t}': unknown time unit '${rel[3]}'`);
    return now + n * ms;
  }
  const m =
    /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}(?:\.\d+)?))?)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(
      t,
    );
  if (m) {
    const iso = `${m[1]}-${m[2]}-${m[3] ?? '01'}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? 'Z'}`;
    const ms = Date.parse(iso.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (Number.isFinite(ms)) return ms;
  }
  throw new InvalidParameterValue(
    QUERY,
    `'${t}' is not a time: use ISO 8601 (2008-03-09T01:23:00Z), epoch seconds or now-1day`,
  );
}

function lookup(ds: TableDataset, name: string): TableVar {
  const v = ds.byName.get(name);
  if (!v)
    throw new InvalidParameterValue(
      QUERY,
      `Unrecognized variable="${name}". This dataset has ${ds.vars.map((x) => x.name).join(', ')}`,
    );
  return v;
}

const OPS: Operator[] = ['!=', '=~', '<=', '>=', '=', '<', '>'];

function parseConstraint(ds: TableDataset, text: string): Constraint {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=~|<=|>=|=|<|>)(.*)$/s.exec(text);
  if (!m) {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text)?.[0];
    if (name && !OPS.some((op) => text.includes(op))) lookup(ds, name);
    throw new InvalidParameterValue(
      QUERY,
      `'${text}' is not a constraint (variable, one of ${OPS.join(' ')} and a value; strings in double quotes)`,
    );
  }
  const variable = lookup(ds, m[1]!);
  const op = m[2] as Operator;
  const { text: raw, quoted } = unquote(m[3]!);
  if (op === '=~') {
    if (raw.length > 1000)
      throw new InvalidParameterValue(QUERY, `the regular expression of ${variable.name} is too long`);
    try {
      return { variable, op, value: raw, regex: new RegExp(`^(?:${raw})$`) };
    } catch (err) {
      throw new InvalidParameterValue(QUERY, `${variable.name}=~"${raw}": ${(err as Error).message}`);
    }
  }
  if (variable.type === 'String') return { variable, op, value: raw };
  if (variable.name === 'time' || variable.source.from === 'time') return { variable, op, value: parseTimeValue(raw) };
  const n = raw === 'NaN' ? NaN : raw.trim() === '' ? NaN : Number(raw);
  if (Number.isNaN(n) && raw !== 'NaN')
    throw new InvalidParameterValue(
      QUERY,
      `${variable.name}${op}${quoted ? `"${raw}"` : raw}: ${variable.name} is numeric (${variable.type}); give a number or NaN`,
    );
  return { variable, op, value: n };
}

const FILTER = /^(orderBy|orderByMax|orderByMin|orderByDescending|orderByClosest|distinct|units)\((.*)\)$/s;

/** orderByClosest's interval: `2hours`, `2 hours`, `10minutes`, `1day` (epoch ms on time), or a bare number. */
function closestInterval(v: TableVar, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)?\s*([A-Za-z]*)\s*$/.exec(text);
  const n = m && (m[1] !== undefined || m[2] !== '') ? Number(m[1] ?? 1) : NaN;
  const word = (m?.[2] ?? '').toLowerCase();
  const unit = word.replace(/s$/, '');
  const isTime = v.source.from === 'time';
  let interval = NaN;
  if (!isTime && word === '') interval = n;
  else if (isTime && unit !== '') {
    const ms = UNIT_MS[unit] ?? UNIT_MS[{ sec: 'second', min: 'minute', hr: 'hour', ms: 'millisecond' }[unit] ?? ''];
    if (ms !== undefined) interval = n * ms;
  }
  if (!(interval > 0) || !Number.isFinite(interval))
    throw new InvalidParameterValue(
      QUERY,
      isTime
        ? `orderByClosest: '${text.trim()}' is not an interval of time: a positive number and one of millisecond, second, minute, hour, day, week (e.g. time/2hours)`
        : `orderByClosest: '${text.trim()}' is not an interval of ${v.name}: give a positive number (e.g. ${v.name}/10)`,
    );
  return interval;
}

export function parseTableQuery(ds: TableDataset, rawQuery: string): TableQuery {
  const pieces = rawQuery.split('&').map(decode);
  const head = pieces[0] ?? '';
  const names = head
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const columns = names.length === 0 ? [...ds.vars] : names.map((n) => lookup(ds, n));
  const q: TableQuery = { columns, constraints: [], distinct: false, units: 'UDUNITS' };
  let unitsGiven = false;
  for (const piece of pieces.slice(1)) {
    const p = piece.trim();
    if (p === '' || p.startsWith('.')) continue;
    const f = FILTER.exec(p);
    if (f) {
      if (f[1] === 'distinct') {
        if (f[2]!.trim() !== '') throw new InvalidParameterValue(QUERY, 'distinct() takes no argument');
        q.distinct = true;
        continue;
      }
      if (f[1] === 'units') {
        const standard = unquote(f[2]!).text.trim();
        if (standard !== 'UDUNITS' && standard !== 'UCUM')
          throw new InvalidParameterValue(QUERY, `units("${standard}"): use units("UDUNITS") or units("UCUM")`);
        if (unitsGiven) throw new InvalidParameterValue(QUERY, 'only one units() filter per query');
        unitsGiven = true;
        q.units = standard;
        continue;
      }
      const kind = f[1] as OrderKind;
      const names = unquote(f[2]!)
        .text.split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      let intervalText: string | undefined;
      if (kind === 'orderByClosest') {
        // "a,time/2hours" (ERDDAP's current form) or "a,time,2hours" (its first one).
        const last = names.pop() ?? '';
        const slash = last.indexOf('/');
        if (slash > 0) {
          names.push(last.slice(0, slash).trim());
          intervalText = last.slice(slash + 1);
        } else intervalText = last;
        if (names.length === 0)
          throw new InvalidParameterValue(
            QUERY,
            'orderByClosest("…") needs variables and an interval, e.g. "time/1day"',
          );
      }
      const by = names.map((n) => {
        const v = lookup(ds, n);
        if (!columns.includes(v))
          throw new InvalidParameterValue(QUERY, `${kind}: ${n} is not one of the result variables`);
        return v;
      });
      if (by.length === 0) throw new InvalidParameterValue(QUERY, `${kind}("…") needs at least one variable`);
      if (q.order) throw new InvalidParameterValue(QUERY, 'only one orderBy… filter per query');
      q.order = { kind, by };
      if (intervalText !== undefined) {
        const v = by[by.length - 1]!;
        if (v.type === 'String')
          throw new InvalidParameterValue(QUERY, `orderByClosest: the last variable (${v.name}) must be numeric`);
        q.order.interval = closestInterval(v, intervalText);
      }
      continue;
    }
    if (/^[A-Za-z]+\(/.test(p))
      throw new InvalidParameterValue(
        QUERY,
        `'${p}' is not a filter this server supports (distinct(), orderBy, orderByMax, orderByMin, orderByDescending, orderByClosest, units)`,
      );
    q.constraints.push(parseConstraint(ds, p));
  }
  return q;
}

/** Whether a value passes a constraint (ERDDAP's rules: NaN equals only NaN; other tests on NaN fail but !=). */
export function passes(c: Constraint, v: number | string): boolean {
  if (c.regex) return c.regex.test(typeof v === 'number' ? (Number.isNaN(v) ? 'NaN' : String(v)) : v);
  if (typeof c.value === 'number') {
    const x = typeof v === 'number' ? v : Number(v);
    const want = c.value;
    if (Number.isNaN(want) || Number.isNaN(x)) {
      const both = Number.isNaN(want) && Number.isNaN(x);
      return c.op === '=' ? both : c.op === '!=' ? !both : false;
    }
    switch (c.op) {
      case '=':
        return x === want;
      case '!=':
        return x !== want;
      case '<':
        return x < want;
      case '<=':
        return x <= want;
      case '>':
        return x > want;
      default:
        return x >= want;
    }
  }
  const s = String(v);
  switch (c.op) {
    case '=':
      return s === c.value;
    case '!=':
      return s !== c.value;
    case '<':
      return s < c.value;
    case '<=':
      return s <= c.value;
    case '>':
      return s > c.value;
    default:
      return s >= c.value;
  }
}
