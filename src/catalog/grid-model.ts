import { join } from 'node:path';
import type { Logger } from 'pino';
import { DataSourceError } from '../core/errors.js';
import { aggregateAlongTime, gridFromReader, type BuiltGrid } from '../core/grid/model.js';
import { summarizeGrid, type GridSummary } from '../core/grid/summary.js';
import type { GridModel } from '../core/grid/types.js';
import { openReader } from '../readers/registry.js';
import type { Collection } from './collection.js';

/** Grid models kept in memory: coordinates only, a few KB each. */
const MAX_CACHED = 64;
const cache = new Map<string, Promise<GridModel>>();

async function gridOfFile(abs: string, rel: string): Promise<BuiltGrid | { reason: string }> {
  const reader = await openReader(abs);
  try {
    return await gridFromReader(reader, { path: abs, rel });
  } finally {
    await reader.close().catch(() => undefined);
  }
}

async function load(c: Collection, log: Pick<Logger, 'warn'> | undefined): Promise<GridModel> {
  let sources: Array<{ file: string; summary?: GridSummary }> =
    c.grid && c.grid.length === c.files.length ? [...c.grid] : c.files.map((file) => ({ file }));
  if (sources.length > 1 && sources.some((s) => !s.summary)) {
    // No summaries from discovery (an old index cache): make them now, once.
    sources = await Promise.all(
      sources.map(async (s) => {
        const built = await gridOfFile(join(c.root, s.file), s.file);
        return 'reason' in built ? { file: s.file } : { file: s.file, summary: summarizeGrid(built.model) };
      }),
    );
  }
  const firstTime = (s: { summary?: GridSummary }) => s.summary?.time?.values[0] ?? Infinity;
  sources.sort((a, b) => firstTime(a) - firstTime(b));
  const [first, ...rest] = sources;
  if (!first) throw new DataSourceError(c.id, 'the collection has no files');
  let built: BuiltGrid | { reason: string };
  try {
    built = await gridOfFile(join(c.root, first.file), first.file);
  } catch (err) {
    throw new DataSourceError(c.id, `${first.file}: ${(err as Error).message}`);
  }
  if ('reason' in built) throw new DataSourceError(c.id, `${first.file}: ${built.reason}`);
  const others = rest.flatMap((s) =>
    s.summary ? [{ path: join(c.root, s.file), rel: s.file, summary: s.summary }] : [],
  );
  const { model, warnings } = aggregateAlongTime(built, others);
  for (const w of warnings) log?.warn({ collection: c.id }, `collection '${c.id}': ${w}`);
  return model;
}

/**
 * The grid model of a grid collection, built on first use (x/y from the earliest file, time steps
 * from discovery's summaries) and kept; a failure is not kept, so a fixed file is picked up.
 */
export function collectionGrid(c: Collection, log?: Pick<Logger, 'warn'>): Promise<GridModel> {
  const key = `${c.root}\u0000${c.id}\u0000${c.files.length}`;
  let p = cache.get(key);
  if (p) {
    cache.delete(key);
    cache.set(key, p);
    return p;
  }
  p = load(c, log);
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  return p;
}
