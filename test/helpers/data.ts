import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared, read-only test data set: $ODAS_SHARED_DATA, else ../shared/data next to the repository. */
export const sharedDataRoot = process.env['ODAS_SHARED_DATA'] ?? path.resolve(repoRoot, '..', 'shared', 'data');

/** Absolute path of a file of the shared data set, e.g. sharedData('argo/1900857_prof.nc'). */
export function sharedData(relPath: string): string {
  return path.join(sharedDataRoot, relPath);
}

/** One reference entry of shared/data/reference.json (values CF-decoded, null where missing). */
export interface ReferenceEntry {
  file: string;
  kind: string;
  format: string;
  variable?: string;
  indices?: Record<string, number>;
  coordinates?: Record<string, number | string | null>;
  values?: Record<string, number | string | null>;
  value?: number | string | null;
  other_variables_same_cell?: Record<string, number | null>;
  [key: string]: unknown;
}

let referenceCache: ReferenceEntry[] | undefined;

/** Reference entries of one data file, as listed in shared/data/reference.json. */
export function referenceEntries(relPath: string): ReferenceEntry[] {
  referenceCache ??= (JSON.parse(readFileSync(sharedData('reference.json'), 'utf8')) as { entries: ReferenceEntry[] })
    .entries;
  return referenceCache.filter((e) => e.file === relPath);
}
