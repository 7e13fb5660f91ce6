/**
 * Which collection a file belongs to, decided from its path before it is read where possible:
 * a configured source glob, then the Argo GDAC layout (one collection per file family across all
 * floats), then its folder (homogeneous files of one folder are one collection), else the file.
 */
import type { CollectionConfig } from '../config/collection-schema.js';
import { globToRegExp } from '../core/glob.js';

/** Collection ids: the file or folder name with every character outside [A-Za-z0-9_-] replaced by '-'. */
export function collectionIdFor(relPath: string, isFolder: boolean): string {
  const name = isFolder
    ? relPath
    : relPath.replace(/^.*\//, '').replace(/\.(nc4?|nc3|cdf|netcdf|h5|hdf5?|he5|bag|tiff?|zarr)$/i, '');
  return name.replace(/[^A-Za-z0-9_-]/g, '-');
}

export interface ArgoFamily {
  /** Collection id suffix, e.g. argo-profiles. */
  id: string;
  title: string;
  description: string;
}

const FAMILIES: Record<string, ArgoFamily> = {
  profiles: {
    id: 'argo-profiles',
    title: 'Argo core profiles (single-cycle files)',
    description:
      'Every core (temperature, salinity, pressure) profile of every float, one per cycle file (profiles/R*.nc, D*.nc of the GDAC).',
  },
  'bgc-profiles': {
    id: 'argo-bgc-profiles',
    title: 'Argo BGC profiles (single-cycle files)',
    description: 'Biogeochemical profiles of every BGC float, one per cycle file (profiles/BR*.nc, BD*.nc).',
  },
  'synthetic-profiles': {
    id: 'argo-synthetic-profiles',
    title: 'Argo synthetic profiles (single-cycle files)',
    description: 'Synthetic (core and BGC merged) profiles, one per cycle file (profiles/SR*.nc, SD*.nc).',
  },
  prof: {
    id: 'argo-prof',
    title: 'Argo core profiles (per-float files)',
    description: 'Every profile of every float from the per-float <WMO>_prof.nc files.',
  },
  sprof: {
    id: 'argo-sprof',
    title: 'Argo synthetic profiles (per-float files)',
    description: 'Synthetic BGC profiles from the per-float <WMO>_Sprof.nc files.',
  },
  bprof: {
    id: 'argo-bprof',
    title: 'Argo BGC profiles (per-float files)',
    description: 'BGC profiles from the per-float <WMO>_Bprof.nc files.',
  },
  traj: {
    id: 'argo-traj',
    title: 'Argo trajectories',
    description: 'The trajectory of every float (<WMO>_Rtraj.nc, <WMO>_Dtraj.nc).',
  },
  'bgc-traj': {
    id: 'argo-bgc-traj',
    title: 'Argo BGC trajectories',
    description: 'BGC trajectories (<WMO>_BRtraj.nc, <WMO>_BDtraj.nc).',
  },
};

/** Argo GDAC paths: dac/<centre>/<wmo>/[profiles/]<file>. */
const GDAC = /^(?:(.*)\/)?dac\/[^/]+\/(\d{5,7})\/(profiles\/)?([^/]+)$/;

/** The Argo file family of a GDAC path, 'metadata' for _meta/_tech files, undefined outside the layout. */
function argoFamily(rel: string): { family: ArgoFamily | 'metadata'; prefix: string } | undefined {
  const m = GDAC.exec(rel);
  if (!m) return undefined;
  const [, prefix = '', wmo, inProfiles, name = ''] = m;
  const pre = prefix ? `${prefix.replace(/[^A-Za-z0-9_-]/g, '-')}-` : '';
  if (inProfiles) {
    const p = /^([BSM]?)[RD]\d+_\d+D?\.nc$/i.exec(name);
    if (!p) return undefined;
    const k = p[1]!.toUpperCase();
    const family =
      k === 'B'
        ? FAMILIES['bgc-profiles']!
        : k === 'S'
          ? FAMILIES['synthetic-profiles']!
          : k === ''
            ? FAMILIES['profiles']!
            : undefined;
    return family ? { family, prefix: pre } : undefined;
  }
  const f = new RegExp(`^${wmo}_(prof|Sprof|Bprof|Rtraj|Dtraj|BRtraj|BDtraj|meta|tech|Mprof)\\.nc$`).exec(name);
  if (!f) return undefined;
  const kind = f[1]!;
  if (kind === 'meta' || kind === 'tech') return { family: 'metadata', prefix: pre };
  const key =
    kind === 'prof'
      ? 'prof'
      : kind === 'Sprof'
        ? 'sprof'
        : kind === 'Bprof'
          ? 'bprof'
          : kind === 'Rtraj' || kind === 'Dtraj'
            ? 'traj'
            : kind === 'BRtraj' || kind === 'BDtraj'
              ? 'bgc-traj'
              : undefined;
  return key ? { family: FAMILIES[key]!, prefix: pre } : undefined;
}

/** The family description of a collection id made by the GDAC rule, if it is one. */
export function familyOf(id: string): ArgoFamily | undefined {
  return Object.values(FAMILIES).find((f) => id === f.id || id.endsWith(`-${f.id}`));
}

/** How a file's collection is chosen before reading it. */
export type PathRule =
  | { rule: 'config'; id: string; config: CollectionConfig }
  | { rule: 'family'; id: string }
  | { rule: 'metadata' }
  | { rule: 'folder'; folder: string };

export class Grouping {
  private patterns: Array<{ config: CollectionConfig; res: RegExp[] }>;

  constructor(public configs: CollectionConfig[]) {
    this.patterns = configs.map((config) => ({ config, res: [config.source].flat().map(globToRegExp) }));
  }

  /** New configs with the same ids and sources (titles, licences, access…): files keep their collections. */
  replace(configs: CollectionConfig[]): void {
    this.configs = configs;
    this.patterns = configs.map((config) => ({ config, res: [config.source].flat().map(globToRegExp) }));
  }

  /** The path rule of a file relative to its data root. */
  ruleFor(rel: string): PathRule {
    for (const { config, res } of this.patterns)
      if (res.some((r) => r.test(rel))) return { rule: 'config', id: config.id, config };
    const a = argoFamily(rel);
    if (a) return a.family === 'metadata' ? { rule: 'metadata' } : { rule: 'family', id: `${a.prefix}${a.family.id}` };
    const i = rel.lastIndexOf('/');
    return { rule: 'folder', folder: i < 0 ? '' : rel.slice(0, i) };
  }

  configFor(id: string): CollectionConfig | undefined {
    return this.configs.find((c) => c.id === id);
  }
}
