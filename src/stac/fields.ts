/** The fields extension's selection: dotted paths into an item (`properties.datetime`, `assets`). */
export interface Fields {
  include?: string[];
  exclude?: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What every item keeps whatever is asked: without them it is no longer a GeoJSON Feature or a STAC item. */
const ALWAYS = ['type', 'id', 'stac_version'];

function copyPath(from: Json, to: Json, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in from)) return;
  if (rest.length === 0) {
    to[head] = from[head];
    return;
  }
  const child = from[head];
  if (!isObject(child)) return;
  const target = isObject(to[head]) ? (to[head] as Json) : (to[head] = {});
  copyPath(child, target as Json, rest);
}

function deletePath(obj: Json, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined || !(head in obj)) return;
  if (rest.length === 0) {
    delete obj[head];
    return;
  }
  const child = obj[head];
  if (isObject(child)) deletePath(child, rest);
}

/** `a.b` lies under `a` (or is `a`). */
const under = (path: string, parent: string) => path === parent || path.startsWith(`${parent}.`);

/**
 * Apply include/exclude to an item. With `include`, only those paths (and type, id, stac_version)
 * remain; `exclude` then removes paths. Where the two meet, the more specific path wins (the
 * fields extension): `-properties,+properties.cycle_number` keeps only that property, and
 * `properties,-properties.datetime` drops only datetime; the same path in both is included.
 */
export function applyFields(item: Json, f: Fields): Json {
  const include = f.include ?? [];
  let out: Json;
  if (include.length > 0) {
    out = {};
    for (const p of [...ALWAYS, ...include]) copyPath(item, out, p.split('.'));
  } else {
    out = structuredClone(item);
  }
  for (const p of f.exclude ?? []) {
    if (ALWAYS.includes(p) || include.includes(p)) continue;
    deletePath(out, p.split('.'));
    // An include below the excluded path is more specific: it comes back.
    for (const inner of include) if (under(inner, p)) copyPath(item, out, inner.split('.'));
  }
  return out;
}

export function hasFields(f: Fields | undefined): f is Fields {
  return !!f && ((f.include?.length ?? 0) > 0 || (f.exclude?.length ?? 0) > 0);
}
