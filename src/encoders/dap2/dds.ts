/**
 * DAP2 Dataset Descriptor Structure and Dataset Attribute Structure text, as libdap writes them; Grids
 * are declared `GRID` as ERDDAP writes them (the keyword is case-insensitive for DAP2 parsers, and
 * erddapy finds the variables of a griddap dataset by that word).
 */
import { dapName, dimsOf, type DapAttr, type DapDataset, type DapType } from './dataset.js';
import { fieldParts, slabCount, wholeGrid, type DapSelection, type DapSlab } from './response.js';

function decl(type: DapType, name: string, dims: string[], slabs: DapSlab[]): string {
  return `${type} ${dapName(name)}${dims.map((d, i) => `[${dapName(d)} = ${slabCount(slabs[i]!)}]`).join('')};`;
}

/** The DDS of a selection (the whole dataset when every variable is selected whole). */
export function ddsText(sel: DapSelection): string {
  const { dataset } = sel;
  const model = dataset.model;
  const lines = ['Dataset {'];
  for (const item of sel.items) {
    const v = item.variable;
    if (item.kind === 'coordinate') {
      lines.push(`    ${decl(v.type, v.name, dimsOf(model, v), [item.slab])}`);
      continue;
    }
    const dims = dimsOf(model, v);
    const arrayDecl = decl(v.type, v.name, dims, item.slabs);
    if (!item.variable.maps) {
      lines.push(`    ${arrayDecl}`);
      continue;
    }
    const mapDecl = (d: number) => {
      const m = item.variable.maps![d]!;
      return decl(m.type, m.name, [model.axes[d]!.dim], [item.mapSlabs[d]!]);
    };
    if (wholeGrid(item)) {
      lines.push('    GRID {', '      ARRAY:', `        ${arrayDecl}`, '      MAPS:');
      item.variable.maps.forEach((_, d) => lines.push(`        ${mapDecl(d)}`));
      lines.push(`    } ${dapName(v.name)};`);
      continue;
    }
    lines.push('    Structure {');
    for (const part of fieldParts(item)) lines.push(`        ${part.map ? mapDecl(part.axis!) : arrayDecl}`);
    lines.push(`    } ${dapName(v.name)};`);
  }
  lines.push(`} ${dapName(dataset.name)};`);
  return `${lines.join('\n')}\n`;
}

/** A number as DAP2 text: shortest round-trip form (Float32 values at their own precision). */
export function numberText(type: DapType, v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  if (type === 'Float32') {
    for (let p = 1; p <= 9; p++) {
      const t = v.toPrecision(p);
      if (Math.fround(Number(t)) === v) return String(Number(t));
    }
  }
  return String(v);
}

export function quoted(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function attrLines(attrs: DapAttr[], indent: string): string[] {
  return attrs.map(
    (a) =>
      `${indent}${a.type} ${dapName(a.name)} ${a.values.map((v) => (a.type === 'String' ? quoted(String(v)) : numberText(a.type, v as number))).join(', ')};`,
  );
}

/** The DAS: every variable's attributes, then the globals as NC_GLOBAL. */
export function dasText(dataset: DapDataset): string {
  const lines = ['Attributes {'];
  for (const v of dataset.variables) {
    lines.push(`    ${dapName(v.name)} {`, ...attrLines(v.attrs, '        '), '    }');
  }
  lines.push('    NC_GLOBAL {', ...attrLines(dataset.globals, '        '), '    }');
  const t = dataset.model.axes.find((a) => a.role === 't');
  if (t) lines.push('    DODS_EXTRA {', `        String Unlimited_Dimension ${quoted(t.dim)};`, '    }');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** A DAP2 error object: what netCDF-C and libdap clients show the user. */
export function dapErrorText(code: number, message: string): string {
  return `Error {\n    code = ${code};\n    message = ${quoted(message)};\n};\n`;
}
