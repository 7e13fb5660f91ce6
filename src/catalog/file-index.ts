import { createHash } from 'node:crypto';
import { DecodedReader } from '../cf/read.js';
import { openReader, type FileFormat } from '../readers/registry.js';
import { sniffFormat } from '../readers/registry.js';
import { MemorySource } from '../readers/source/memory.js';
import type { GridSummary } from '../core/grid/summary.js';
import type { MetadataTime } from '../cf/metadata-time.js';
import type { Attrs } from '../readers/types.js';
import { extract } from './extract/index.js';
import { profileLevels } from './profile-data.js';
import type { CollectionKind, ParameterInfo } from './extract/types.js';
import type { FeatureRecord } from './feature.js';
import type { FoundFile } from './walk.js';

/** Global attributes worth keeping for collection metadata (ACDD and friends). */
const KEPT_ATTRS = [
  'title',
  'summary',
  'comment',
  'keywords',
  'license',
  'institution',
  'source',
  'references',
  'creator_name',
  'project',
  'platform',
  'featureType',
  'Conventions',
  'data_type',
  'acknowledgement',
  'naming_authority',
  'id',
];

/** What discovery keeps of one file: enough to list and query it without opening it again. Serialised in the cache. */
export interface FileIndex {
  rel: string;
  size: number;
  mtimeMs: number;
  format?: FileFormat;
  /** Same format, variable names and dimension names ⇒ same signature (folder aggregation). */
  signature?: string;
  attrs?: Record<string, string>;
  kind?: CollectionKind;
  features?: FeatureRecord[];
  parameters?: ParameterInfo[];
  bbox?: [number, number, number, number];
  timeSpan?: [number, number];
  /** Grid files without a time axis: the time their metadata names. */
  dataTime?: MetadataTime;
  /** Grid files: axes, CRS, time steps (what the Coverages API describes and aggregates with). */
  grid?: GridSummary;
  /** Why the file is not served (unreadable, metadata only, unrecognised). */
  skip?: string;
}

function keptAttrs(attrs: Attrs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of KEPT_ATTRS) {
    const v = attrs[k];
    if (typeof v === 'string' && v.trim()) out[k] = v.trim();
  }
  return out;
}

/** How the caller already read the file: its format, and for small files the whole of it. */
export interface Preread {
  format: FileFormat | undefined;
  bytes?: Uint8Array;
}

/** Open one file, classify it and extract its features; never throws (a bad file becomes a `skip`). */
export async function indexFile(found: FoundFile, preread?: Preread): Promise<FileIndex> {
  const base = { rel: found.rel, size: found.size, mtimeMs: found.mtimeMs };
  let format: FileFormat | undefined;
  try {
    format = preread ? preread.format : await sniffFormat(found.abs);
  } catch (err) {
    return { ...base, skip: `cannot read: ${(err as Error).message}` };
  }
  if (!format) return { ...base, skip: 'not a NetCDF, HDF5 or GeoTIFF file, nor a Zarr store' };
  let reader;
  try {
    const source = preread?.bytes
      ? new MemorySource(`${found.abs}:${found.size}:${found.mtimeMs}`, preread.bytes)
      : undefined;
    reader = await openReader(found.abs, format, source);
  } catch (err) {
    return { ...base, format, skip: `cannot open: ${(err as Error).message}` };
  }
  try {
    const info = await reader.info();
    const signature = createHash('sha1')
      .update(format)
      .update(JSON.stringify(info.variables.map((v) => [v.name, v.dims]).sort()))
      .update(JSON.stringify(Object.keys(info.dims).sort()))
      .digest('hex')
      .slice(0, 16);
    const data = new DecodedReader(reader, new Map(info.variables.map((v) => [v.name, v])));
    const result = await extract({ relPath: found.rel, info, data });
    const common = { ...base, format, signature, attrs: keptAttrs(info.attrs) };
    if ('skip' in result) return { ...common, skip: result.skip };
    if (result.kind === 'profile' && info.dims['N_PROF'] && info.dims['N_LEVELS']) {
      const levels = await profileLevels(info, data, [...new Set(['PRES', ...result.parameters.map((p) => p.name)])]);
      for (const f of result.features) {
        const blob = levels.get(f.source.index);
        if (blob) f.levels = blob;
      }
    }
    return {
      ...common,
      kind: result.kind,
      features: result.features,
      parameters: result.parameters,
      ...(result.bbox ? { bbox: result.bbox } : {}),
      ...(result.timeSpan ? { timeSpan: result.timeSpan } : {}),
      ...(result.dataTime ? { dataTime: result.dataTime } : {}),
      ...(result.grid ? { grid: result.grid } : {}),
    };
  } catch (err) {
    return { ...base, format, skip: `cannot index: ${(err as Error).message}` };
  } finally {
    await reader.close().catch(() => undefined);
  }
}
