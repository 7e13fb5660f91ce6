/**
 * Axis-list parameters of OGC API - Coverages: `subset=Lat(10:20),Lon(30:40),time("2000-03-01T00:00:00Z":*)`
 * and the `Name(number)` lists of scale-axes, scale-size and resolution. Any axis name is accepted
 * here; the grid decides which names it knows.
 */
import { InvalidParameterValue } from '../errors.js';

export type SubsetBound = { kind: 'number'; value: number } | { kind: 'text'; value: string } | { kind: 'open' };

export interface SubsetSpec {
  axis: string;
  /** A trim (low:high) or a slice (one value). */
  kind: 'trim' | 'slice';
  low: SubsetBound;
  high: SubsetBound;
  /** The term as written, for error messages. */
  text: string;
}

interface AxisTerm {
  name: string;
  args: string;
  text: string;
}

/** Split `A(x),B("y,z")` on the commas outside parentheses and quotes, and each term into name and arguments. */
export function splitAxisList(value: string, parameter: string): AxisTerm[] {
  const terms: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '(') {
      depth++;
    } else if (ch === ')') {
      depth--;
      if (depth < 0) throw new InvalidParameterValue(parameter, `unbalanced ')' in '${value}'`);
    } else if (ch === ',' && depth === 0) {
      terms.push(value.slice(start, i));
      start = i + 1;
    }
  }
  if (quote) throw new InvalidParameterValue(parameter, `unclosed quote in '${value}'`);
  if (depth !== 0) throw new InvalidParameterValue(parameter, `unbalanced '(' in '${value}'`);
  terms.push(value.slice(start));
  return terms.map((raw) => {
    const text = raw.trim();
    const m = /^([^()\s]+)\s*\(([\s\S]*)\)$/.exec(text);
    if (!m) throw new InvalidParameterValue(parameter, `'${text}' is not of the form axisName(…), e.g. Lat(10:20)`);
    return { name: m[1]!, args: m[2]!.trim(), text };
  });
}

const ISO = String.raw`\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?`;
const UNQUOTED_TIME_PAIR = new RegExp(`^(${ISO}|\\*)?\\s*:\\s*(${ISO}|\\*)?$`);

function bound(token: string | undefined, text: string, parameter: string): SubsetBound {
  const t = (token ?? '').trim();
  if (t === '' || t === '*') return { kind: 'open' };
  const quoted = /^"([^"]*)"$|^'([^']*)'$/.exec(t);
  if (quoted) return { kind: 'text', value: quoted[1] ?? quoted[2]! };
  const n = Number(t);
  if (Number.isFinite(n)) return { kind: 'number', value: n };
  if (new RegExp(`^${ISO}$`).test(t)) return { kind: 'text', value: t };
  throw new InvalidParameterValue(parameter, `'${t}' in '${text}' is neither a number, a quoted string nor *`);
}

/** Split `low:high` at the colon outside quotes; unquoted date-times (with colons of their own) are recognised whole. */
function splitRange(args: string, text: string, parameter: string): [string, string] | undefined {
  let quote: string | undefined;
  const colons: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const ch = args[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === ':') colons.push(i);
  }
  if (colons.length === 0) return undefined;
  if (colons.length === 1) return [args.slice(0, colons[0]), args.slice(colons[0]! + 1)];
  const pair = UNQUOTED_TIME_PAIR.exec(args);
  if (pair) return [pair[1] ?? '', pair[2] ?? ''];
  throw new InvalidParameterValue(
    parameter,
    `cannot tell low from high in '${text}': quote date-times, e.g. time("2000-01-01T00:00:00Z":"2000-02-01T00:00:00Z")`,
  );
}

/** Every `subset` parameter value (the parameter may repeat), each axis at most once. */
export function parseSubset(values: string[], parameter = 'subset'): SubsetSpec[] {
  const out: SubsetSpec[] = [];
  for (const value of values) {
    for (const term of splitAxisList(value, parameter)) {
      if (term.args === '') throw new InvalidParameterValue(parameter, `'${term.text}' has no value or range`);
      const range = splitRange(term.args, term.text, parameter);
      if (range) {
        out.push({
          axis: term.name,
          kind: 'trim',
          low: bound(range[0], term.text, parameter),
          high: bound(range[1], term.text, parameter),
          text: term.text,
        });
      } else {
        // time(*) slices at the latest step; the grid decides which axes take it.
        const b = bound(term.args, term.text, parameter);
        out.push({ axis: term.name, kind: 'slice', low: b, high: b, text: term.text });
      }
    }
  }
  const seen = new Set<string>();
  for (const s of out) {
    const key = s.axis.toLowerCase();
    if (seen.has(key)) throw new InvalidParameterValue(parameter, `axis '${s.axis}' is subset more than once`);
    seen.add(key);
  }
  return out;
}

/** `Name(number),…` (scale-axes, scale-size, resolution): each number finite and positive. */
export function parseAxisNumbers(value: string, parameter: string): Array<{ axis: string; value: number }> {
  const out = splitAxisList(value, parameter).map((term) => {
    const n = Number(term.args);
    if (term.args === '' || !Number.isFinite(n) || n <= 0)
      throw new InvalidParameterValue(parameter, `'${term.text}': expected a positive number in the parentheses`);
    return { axis: term.name, value: n };
  });
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s.axis.toLowerCase()))
      throw new InvalidParameterValue(parameter, `axis '${s.axis}' is given more than once`);
    seen.add(s.axis.toLowerCase());
  }
  return out;
}
