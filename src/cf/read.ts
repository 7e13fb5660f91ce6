import type { Attrs, Reader, VariableInfo, Window } from '../readers/types.js';
import { decodeNumeric, decodeStrings } from './decode.js';
import { decodeTimes } from './time.js';

/** Convenience reads that return CF-decoded values: the only way the catalog touches data. */
export class DecodedReader {
  constructor(
    readonly reader: Reader,
    readonly variables: Map<string, VariableInfo>,
  ) {}

  static async of(reader: Reader): Promise<DecodedReader> {
    const info = await reader.info();
    return new DecodedReader(reader, new Map(info.variables.map((v) => [v.name, v])));
  }

  has(name: string): boolean {
    return this.variables.has(name);
  }

  variable(name: string): VariableInfo | undefined {
    return this.variables.get(name);
  }

  attrs(name: string): Attrs {
    return this.variables.get(name)?.attrs ?? {};
  }

  /** Decoded numbers, NaN where missing. */
  async numbers(name: string, window?: Window): Promise<Float64Array> {
    const raw = await this.reader.readRaw(name, window);
    return decodeNumeric(raw, this.attrs(name), { attrTypes: this.variables.get(name)?.attrTypes });
  }

  /** Numbers of an optional variable, or undefined when the file lacks it. */
  async numbersIfAny(name: string, window?: Window): Promise<Float64Array | undefined> {
    return this.has(name) ? this.numbers(name, window) : undefined;
  }

  /** Char arrays as strings along the last dimension (trimmed unless `trim` is false). */
  async strings(name: string, window?: Window, trim = true): Promise<string[]> {
    const raw = await this.reader.readRaw(name, window);
    return decodeStrings(raw, { trim });
  }

  async stringsIfAny(name: string, window?: Window, trim = true): Promise<string[] | undefined> {
    return this.has(name) ? this.strings(name, window, trim) : undefined;
  }

  /** Times as epoch milliseconds (NaN where missing), from the variable's CF units; a TimeUnitsError when it has none usable. */
  async times(name: string, window?: Window): Promise<Float64Array> {
    const attrs = this.attrs(name);
    const values = await this.numbers(name, window);
    const units = typeof attrs['units'] === 'string' ? attrs['units'] : '';
    const calendar = typeof attrs['calendar'] === 'string' ? attrs['calendar'] : undefined;
    return decodeTimes(values, units, calendar);
  }
}

export function attrString(attrs: Attrs, name: string): string | undefined {
  const v = attrs[name];
  if (typeof v === 'string') return v.trim() || undefined;
  return undefined;
}

export function attrNumber(attrs: Attrs, name: string): number | undefined {
  const v = attrs[name];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v) && v.length > 0) return Number(v[0]);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}
