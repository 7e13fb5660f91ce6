/** Text helpers of the streamed text outputs: numbers and times as JSON or CSV, and batching. */
import { isoString } from '../../cf/time.js';
import { numberText } from '../../core/number-text.js';

/** Collects small strings into ~64 KiB pieces: one stream write per piece instead of per value. */
export class TextBatcher {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly limit = 65_536) {}

  /** Adds text; returns a piece to yield when enough has gathered. */
  push(text: string): string | undefined {
    this.parts.push(text);
    this.size += text.length;
    return this.size >= this.limit ? this.take() : undefined;
  }

  take(): string | undefined {
    if (this.size === 0) return undefined;
    const s = this.parts.join('');
    this.parts = [];
    this.size = 0;
    return s;
  }
}

/** ISO 8601 with a Z, or null when unknown. */
export function isoOrNull(ms: number): string | null {
  return Number.isFinite(ms) ? isoString(ms) : null;
}

/** A number as JSON text: NaN → null. */
export function jsonNumber(v: number): string {
  return Number.isFinite(v) ? numberText(v) : 'null';
}

/** The same text for CSV cells: empty when missing. */
export function textNumber(v: number): string {
  return Number.isFinite(v) ? numberText(v) : '';
}

/** RFC 4180 field: quoted only when it must be. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
