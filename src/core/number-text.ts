/**
 * Numbers as text for every output (JSON, CSV, CoverageJSON), one rule everywhere:
 * - a value that is a float32 (most stored data) gets the fewest digits that read back as the same
 *   float32: 16.141, not 16.1410007 nor 16.141001 — what ncdump prints;
 * - any other double keeps 15 significant digits, which drops the binary noise of decoding
 *   (-1502 × 0.0001 = -0.15020000000000001 → -0.1502) without losing real digits (times, metres).
 */
export function numberText(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  if (Math.fround(v) === v) {
    for (let p = 6; p < 9; p++) {
      const s = v.toPrecision(p);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
    return String(Number(v.toPrecision(9)));
  }
  return String(Number(v.toPrecision(15)));
}

/** The same rule as a JSON number value: the shortest faithful number. */
export function faithfulNumber(v: number): number {
  return Number(numberText(v));
}
