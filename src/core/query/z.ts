import { InvalidParameterValue } from '../errors.js';

/**
 * An EDR `z` selection, in the units of the collection's vertical axis (metres of depth, or
 * decibar for Argo pressure).
 * - `values`: explicit levels (`z=10`, `z=10,20,50`, `z=R5/0/10`); each picks the nearest level.
 * - `range`: every level inside `[min, max]` (`z=0/100`).
 */
export type ZSelection = { kind: 'values'; values: number[] } | { kind: 'range'; min: number; max: number };

/** More levels than any real axis has: `R1000000/0/1` is a typo, not a request. */
const MAX_REPEATS = 10_000;

function num(text: string, parameter: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new InvalidParameterValue(parameter, `${what} '${text}' is not a number`);
  return n;
}

/** Parse `z`: a value, `a/b`, a comma list, or `Rn/min/step` (n levels from min, step apart). */
export function parseZ(value: string, parameter = 'z'): ZSelection {
  const text = value.trim();
  if (text === '')
    throw new InvalidParameterValue(parameter, 'empty value; expected a level, a/b, a list or Rn/min/step');
  const rep = /^R(\d+)\/([^/]+)\/([^/]+)$/i.exec(text);
  if (rep) {
    const n = Number(rep[1]);
    if (n < 1 || n > MAX_REPEATS)
      throw new InvalidParameterValue(parameter, `Rn/min/step needs 1 ≤ n ≤ ${MAX_REPEATS}, got ${rep[1]}`);
    const min = num(rep[2]!, parameter, 'min');
    const step = num(rep[3]!, parameter, 'step');
    return { kind: 'values', values: Array.from({ length: n }, (_, i) => min + i * step) };
  }
  if (text.includes('/')) {
    const parts = text.split('/');
    if (parts.length !== 2) throw new InvalidParameterValue(parameter, `'${text}': expected min/max or Rn/min/step`);
    const a = num(parts[0]!, parameter, 'min');
    const b = num(parts[1]!, parameter, 'max');
    if (a > b) throw new InvalidParameterValue(parameter, `min ${a} is greater than max ${b}`);
    return { kind: 'range', min: a, max: b };
  }
  return { kind: 'values', values: text.split(',').map((p) => num(p, parameter, 'level')) };
}

/**
 * Indices of the levels a selection picks from an axis: every level inside a range, or the nearest
 * level to each explicit value (sorted, without repeats).
 */
export function selectLevels(z: ZSelection, levels: ArrayLike<number>): number[] {
  const out = new Set<number>();
  if (z.kind === 'range') {
    for (let i = 0; i < levels.length; i++) if (levels[i]! >= z.min && levels[i]! <= z.max) out.add(i);
  } else {
    for (const v of z.values) {
      let best = -1;
      let bestD = Infinity;
      for (let i = 0; i < levels.length; i++) {
        const d = Math.abs(levels[i]! - v);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      if (best >= 0) out.add(best);
    }
  }
  return [...out].sort((a, b) => a - b);
}
