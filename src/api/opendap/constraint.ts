/**
 * DAP2 constraint expressions over a grid dataset: a projection list (`lat,sst[0:1:3][10:20][30:2:40]`,
 * `sst.sst[…]` for a Grid's array alone, `sst.lon[…]` for one map) → the selection the DAP2
 * encoders write, each field's array planned through the shared grid planner (its hyperslabs as
 * index slabs). Selection clauses (`&…`) and functions apply to sequences: a grid has none.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import { planGrid } from '../../core/grid/plan.js';
import { dimsOf, type DapCoordinate, type DapDataset, type DapField } from '../../encoders/dap2/dataset.js';
import type { DapSlab, Selected, SelectedField } from '../../encoders/dap2/response.js';

/** The constraint as a parameter name in errors. */
const CE = 'constraint expression';

interface Component {
  name: string;
  slabs: DapSlab[];
}

/** The raw query string, %-decoded (netCDF-C escapes brackets, other clients do not). */
export function constraintOf(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return '';
  const raw = url.slice(q + 1);
  try {
    return decodeURIComponent(raw.replace(/\+/g, '%20'));
  } catch {
    throw new InvalidParameterValue(CE, `'${raw}' is not valid %-encoding`);
  }
}

/** `[i]`, `[start:stop]` or `[start:stride:stop]` (stop inclusive). */
export function parseSlab(text: string, where: string): DapSlab {
  const parts = text.split(':').map((p) => p.trim());
  if (parts.length > 3 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new InvalidParameterValue(
      CE,
      `'[${text}]' in '${where}' is not a hyperslab: use [index], [start:stop] or [start:stride:stop] with whole numbers`,
    );
  }
  const n = parts.map(Number);
  if (n.length === 1) return { start: n[0]!, stride: 1, stop: n[0]! };
  if (n.length === 2) return { start: n[0]!, stride: 1, stop: n[1]! };
  return { start: n[0]!, stride: n[1]!, stop: n[2]! };
}

function parseProjection(text: string): Component[] {
  const out: Component[] = [];
  const re = /([^.[\]]+)((?:\[[^\]]*\])*)(?:\.|$)/y;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m || m[0].length === 0)
      throw new InvalidParameterValue(
        CE,
        `cannot parse '${text}' at '${text.slice(pos)}': expected name[start:stride:stop]… or name.member[…]`,
      );
    const name = m[1]!.replace(/^"|"$/g, '').trim();
    const slabs = [...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((b) => parseSlab(b[1]!, text));
    out.push({ name, slabs });
    pos = re.lastIndex;
  }
  if (out.length === 0 || out.length > 2)
    throw new InvalidParameterValue(CE, `'${text}' names no variable of this dataset`);
  return out;
}

function fullSlab(n: number): DapSlab {
  return { start: 0, stride: 1, stop: n - 1 };
}

export function checkSlab(slab: DapSlab, size: number, dim: string, where: string): void {
  if (slab.stride < 1) throw new InvalidParameterValue(CE, `'${where}': the stride on ${dim} must be at least 1`);
  if (slab.start > slab.stop)
    throw new InvalidParameterValue(CE, `'${where}': start ${slab.start} is after stop ${slab.stop} on ${dim}`);
  if (slab.stop >= size)
    throw new InvalidParameterValue(
      CE,
      `'${where}': index ${slab.stop} is past the last index (${size - 1}) of ${dim}`,
    );
}

/** Slabs of a variable: given (one per dimension) or whole. */
function slabsFor(dataset: DapDataset, dims: string[], given: DapSlab[], where: string): DapSlab[] {
  const sizes = dims.map((d) => dataset.model.axes.find((a) => a.dim === d)!.values.length);
  if (given.length === 0) return sizes.map(fullSlab);
  if (given.length !== dims.length)
    throw new InvalidParameterValue(
      CE,
      `'${where}' gives ${given.length} hyperslab${given.length > 1 ? 's' : ''} for ${dims.length} dimension${dims.length > 1 ? 's' : ''} (${dims.join(', ')})`,
    );
  given.forEach((s, i) => checkSlab(s, sizes[i]!, dims[i]!, where));
  return given;
}

/** The selection a constraint asks for; an empty projection list selects everything. */
export function selectFromConstraint(dataset: DapDataset, constraint: string): Selected[] {
  const [projection = '', ...clauses] = constraint.split('&');
  const selections = clauses.filter((c) => c.trim() !== '');
  if (selections.length > 0) {
    throw new InvalidParameterValue(
      CE,
      `selection clauses ('&${selections[0]}') apply to sequences; this dataset holds arrays and grids: select cells with hyperslabs, e.g. ${dataset.variables.at(-1)?.name ?? 'var'}[0:1:0]`,
    );
  }
  if (projection.includes('('))
    throw new InvalidParameterValue(CE, `server functions are not supported ('${projection}')`);
  const coordinates = new Map<string, DapSlab>();
  const fields = new Map<string, SelectedField>();
  const items = projection
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const names = dataset.variables.map((v) => v.name);
  const find = (name: string) => dataset.variables.find((v) => v.name === name);
  const fieldEntry = (v: DapField): SelectedField => {
    let f = fields.get(v.name);
    if (!f) {
      const sizes = v.field.dims.map((d) => dataset.model.axes.find((a) => a.dim === d)!.values.length);
      f = {
        kind: 'field',
        variable: v,
        slabs: sizes.map(fullSlab),
        mapSlabs: sizes.map(fullSlab),
        array: false,
        maps: sizes.map(() => false),
      };
      fields.set(v.name, f);
    }
    return f;
  };
  if (items.length === 0) {
    for (const v of dataset.variables) {
      if (v.kind === 'coordinate') coordinates.set(v.name, fullSlab(v.values.length));
      else {
        const f = fieldEntry(v);
        f.array = true;
        f.maps = f.maps.map(() => v.maps !== undefined);
      }
    }
  }
  for (const text of items) {
    const [head, member] = parseProjection(text);
    const v = find(head!.name);
    if (!v)
      throw new InvalidParameterValue(
        CE,
        `no variable '${head!.name}' in this dataset; variables: ${names.join(', ')}`,
      );
    if (v.kind === 'coordinate') {
      if (member)
        throw new InvalidParameterValue(CE, `'${text}': ${v.name} is an array, it has no member '${member.name}'`);
      const [slab] = slabsFor(dataset, dimsOf(dataset.model, v), head!.slabs, text);
      coordinates.set(v.name, slab!);
      continue;
    }
    const f = fieldEntry(v);
    const dims = v.field.dims;
    if (!member) {
      const slabs = slabsFor(dataset, dims, head!.slabs, text);
      f.array = true;
      f.slabs = slabs;
      if (v.maps) {
        f.maps = f.maps.map(() => true);
        f.mapSlabs = slabs;
      }
      continue;
    }
    if (head!.slabs.length > 0)
      throw new InvalidParameterValue(CE, `'${text}': put the hyperslab on the member (${v.name}.${member.name}[…])`);
    if (member.name === v.name) {
      f.array = true;
      f.slabs = slabsFor(dataset, dims, member.slabs, text);
      continue;
    }
    const d = v.maps?.findIndex((m: DapCoordinate) => m.name === member.name) ?? -1;
    if (d < 0)
      throw new InvalidParameterValue(
        CE,
        `'${text}': ${v.name} has no member '${member.name}'; its members: ${[v.name, ...(v.maps ?? []).map((m) => m.name)].join(', ')}`,
      );
    f.maps[d] = true;
    f.mapSlabs[d] = slabsFor(dataset, [dims[d]!], member.slabs, text)[0]!;
  }
  const out: Selected[] = [];
  for (const v of dataset.variables) {
    if (v.kind === 'coordinate') {
      const slab = coordinates.get(v.name);
      if (slab) out.push({ kind: 'coordinate', variable: v, slab });
      continue;
    }
    const f = fields.get(v.name);
    if (!f) continue;
    if (f.array) {
      f.plan = planGrid(dataset.model, {
        properties: [v.field.name],
        slabs: f.slabs.map((s, i) => ({ axis: dims(v)[i]!, ...s, parameter: CE })),
      });
    }
    out.push(f);
  }
  return out;
}

function dims(v: DapField): string[] {
  return v.field.dims;
}
