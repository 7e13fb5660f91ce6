/**
 * The size limit of one grid answer, whatever the API: checked on the encoder's estimate before
 * any data is read, with a 413 that says how big the answer would be and how to split it.
 */
import { isoString } from '../../cf/time.js';
import { ResponseTooLarge } from '../errors.js';
import type { GridPlan } from './plan.js';

/** How the answer was asked for: the split advice names that API's parameters. */
export type LimitApi = 'coverages' | 'edr' | 'opendap' | 'erddap';

/** Default limit of one answer: 2 GB. ODAS_MAX_COVERAGE_BYTES overrides it (read per request, so tests and operators can change it). */
const DEFAULT_MAX_COVERAGE_BYTES = 2e9;

export function coverageLimitBytes(): number {
  const env = process.env['ODAS_MAX_COVERAGE_BYTES'];
  const n = env === undefined ? NaN : Number(env);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_COVERAGE_BYTES;
}

/**
 * Default limit of the memory an answer may hold before writing its first byte (tabledap's sorted,
 * deduplicated and NetCDF answers need every row first): 256 MB. ODAS_MAX_HELD_BYTES overrides it.
 */
const DEFAULT_MAX_HELD_BYTES = 256e6;

export function heldLimitBytes(): number {
  const env = process.env['ODAS_MAX_HELD_BYTES'];
  const n = env === undefined ? NaN : Number(env);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_HELD_BYTES;
}

function humanBytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** A concrete way to cut the request into pieces under the limit. */
function suggestSplit(plan: GridPlan, parts: number, api: LimitApi = 'coverages'): string {
  const t = plan.axes.find((a) => a.axis.role === 't');
  if (t && t.values.length >= parts) {
    const per = Math.floor(t.values.length / parts);
    const first = isoString(t.values[0]!);
    const last = isoString(t.values[per - 1]!);
    return `split it along time into ${Math.ceil(t.values.length / per)} requests of at most ${per} time step${per > 1 ? 's' : ''} each (the first: datetime=${first}/${last})`;
  }
  const y = plan.axes.find((a) => a.axis.role === 'y')!;
  if (y.values.length >= parts) {
    const per = Math.floor(y.values.length / parts);
    const lo = Math.min(y.values[0]!, y.values[per - 1]!);
    const hi = Math.max(y.values[0]!, y.values[per - 1]!);
    const first = api === 'edr' ? `${y.axis.label} ${lo} to ${hi}` : `subset=${y.axis.label}(${lo}:${hi})`;
    return `split it into ${Math.ceil(y.values.length / per)} bands of at most ${per} rows along ${y.axis.label} (the first: ${first})`;
  }
  return api === 'edr'
    ? 'reduce it with resolution-x and resolution-y'
    : `reduce it with scale-factor=${Math.ceil(Math.sqrt(parts))}`;
}

/** How each API says "ask for less". */
const FEWER: Record<LimitApi, string> = {
  coverages:
    'or ask for fewer fields (properties=…), a smaller bbox, or a coarser grid (scale-factor=…). dry-run=true gives the estimate of any request.',
  edr: 'or ask for fewer parameters (parameter-name=…), a smaller area or a coarser grid (resolution-x, resolution-y).',
  opendap: 'or project fewer variables, smaller hyperslabs or a stride (var[start:stride:stop]).',
  erddap: 'or ask for fewer variables, a smaller range or a stride (var[(start):stride:(stop)]).',
};

/** 413 when the estimated answer exceeds the limit. */
export function checkLimit(plan: GridPlan, estimatedBytes: number, format: string, api: LimitApi = 'coverages'): void {
  checkSize({
    bytes: estimatedBytes,
    cells: plan.cells,
    fields: plan.fields.length,
    format,
    api,
    split: (parts) => suggestSplit(plan, parts, api),
  });
}

/** The same policy for answers made of several plans (EDR position and trajectory: one per point). */
export function checkSize(e: {
  bytes: number;
  cells: number;
  fields: number;
  format: string;
  api: LimitApi;
  split?: (parts: number) => string;
  /** The answer holds `bytes` in memory before writing (checked against heldLimitBytes()). */
  held?: string;
}): void {
  const limit = e.held ? heldLimitBytes() : coverageLimitBytes();
  if (e.bytes <= limit) return;
  const parts = Math.ceil(e.bytes / limit);
  const split = e.split?.(parts) ?? (e.api === 'edr' ? 'ask for fewer points or a shorter time interval' : 'split it');
  const fewer = FEWER[e.api];
  const what = e.held
    ? `This answer would hold about ${humanBytes(e.bytes)} in memory (${e.cells.toLocaleString('en')} cells × ${e.fields} field${e.fields > 1 ? 's' : ''}) ${e.held}, ` +
      `over this server's limit of ${humanBytes(limit)} for answers that need every row before the first byte.`
    : `This ${e.api === 'coverages' ? 'coverage' : 'answer'} would be about ${humanBytes(e.bytes)} as ${e.format} (${e.cells.toLocaleString('en')} cells × ${e.fields} field${e.fields > 1 ? 's' : ''}), ` +
      `over this server's limit of ${humanBytes(limit)} per answer.`;
  throw new ResponseTooLarge(`${what} ${split[0]!.toUpperCase()}${split.slice(1)}; ${fewer}`);
}
