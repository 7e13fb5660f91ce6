// "A new file is queryable ≤ 30 s after it is written, a removed file gone ≤ 30 s": one profile
// written into an existing float folder of the served tree, far from every other profile (85°N:
// generated floats stay south of 75°N), found by a tiny bbox in the collection or in /stac/search.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { planTree, profileFactory, writeProfileFile, type PlannedProfile } from './gdac-tree.js';

const BOX = '-0.5,84.5,0.5,85.5';

export interface Freshness {
  /** Seconds from the write until a query returns it; undefined when not seen within the limit. */
  appearSeconds: number | undefined;
  /** Seconds from the unlink until queries stop returning it; undefined when never seen or not gone. */
  goneSeconds: number | undefined;
  limitSeconds: number;
  file: string;
  /** Feature id the server gave it, when seen. */
  id: string | undefined;
}

interface Page {
  numberMatched?: number;
  features?: Array<{ id?: string | number }>;
}

/** The new profile's id as either query sees it, or undefined (errors count as not seen). */
async function seen(base: string, collection: string): Promise<string | undefined> {
  const urls = [
    `${base}/collections/${encodeURIComponent(collection)}/items?bbox=${BOX}&limit=5`,
    `${base}/stac/search?bbox=${BOX}&limit=5`,
  ];
  for (const url of urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) {
        await res.arrayBuffer();
        continue;
      }
      const page = (await res.json()) as Page;
      const f = page.features?.[0];
      if (f) return String(f.id ?? '?');
    } catch {
      // a slow or failed answer is "not seen yet"
    }
  }
  return undefined;
}

async function pollUntil(pred: () => Promise<boolean>, limitS: number): Promise<number | undefined> {
  const t0 = performance.now();
  while ((performance.now() - t0) / 1000 < limitS) {
    if (await pred()) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

/** The extra profile: the first float's folder, cycle 999 (no generated float reaches it, so the file name and the feature id are new). */
function extraProfile(files: number): PlannedProfile {
  const first = planTree(files).next().value;
  if (!first) throw new Error('empty tree');
  return {
    ...first,
    cycle: 999,
    mode: 'D',
    lon: 0.123,
    lat: 85,
    juld: 27_500,
    rel: first.rel.replace(/_\d{3}\.nc$/, '_999.nc').replace(/\/R(\d+_)/, '/D$1'),
  };
}

/** Removes the extra file an interrupted run may have left in the tree, before a server indexes it. */
export async function removeLeftover(treeDir: string, files: number): Promise<void> {
  await rm(join(treeDir, extraProfile(files).rel), { force: true });
}

export async function freshness(
  base: string,
  treeDir: string,
  files: number,
  collection: string,
  limitS = 60,
): Promise<Freshness> {
  const factory = await profileFactory();
  const profile = extraProfile(files);
  const file = join(treeDir, profile.rel);
  if (await seen(base, collection)) throw new Error(`something is already at ${BOX}: a stray profile at 85°N`);
  writeProfileFile(file, factory.bytes(profile));
  let id: string | undefined;
  const appearSeconds = await pollUntil(async () => (id = await seen(base, collection)) !== undefined, limitS);
  await rm(file, { force: true });
  const goneSeconds =
    appearSeconds === undefined
      ? undefined
      : await pollUntil(async () => (await seen(base, collection)) === undefined, limitS);
  return { appearSeconds, goneSeconds, limitSeconds: limitS, file: profile.rel, id };
}
