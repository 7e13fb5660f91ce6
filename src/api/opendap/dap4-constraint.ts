/**
 * DAP4 constraint expressions (the `dap4.ce` query parameter, DAP4 spec vol. 1 §8): variables by
 * name or fully qualified name separated by `;`, each with an optional index slab per dimension:
 * `[]` (all), `[i]`, `[start:stop]`, `[start:stride:stop]`, `[start:]` / `[start:stride:]` (to the
 * end); stop inclusive. Filters (`|`) and dimension constraints (`/dim=[…]`) apply to sequences and
 * shared-dimension rewrites this server does not offer: they are 400s that say so.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import type { DapSlab } from '../../encoders/dap2/response.js';
import type { Dap4Dataset } from '../../encoders/dap4/dataset.js';
import type { Dap4Item } from '../../encoders/dap4/dmr.js';

const CE = 'dap4.ce';

/**
 * A parameter value %-decoded until no escape is left: netCDF-C 4.9.0 escapes its constraint three
 * times (`[` arrives as `%25255b`). Names with a literal `%` followed by two hex digits do not occur.
 */
function decodeFully(value: string): string {
  let v = value;
  for (let i = 0; i < 4 && /%[0-9a-fA-F]{2}/.test(v); i++) {
    try {
      v = decodeURIComponent(v);
    } catch {
      throw new InvalidParameterValue(CE, `'${value}' is not valid %-encoding`);
    }
  }
  return v;
}

/** The DAP4 query parameters of a request URL. */
export function dap4Query(url: string): { ce?: string; checksums: boolean } {
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const raw = params.get(CE);
  const ce = raw === null ? undefined : decodeFully(raw);
  // netCDF-C checksums by default (4.9.0 always does): only an explicit false turns them off.
  const checksums = (params.get('dap4.checksum') ?? 'true').toLowerCase() !== 'false';
  return { ...(ce !== undefined ? { ce } : {}), checksums };
}

function parseSlab(text: string, size: number, dim: string, where: string): DapSlab {
  const t = text.trim();
  if (t === '') return { start: 0, stride: 1, stop: size - 1 };
  const parts = t.split(':').map((p) => p.trim());
  const bad = () =>
    new InvalidParameterValue(
      CE,
      `'[${text}]' in '${where}' is not an index slab: use [], [index], [start:stop], [start:stride:stop] or [start:stride:] with whole numbers`,
    );
  if (parts.length > 3) throw bad();
  // An empty last part runs to the end of the dimension.
  const last = parts.length > 1 && parts[parts.length - 1] === '' ? String(size - 1) : parts[parts.length - 1]!;
  const all = [...parts.slice(0, -1), last];
  if (all.some((p) => !/^\d+$/.test(p))) throw bad();
  const n = all.map(Number);
  const slab =
    n.length === 1
      ? { start: n[0]!, stride: 1, stop: n[0]! }
      : n.length === 2
        ? { start: n[0]!, stride: 1, stop: n[1]! }
        : { start: n[0]!, stride: n[1]!, stop: n[2]! };
  if (slab.stride < 1) throw new InvalidParameterValue(CE, `'${where}': the stride on ${dim} must be at least 1`);
  if (slab.start > slab.stop)
    throw new InvalidParameterValue(CE, `'${where}': start ${slab.start} is after stop ${slab.stop} on ${dim}`);
  if (slab.stop >= size)
    throw new InvalidParameterValue(
      CE,
      `'${where}': index ${slab.stop} is past the last index (${size - 1}) of ${dim}`,
    );
  return slab;
}

/** A name of the constraint: the leading `/` of the root group dropped, `\` escapes undone. */
function unescapeName(text: string): string {
  return text.trim().replace(/^\//, '').replace(/\\(.)/g, '$1');
}

/** The selection a constraint asks for, in dataset order; no constraint selects every variable whole. */
export function selectDap4(dataset: Dap4Dataset, ce: string | undefined): Dap4Item[] {
  const sizes = new Map(dataset.dims.map((d) => [d.name, d.size]));
  const whole = (dims: string[]) => dims.map((d) => ({ start: 0, stride: 1, stop: sizes.get(d)! - 1 }));
  const clauses = (ce ?? '')
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (clauses.length === 0) return dataset.variables.map((v) => ({ variable: v, slabs: whole(v.dims) }));
  const chosen = new Map<string, Dap4Item>();
  const names = dataset.variables.map((v) => v.name);
  for (const clause of clauses) {
    if (clause.includes('|'))
      throw new InvalidParameterValue(CE, `filters ('${clause}') apply to sequences; select cells with index slabs`);
    const m = /^((?:[^[\]\\=]|\\.)+)((?:\[[^\]]*\])*)$/.exec(clause);
    if (!m) {
      if (/^[^[]*=/.test(clause))
        throw new InvalidParameterValue(
          CE,
          `dimension constraints ('${clause}') are not supported: put the slab on each variable, e.g. /var[0:1:9]`,
        );
      throw new InvalidParameterValue(CE, `cannot parse '${clause}': expected /name or /name[start:stride:stop]…`);
    }
    const name = unescapeName(m[1]!);
    const v = dataset.variables.find((x) => x.name === name);
    if (!v)
      throw new InvalidParameterValue(CE, `no variable '${name}' in this dataset; variables: ${names.join(', ')}`);
    const given = [...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((b) => b[1]!);
    if (given.length > 0 && given.length !== v.dims.length)
      throw new InvalidParameterValue(
        CE,
        `'${clause}' gives ${given.length} slab${given.length > 1 ? 's' : ''} for ${v.dims.length} dimension${v.dims.length === 1 ? '' : 's'} (${v.dims.join(', ')})`,
      );
    const slabs =
      given.length === 0
        ? whole(v.dims)
        : given.map((g, i) => parseSlab(g, sizes.get(v.dims[i]!)!, v.dims[i]!, clause));
    chosen.set(v.name, { variable: v, slabs });
  }
  return dataset.variables.flatMap((v) => {
    const item = chosen.get(v.name);
    return item ? [item] : [];
  });
}
