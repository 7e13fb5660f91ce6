/**
 * The time of a dataset that has no time axis (a GeoTIFF, a single-time NetCDF field without a
 * time coordinate), read from the file's own metadata — never from the file system, whose dates
 * change with every copy.
 */
import type { Attrs } from '../readers/types.js';
import { parseTimeUnits, toEpochMillis } from './time.js';

export interface MetadataTime {
  /** The nominal instant of the data, when the metadata names one. */
  instant?: number;
  /** The span the data cover (ACDD time_coverage_start/end), when given. */
  start?: number;
  end?: number;
  /** Which metadata it came from, for logs and documentation. */
  source: string;
}

const text = (v: Attrs[string] | undefined): string | undefined =>
  typeof v === 'string' && v.trim() ? v.trim() : undefined;

/**
 * An ISO 8601 date-time as ACDD writes it: extended (`2016-07-06T19:00:00Z`) or basic
 * (`20160706T190000Z`); a date alone is its midnight; no zone means UTC (ACDD recommends UTC).
 */
function parseIsoMetadataTime(value: string): number | undefined {
  const m =
    /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
      value.trim(),
    );
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h ?? 0),
    Number(mi ?? 0),
    Number(s ?? 0),
    frac ? Math.round(Number(`0.${frac}`) * 1000) : 0,
  );
  if (!Number.isFinite(ms) || new Date(ms).getUTCDate() !== Number(d)) return undefined;
  let offset = 0;
  if (zone && !/^(z|utc)$/i.test(zone)) {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offset = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
  }
  return ms - offset;
}

/**
 * GDAL's record of a NetCDF dimension the raster was cut from (`NETCDF_DIM_EXTRA={time}`,
 * `NETCDF_DIM_time_VALUES=1120694400`, `time#units=seconds since 1981-01-01`): the time
 * coordinate's values, decoded. Undefined when there is none or its units are not CF time units.
 */
function gdalNetcdfTimes(attrs: Attrs): number[] | undefined {
  const extra = text(attrs['NETCDF_DIM_EXTRA']);
  if (!extra) return undefined;
  for (const dim of extra
    .replace(/[{}]/g, '')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean)) {
    const units = text(attrs[`${dim}#units`]);
    const values = text(attrs[`NETCDF_DIM_${dim}_VALUES`]);
    if (!units || !values || !/\bsince\b/i.test(units)) continue;
    try {
      const parsed = parseTimeUnits(units, text(attrs[`${dim}#calendar`]));
      const times = values
        .replace(/[{}]/g, '')
        .split(',')
        .map((v) => toEpochMillis(Number(v), parsed));
      if (times.length > 0 && times.every(Number.isFinite)) return times;
    } catch {
      // Not a time dimension after all (units that only look like time units).
    }
  }
  return undefined;
}

/** TIFF 6.0 DateTime, `YYYY:MM:DD HH:MM:SS` (no zone: taken as UTC, what GDAL and most writers use). */
function tiffDateTime(value: string | undefined): number | undefined {
  const m = value && /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value);
  return m ? parseIsoMetadataTime(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : undefined;
}

/**
 * The data's time from its metadata, in order of trust: the time coordinate GDAL kept from a
 * NetCDF source (the nominal instant), the ACDD coverage span, the TIFF DateTime tag (the image's
 * own date, TIFF 6.0). Undefined when the file names no time at all.
 */
export function metadataTime(attrs: Attrs): MetadataTime | undefined {
  const times = gdalNetcdfTimes(attrs);
  const start = parseIsoMetadataTime(text(attrs['time_coverage_start']) ?? '');
  const end = parseIsoMetadataTime(text(attrs['time_coverage_end']) ?? '');
  const span = start !== undefined && end !== undefined && start <= end ? { start, end } : {};
  if (times) {
    const lo = Math.min(...times);
    const hi = Math.max(...times);
    if (lo === hi) return { instant: lo, ...span, source: 'NETCDF_DIM time coordinate' };
    return {
      start: Math.min(lo, span.start ?? lo),
      end: Math.max(hi, span.end ?? hi),
      source: 'NETCDF_DIM time coordinate',
    };
  }
  if (span.start !== undefined)
    return span.start === span.end
      ? { instant: span.start, source: 'ACDD time_coverage' }
      : { ...span, source: 'ACDD time_coverage_start/end' };
  const tiff = tiffDateTime(text(attrs['TIFFTAG_DATETIME']));
  if (tiff !== undefined) return { instant: tiff, source: 'TIFF DateTime tag' };
  return undefined;
}
