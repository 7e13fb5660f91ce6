import type { CollectionStats, ItemDraft, JsonType } from './types.js';

/** Distinct values kept per string property for summaries; past this a property has no list. */
const MAX_DISTINCT = 24;
/** Properties never summarised as value lists: they are (nearly) unique per item. */
const NO_LIST = new Set(['datetime', 'start_datetime', 'end_datetime', 'created', 'updated', 'title', 'description']);

export function emptyStats(): CollectionStats {
  return { count: 0, types: {}, values: {}, ranges: {} };
}

function typeOf(v: unknown): JsonType | undefined {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return undefined;
}

/** The type of a property seen as `prev` and then as `t`: integers and numbers make numbers, any other mix strings. */
function widenType(prev: JsonType | undefined, t: JsonType): JsonType {
  if (prev === undefined || prev === t) return t;
  return (prev === 'integer' && t === 'number') || (prev === 'number' && t === 'integer') ? 'number' : 'string';
}

/** Queryable property names and types over several collections' stats (the queryables of a search across them). */
export function unionTypes(stats: Iterable<CollectionStats>): Record<string, JsonType> {
  const out: Record<string, JsonType> = {};
  for (const s of stats) for (const [k, t] of Object.entries(s.types)) out[k] = widenType(out[k], t);
  return out;
}

/** Fold one item into the stats of its source file. */
export function addItem(s: CollectionStats, item: ItemDraft): void {
  s.count++;
  for (const [k, v] of Object.entries(item.properties)) {
    const t = typeOf(v);
    if (!t) {
      if (!(k in s.types) && v !== null) s.types[k] = 'string';
      continue;
    }
    s.types[k] = widenType(s.types[k], t);
    if (t === 'number' || t === 'integer') {
      const r = s.ranges[k];
      if (!r) s.ranges[k] = [v as number, v as number];
      else {
        if ((v as number) < r[0]) r[0] = v as number;
        if ((v as number) > r[1]) r[1] = v as number;
      }
    } else if (t === 'string' && !NO_LIST.has(k)) {
      const list = s.values[k];
      if (list === null) continue;
      if (list === undefined) s.values[k] = [v as string];
      else if (!list.includes(v as string)) {
        if (list.length >= MAX_DISTINCT) s.values[k] = null;
        else list.push(v as string);
      }
    }
  }
  if (Number.isFinite(item.start) || Number.isFinite(item.end)) {
    s.timed = (s.timed ?? 0) + 1;
    const a = Number.isFinite(item.start) ? item.start : item.end;
    const b = Number.isFinite(item.end) ? item.end : item.start;
    s.time = s.time ? [Math.min(s.time[0], a), Math.max(s.time[1], b)] : [a, b];
    if (b - a > (s.maxSpan ?? 0)) s.maxSpan = b - a;
  }
  if (item.bbox) {
    const [w, so, e, n] = item.bbox;
    s.bbox = s.bbox
      ? [Math.min(s.bbox[0], w), Math.min(s.bbox[1], so), Math.max(s.bbox[2], e), Math.max(s.bbox[3], n)]
      : [w, so, e, n];
  }
}

/** Union of two stats (per-file stats into a collection's). */
export function mergeStats(a: CollectionStats, b: CollectionStats): CollectionStats {
  const out: CollectionStats = {
    count: a.count + b.count,
    types: { ...a.types },
    values: { ...a.values },
    ranges: { ...a.ranges },
  };
  for (const [k, t] of Object.entries(b.types)) out.types[k] = widenType(out.types[k], t);
  for (const [k, list] of Object.entries(b.values)) {
    const cur = out.values[k];
    if (cur === null || list === null) out.values[k] = null;
    else if (cur === undefined) out.values[k] = [...list];
    else {
      const merged = [...new Set([...cur, ...list])];
      out.values[k] = merged.length > MAX_DISTINCT ? null : merged;
    }
  }
  for (const [k, r] of Object.entries(b.ranges)) {
    const cur = out.ranges[k];
    out.ranges[k] = cur ? [Math.min(cur[0], r[0]), Math.max(cur[1], r[1])] : [r[0], r[1]];
  }
  const time =
    a.time && b.time
      ? ([Math.min(a.time[0], b.time[0]), Math.max(a.time[1], b.time[1])] as [number, number])
      : (a.time ?? b.time);
  if (time) out.time = time;
  const span = Math.max(a.maxSpan ?? 0, b.maxSpan ?? 0);
  if (span > 0) out.maxSpan = span;
  const bbox =
    a.bbox && b.bbox
      ? ([
          Math.min(a.bbox[0], b.bbox[0]),
          Math.min(a.bbox[1], b.bbox[1]),
          Math.max(a.bbox[2], b.bbox[2]),
          Math.max(a.bbox[3], b.bbox[3]),
        ] as CollectionStats['bbox'])
      : (a.bbox ?? b.bbox);
  if (bbox) out.bbox = bbox;
  if (a.files !== undefined || b.files !== undefined) out.files = (a.files ?? 0) + (b.files ?? 0);
  if (a.timed !== undefined || b.timed !== undefined) out.timed = (a.timed ?? 0) + (b.timed ?? 0);
  return out;
}
