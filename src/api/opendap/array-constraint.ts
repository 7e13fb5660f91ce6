/**
 * DAP2 constraint expressions over a dataset of plain arrays (the in-situ DSG arrays): a projection
 * list `PLATFORM_NUMBER[0:1:9],TEMP[0:1:9][0:2:99]`, one hyperslab per DAP2 dimension (a string
 * variable's string dimension is not one: it is always read whole). Selection clauses (`&…`) apply
 * to sequences, which these datasets are not: they are 400s that say how to slice instead.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import { dap2Dims, folded, type ArraySelection } from '../../encoders/dap2/arrays.js';
import type { DapSlab } from '../../encoders/dap2/response.js';
import type { Dap4Item } from '../../encoders/dap4/dmr.js';
import type { InSituDap } from './insitu.js';
import { checkSlab, parseSlab } from './constraint.js';

const CE = 'constraint expression';

export function selectArrays(dap: InSituDap, constraint: string): ArraySelection {
  const { dataset, stringDims, dap2Attrs, dap2Globals } = dap;
  const base = { dataset, stringDims, dap2Attrs, dap2Globals };
  const sizes = new Map(dataset.dims.map((d) => [d.name, d.size]));
  const whole = (dims: string[]): DapSlab[] => dims.map((d) => ({ start: 0, stride: 1, stop: sizes.get(d)! - 1 }));
  const [projection = '', ...clauses] = constraint.split('&');
  const selections = clauses.filter((c) => c.trim() !== '');
  const example = `${dataset.variables.find((v) => v.dims.length > 1)?.name ?? dataset.variables[0]?.name ?? 'var'}[0:1:9]`;
  if (selections.length > 0)
    throw new InvalidParameterValue(
      CE,
      `selection clauses ('&${selections[0]}') apply to sequences; this dataset holds CF DSG arrays: select features and levels with hyperslabs, e.g. ${example}, or filter rows with ERDDAP's tabledap`,
    );
  if (projection.includes('('))
    throw new InvalidParameterValue(CE, `server functions are not supported ('${projection}')`);
  const items = projection
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (items.length === 0)
    return { ...base, items: dataset.variables.map((v) => ({ variable: v, slabs: whole(v.dims) })) };
  const chosen = new Map<string, Dap4Item>();
  for (const text of items) {
    const m = /^([^[\]]+)((?:\[[^\]]*\])*)$/.exec(text);
    if (!m) throw new InvalidParameterValue(CE, `cannot parse '${text}': expected name or name[start:stride:stop]…`);
    const name = m[1]!.replace(/^"|"$/g, '').trim();
    const v = dataset.variables.find((x) => x.name === name);
    if (!v)
      throw new InvalidParameterValue(
        CE,
        `no variable '${name}' in this dataset; variables: ${dataset.variables.map((x) => x.name).join(', ')}`,
      );
    const dims = dap2Dims(v, stringDims);
    const given = [...m[2]!.matchAll(/\[([^\]]*)\]/g)].map((b) => parseSlab(b[1]!, text));
    if (given.length > 0 && given.length !== dims.length)
      throw new InvalidParameterValue(
        CE,
        `'${text}' gives ${given.length} hyperslab${given.length > 1 ? 's' : ''} for ${dims.length} dimension${dims.length === 1 ? '' : 's'} (${dims.join(', ')})`,
      );
    given.forEach((s, i) => checkSlab(s, sizes.get(dims[i]!)!, dims[i]!, text));
    const slabs = given.length > 0 ? given : whole(dims);
    if (folded(v, stringDims)) slabs.push(...whole(v.dims.slice(-1)));
    chosen.set(v.name, { variable: v, slabs });
  }
  // In dataset order, as the DDS lists them.
  return { ...base, items: dataset.variables.flatMap((v) => chosen.get(v.name) ?? []) };
}
