/**
 * The header of a NetCDF-3 file as `ncdump -h` prints it (CDL): what ERDDAP's `.ncHeader` and
 * `.ncCFHeader` answers are. It is printed from the header bytes the writer would write, parsed
 * back by the NetCDF-3 reader, so it states the dimensions, types and attributes of the file the
 * matching `.nc` request returns, not a second description of it.
 */
import { readNetcdf3Header } from '../../readers/netcdf3/header.js';
import type { AttrTypes, AttrValue, ByteSource, DType } from '../../readers/types.js';
import { encodeNetcdf3Header, ncLayout, type NcFileDef } from './writer.js';

const CDL_TYPE: Partial<Record<DType, string>> = {
  i1: 'byte',
  char: 'char',
  i2: 'short',
  i4: 'int',
  f4: 'float',
  f8: 'double',
};

/** ncdump's number syntax: type suffixes (b, s, f), doubles always with a point or exponent. */
function cdlNumber(v: number, type: DType | undefined): string {
  if (type === 'f4') {
    if (Number.isNaN(v)) return 'NaNf';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinityf' : '-Infinityf';
    const text = String(Number(v.toPrecision(7)));
    return /[.e]/.test(text) ? `${text}f` : `${text}.f`;
  }
  if (type === 'f8' || type === undefined) {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    const text = String(v);
    return /[.e]/.test(text) ? text : `${text}.`;
  }
  return `${v}${type === 'i1' ? 'b' : type === 'i2' ? 's' : ''}`;
}

function cdlString(s: string): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, '\\t').replace(/\0/g, '');
  // ncdump breaks text at newlines: "line one\n",\n\t\t\t"line two"
  return `"${escaped.split('\n').join('\\n",\n\t\t\t"')}"`;
}

function cdlAttr(owner: string, name: string, value: AttrValue, types: AttrTypes): string {
  const text =
    typeof value === 'string'
      ? cdlString(value)
      : (Array.isArray(value) ? value : [value]).map((v) => cdlNumber(Number(v), types[name])).join(', ');
  return `\t\t${owner}:${name} = ${text} ;`;
}

/** Header bytes, with the size the whole file would have (the parser checks data offsets against it). */
class HeaderSource implements ByteSource {
  readonly key = 'cdl';
  constructor(
    private readonly bytes: Uint8Array,
    private readonly total: number,
  ) {}
  async size(): Promise<number> {
    return this.total;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.slice(offset, Math.min(offset + length, this.bytes.length));
  }
  async close(): Promise<void> {}
}

/** `ncdump -h` of the file `def` describes, named `name` (ncdump prints the file name without extension). */
export async function cdlHeader(def: NcFileDef, name: string): Promise<string> {
  const bytes = encodeNetcdf3Header(def);
  const h = await readNetcdf3Header(new HeaderSource(bytes, ncLayout(def).totalSize), name, {
    initialBytes: bytes.length,
  });
  const lines = [`netcdf ${name} {`, 'dimensions:'];
  for (const d of h.dimensions)
    lines.push(d.isRecord ? `\t${d.name} = UNLIMITED ; // (${d.length} currently)` : `\t${d.name} = ${d.length} ;`);
  if (h.variables.length > 0) lines.push('variables:');
  for (const v of h.variables) {
    lines.push(`\t${CDL_TYPE[v.dtype] ?? v.dtype} ${v.name}${v.dims.length ? `(${v.dims.join(', ')})` : ''} ;`);
    for (const [k, value] of Object.entries(v.attrs)) lines.push(cdlAttr(v.name, k, value, v.attrTypes));
  }
  const globals = Object.entries(h.attrs);
  if (globals.length > 0) {
    lines.push('', '// global attributes:');
    for (const [k, value] of globals) lines.push(cdlAttr('', k, value, h.attrTypes));
  }
  lines.push('}', '');
  return lines.join('\n');
}
