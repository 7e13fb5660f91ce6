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
    // Measured data repeats (pressure levels, temperatures at 0.001 °C): a lookup costs a sixth of the search.
    const known = float32Texts.get(v);
    if (known !== undefined) return known;
    let text = String(Number(v.toPrecision(9)));
    for (let p = 6; p < 9; p++) {
      const s = v.toPrecision(p);
      if (Math.fround(Number(s)) === v) {
        text = String(Number(s));
        break;
      }
    }
    if (float32Texts.size >= FLOAT32_TEXTS) float32Texts.clear();
    float32Texts.set(v, text);
    return text;
  }
  return String(Number(v.toPrecision(15)));
}

/** Shortest texts of float32 values seen lately (bounded: cleared when full). */
const float32Texts = new Map<number, string>();
const FLOAT32_TEXTS = 1 << 17;

/** The same rule as a JSON number value: the shortest faithful number. */
export function faithfulNumber(v: number): number {
  return Number(numberText(v));
}
