import { InvalidParameterValue } from '../errors.js';
import { parseInstant } from '../query/datetime.js';
import type { Cql2Literal } from './ast.js';
import { FILTER } from './ast.js';

const DAY = 86_400_000;

/** TIMESTAMP('...'): one instant. */
export function timestampLiteral(text: string): Cql2Literal & { kind: 'instant' } {
  if (!/T/i.test(text))
    throw new InvalidParameterValue(
      FILTER,
      `TIMESTAMP('${text}') needs a date-time such as 2010-01-31T12:00:00Z (use DATE() for a day)`,
    );
  const t = parseInstant(text, FILTER);
  return { kind: 'instant', start: t, end: t };
}

/** DATE('...'): the whole day, so `datetime = DATE('2009-05-01')` matches any time that day. */
export function dateLiteral(text: string): Cql2Literal & { kind: 'instant' } {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text.trim()))
    throw new InvalidParameterValue(FILTER, `DATE('${text}') needs a date such as 2010-01-31`);
  const t = parseInstant(text, FILTER);
  return { kind: 'instant', start: t, end: t + DAY - 1 };
}

/** One end of INTERVAL(a, b): '..' is open; a date alone covers its day. */
function intervalEnd(v: Cql2Literal | string, end: boolean): number {
  if (typeof v === 'string') {
    if (v === '..' || v === '') return end ? Infinity : -Infinity;
    const day = /^\d{4}-\d{2}-\d{2}$/.test(v.trim());
    const t = parseInstant(v, FILTER);
    return end && day ? t + DAY - 1 : t;
  }
  if (v.kind === 'instant') return end ? v.end : v.start;
  if (v.kind === 'string') return intervalEnd(v.value, end);
  throw new InvalidParameterValue(FILTER, "INTERVAL() takes dates, timestamps or '..'");
}

export function intervalLiteral(a: Cql2Literal | string, b: Cql2Literal | string): Cql2Literal & { kind: 'interval' } {
  const start = intervalEnd(a, false);
  const end = intervalEnd(b, true);
  if (start > end) throw new InvalidParameterValue(FILTER, 'INTERVAL() starts after it ends');
  return { kind: 'interval', start, end };
}
