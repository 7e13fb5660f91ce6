import type { NumericArray, RawArray, Window } from './types.js';
import { ReaderRequestError } from './types.js';

/**
 * Checks a window against a file's dimension lengths, with the same messages for every reader:
 * unknown dimension, malformed range, non-integers, start after stop, outside the extent.
 */
export function checkWindow(
  path: string,
  window: Window | undefined,
  dimLength: (dim: string) => number | undefined,
  dimNames: () => string[],
): void {
  for (const [dim, range] of Object.entries(window ?? {})) {
    const length = dimLength(dim);
    if (length === undefined)
      throw new ReaderRequestError(`unknown dimension "${dim}" in ${path} (dimensions: ${dimNames().join(', ')})`);
    if (!Array.isArray(range) || range.length !== 2)
      throw new ReaderRequestError(`window for dimension "${dim}" must be [start, stop]`);
    const [start, stop] = range;
    if (!Number.isInteger(start) || !Number.isInteger(stop)) {
      throw new ReaderRequestError(`window for dimension "${dim}" must be integers, got [${start}, ${stop})`);
    }
    if (start > stop)
      throw new ReaderRequestError(`window for dimension "${dim}" has start ${start} after stop ${stop}`);
    if (start < 0 || stop > length) {
      throw new ReaderRequestError(
        `window for dimension "${dim}" is [${start}, ${stop}), outside its extent 0..${length}`,
      );
    }
  }
}

/** Checks `picks` of a readPicks call: one list per dimension, strictly ascending, inside `shape`. */
export function checkPicks(path: string, variable: string, picks: Int32Array[], shape: number[]): void {
  if (picks.length !== shape.length)
    throw new ReaderRequestError(
      `${path}: ${variable} has ${shape.length} dimension(s), ${picks.length} pick list(s) given`,
    );
  picks.forEach((list, d) => {
    for (let k = 0; k < list.length; k++) {
      const p = list[k]!;
      if (p < 0 || p >= shape[d]! || (k > 0 && p <= list[k - 1]!))
        throw new ReaderRequestError(
          `${path}: picks of ${variable} along dimension ${d} must ascend strictly inside 0..${shape[d]! - 1}, got ${p} at ${k}`,
        );
    }
  });
}

/** The window `[start, last pick + 1)` per dimension that `picks` span (empty when a list is). */
export function picksSpan(picks: Int32Array[]): { start: number[]; count: number[] } {
  const start = picks.map((p) => (p.length > 0 ? p[0]! : 0));
  const count = picks.map((p, d) => (p.length > 0 ? p[p.length - 1]! + 1 - start[d]! : 0));
  return { start, count };
}

/** The cells of `picks` out of `whole` (the span read from `start`), for readers without a cheaper way. */
export function pickCells(whole: RawArray, start: number[], picks: Int32Array[]): RawArray {
  const shape = picks.map((p) => p.length);
  const total = shape.reduce((a, b) => a * b, 1);
  const src = whole.data;
  const out: NumericArray | string[] = Array.isArray(src)
    ? new Array<string>(total)
    : new (src.constructor as new (n: number) => NumericArray)(total);
  const rank = picks.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= whole.shape[d]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < total; o++) {
    let s = 0;
    for (let d = 0; d < rank; d++) s += (picks[d]![idx[d]!]! - start[d]!) * strides[d]!;
    (out as Float64Array)[o] = (src as Float64Array)[s]!;
    for (let d = rank - 1; d >= 0 && ++idx[d]! === shape[d]; d--) idx[d] = 0;
  }
  return { dtype: whole.dtype, shape, data: out };
}
