import type { Collection } from '../../catalog/collection.js';
import type { ParameterInfo } from '../../encoders/table/rows.js';

/** The selected parameters with their labels and units, from the files' CF attributes. */
export function edrParameters(c: Collection, names: string[]): ParameterInfo[] {
  return names.map((name) => {
    const p = c.parameters.find((q) => q.name === name);
    return {
      name,
      label: p?.longName ?? p?.standardName?.replace(/_/g, ' ') ?? name,
      ...(p?.units ? { units: p.units.trim() } : {}),
      ...(p?.standardName ? { standardName: p.standardName } : {}),
    };
  });
}
