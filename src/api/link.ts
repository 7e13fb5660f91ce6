import { isoString } from '../cf/time.js';

/** A link as OGC API and STAC documents write it. */
export interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
  templated?: boolean;
  hreflang?: string;
}

/** An instant as ISO 8601 text, null when unknown (open interval ends). */
export function isoTime(ms: number | undefined): string | null {
  return ms === undefined || !Number.isFinite(ms) ? null : isoString(ms);
}
