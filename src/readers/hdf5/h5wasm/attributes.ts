/** HDF5 attributes as netCDF attributes: bookkeeping ones hidden, values as AttrValue. */
import type { Dataset, Group } from 'h5wasm/node';
import type { AttrTypes, Attrs, AttrValue, NumericArray } from '../../types.js';
import { dtypeOf } from './dtype.js';
import { h5 } from './module.js';

/** Bookkeeping attributes of netCDF-4 and the HDF5 dimension-scale API. */
const HIDDEN_ATTRS = new Set([
  '_Netcdf4Dimid',
  '_Netcdf4Coordinates',
  '_NCProperties',
  'DIMENSION_LIST',
  'REFERENCE_LIST',
  '_nc3_strict',
  '_IsNetcdf4',
]);
/** Hidden only on dimension scales: elsewhere they are ordinary user attributes. */
const HIDDEN_SCALE_ATTRS = new Set(['CLASS', 'NAME']);

export function toAttrValue(raw: unknown): AttrValue | undefined {
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'bigint') return raw;
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    const values = Array.from(raw);
    return values.length === 1 ? values[0] : values;
  }
  if (ArrayBuffer.isView(raw)) {
    const values = Array.from(raw as Exclude<NumericArray, BigInt64Array | BigUint64Array>);
    // netCDF attributes are always 1-D: a single value reads as a scalar, as in netCDF4-python.
    return values.length === 1 ? values[0] : values;
  }
  if (Array.isArray(raw) && raw.every((v): v is string => typeof v === 'string')) {
    // NC_STRING attribute arrays: AttrValue has no string[]; one value per line keeps them all.
    return raw.length === 1 ? raw[0] : raw.join('\n');
  }
  return undefined;
}

/** The attributes of a dataset or group; `types` (when given) receives the stored type of each numeric one. */
export function readAttrs(entity: Dataset | Group, names: string[], isScale: boolean, types?: AttrTypes): Attrs {
  const attrs: Attrs = {};
  for (const name of names) {
    if (HIDDEN_ATTRS.has(name) || (isScale && HIDDEN_SCALE_ATTRS.has(name))) continue;
    const meta = h5().get_attribute_metadata(entity.file_id, entity.path, name);
    const dtype = dtypeOf(meta);
    if (dtype === undefined) continue; // compound/reference attributes have no AttrValue
    const raw = entity.get_attribute(name, false);
    // An array of 1-byte strings (plain HDF5 |S1) is one text, not one line per character.
    const value = dtype === 'char' && Array.isArray(raw) ? raw.join('') : toAttrValue(raw);
    if (value === undefined) continue;
    attrs[name] = value;
    if (types && dtype !== 'char' && dtype !== 'string') types[name] = dtype;
  }
  return attrs;
}

export function readStringAttr(entity: Dataset, name: string): string | undefined {
  const value = toAttrValue(entity.get_attribute(name, false));
  return typeof value === 'string' ? value : undefined;
}
