import type { Window } from './types.js';
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
