/**
 * DAP2 answers (.dds, .das, .dods, .ascii) for a dataset of plain arrays: the in-situ collections'
 * CF DSG arrays, described by DAP4's model (src/encoders/dap4/dataset.ts) so that both protocols
 * serve one description (attributes come in DAP2's types with the selection). DAP2 has neither
 * 8-bit signed nor 64-bit integers nor characters: Int8 travels as Byte (its attributes say
 * `_Unsigned = "false"`), 64-bit integers as Float64, and a character array
 * as Strings, one per row along its string dimension (what THREDDS does, and what netCDF-C turns
 * back into a char array); characters on other dimensions (a QC flag per level) are one-character
 * Strings. In XDR a numeric array is its count twice then its values; a String array its count once
 * then each string (length, bytes, padding to 4), as libdap writes them and netCDF-C's oc2 reads them.
 */
import type { NumericArray } from '../../readers/types.js';
import type { Dap4Variable } from '../dap4/dataset.js';
import type { Dap4Item, Dap4Selection } from '../dap4/dmr.js';
import { DAP_TYPE, dapName, type DapAttr, type DapType } from './dataset.js';
import { attrLines, numberText, quoted } from './dds.js';
import { slabCount, type DapSlab } from './response.js';
import { header, xdrValues } from './xdr.js';

/** A selection of arrays, the dimensions DAP2 folds into strings, and the attributes in DAP2's types. */
export interface ArraySelection extends Dap4Selection {
  stringDims: ReadonlySet<string>;
  dap2Attrs: ReadonlyMap<string, DapAttr[]>;
  dap2Globals: DapAttr[];
}

type Dap2Type = DapType | 'String';

/** Whether a character variable travels as one String per row along its last (string) dimension. */
export function folded(v: Dap4Variable, stringDims: ReadonlySet<string>): boolean {
  return v.dtype === 'char' && v.dims.length > 0 && stringDims.has(v.dims[v.dims.length - 1]!);
}

/** The dimensions a variable has in DAP2. */
export function dap2Dims(v: Dap4Variable, stringDims: ReadonlySet<string>): string[] {
  return folded(v, stringDims) ? v.dims.slice(0, -1) : v.dims;
}

function dap2Type(v: Dap4Variable): Dap2Type {
  if (v.dtype === 'char' || v.dtype === 'string') return 'String';
  return DAP_TYPE[v.dtype] ?? 'Float64';
}

/** The DAP2 slabs of an item (a folded variable's string slab dropped). */
function dap2Slabs(item: Dap4Item, stringDims: ReadonlySet<string>): DapSlab[] {
  return folded(item.variable, stringDims) ? item.slabs.slice(0, -1) : item.slabs;
}

function count(slabs: DapSlab[]): number {
  return slabs.reduce((p, s) => p * slabCount(s), 1);
}

/** The DDS of a selection: every variable a plain array. */
export function arraysDds(sel: ArraySelection): string {
  const lines = ['Dataset {'];
  for (const item of sel.items) {
    const v = item.variable;
    const dims = dap2Dims(v, sel.stringDims);
    const slabs = dap2Slabs(item, sel.stringDims);
    lines.push(
      `    ${dap2Type(v)} ${dapName(v.name)}${dims.map((d, i) => `[${dapName(d)} = ${slabCount(slabs[i]!)}]`).join('')};`,
    );
  }
  lines.push(`} ${dapName(sel.dataset.name)};`);
  return `${lines.join('\n')}\n`;
}

/** The DAS: every variable's attributes, then the globals as NC_GLOBAL. */
export function arraysDas(sel: ArraySelection): string {
  const lines = ['Attributes {'];
  for (const v of sel.dataset.variables)
    lines.push(`    ${dapName(v.name)} {`, ...attrLines(sel.dap2Attrs.get(v.name) ?? [], '        '), '    }');
  lines.push('    NC_GLOBAL {', ...attrLines(sel.dap2Globals, '        '), '    }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Bytes of one string in XDR. */
function stringBytes(length: number): number {
  return 4 + Math.ceil(length / 4) * 4;
}

/** Size of the XDR data section: exact for numbers, an upper bound for strings (trailing NULs are not sent). */
export function arraysXdrBytes(sel: ArraySelection): number {
  let total = 0;
  for (const item of sel.items) {
    const v = item.variable;
    const n = count(dap2Slabs(item, sel.stringDims));
    const type = dap2Type(v);
    if (type === 'String') {
      // Variable-length strings (feature ids): an estimate.
      const length =
        v.dtype === 'string' ? 64 : folded(v, sel.stringDims) ? slabCount(item.slabs[item.slabs.length - 1]!) : 1;
      total += 4 + n * stringBytes(length);
    } else total += 8 + (type === 'Byte' ? Math.ceil(n / 4) * 4 : n * (type === 'Float64' ? 8 : 4));
  }
  return total;
}

/** Strings of a block of characters, `width` to a string, trailing NULs dropped. */
function stringsOf(block: NumericArray, width: number): string[] {
  const bytes = block as Uint8Array;
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += width) {
    let end = at + width;
    while (end > at && bytes[end - 1] === 0) end--;
    out.push(Buffer.from(bytes.subarray(at, end)).toString('latin1'));
  }
  return out;
}

function stringWidth(item: Dap4Item, stringDims: ReadonlySet<string>): number {
  return folded(item.variable, stringDims) ? slabCount(item.slabs[item.slabs.length - 1]!) : 1;
}

function xdrStrings(strings: string[]): Uint8Array {
  const parts = strings.map((s) => Buffer.from(s, 'latin1'));
  const out = Buffer.alloc(parts.reduce((n, p) => n + stringBytes(p.length), 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32BE(p.length, at);
    p.copy(out, at + 4);
    at += stringBytes(p.length);
  }
  return out;
}

/** The .dods answer, variable by variable, each read as it is reached (its reads planned up front). */
export async function* arraysDods(sel: ArraySelection, signal: AbortSignal): AsyncGenerator<Uint8Array | string> {
  const values = sel.items.map((item) => item.variable.open(item.slabs, signal));
  yield `${arraysDds(sel)}Data:\n`;
  for (let k = 0; k < sel.items.length; k++) {
    const item = sel.items[k]!;
    const type = dap2Type(item.variable);
    const n = count(dap2Slabs(item, sel.stringDims));
    if (type === 'String') {
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, n);
      yield length;
      const width = stringWidth(item, sel.stringDims);
      for await (const block of values[k]!) yield xdrStrings(Array.isArray(block) ? block : stringsOf(block, width));
      continue;
    }
    yield header(n);
    let sent = 0;
    for await (const block of values[k]!) {
      if (Array.isArray(block)) continue;
      const bytes = xdrValues(type, block);
      sent += bytes.length;
      yield bytes;
    }
    const pad = (4 - (sent % 4)) % 4;
    if (pad > 0) yield new Uint8Array(pad);
  }
}

/** The .ascii answer: the DDS, a rule, then each array with one line per row prefixed with its indices. */
export async function* arraysAscii(sel: ArraySelection, signal: AbortSignal): AsyncGenerator<string> {
  yield `${arraysDds(sel)}---------------------------------------------\n`;
  for (const item of sel.items) {
    const type = dap2Type(item.variable);
    const shape = dap2Slabs(item, sel.stringDims).map(slabCount);
    yield `${dapName(item.variable.name)}${shape.map((n) => `[${n}]`).join('')}\n`;
    const rowLength = shape[shape.length - 1] ?? 1;
    const outer = shape.slice(0, -1);
    const index = outer.map(() => 0);
    let row: string[] = [];
    const width = stringWidth(item, sel.stringDims);
    for await (const block of item.variable.open(item.slabs, signal)) {
      const cells = Array.isArray(block)
        ? block.map(quoted)
        : type === 'String'
          ? stringsOf(block, width).map(quoted)
          : Array.from(block as ArrayLike<number | bigint>, (x) =>
              typeof x === 'bigint' ? String(x) : numberText(type, x),
            );
      const lines: string[] = [];
      for (const cell of cells) {
        row.push(cell);
        if (row.length < rowLength) continue;
        lines.push(`${index.map((i) => `[${i}]`).join('')}${index.length > 0 ? ', ' : ''}${row.join(', ')}\n`);
        row = [];
        let d = index.length - 1;
        while (d >= 0 && ++index[d]! === outer[d]) index[d--] = 0;
      }
      if (lines.length > 0) yield lines.join('');
    }
    yield '\n';
  }
}
