/**
 * DAP4 XML documents: the DMR (Dataset Metadata Response) of a selection, the DSR (Dataset
 * Services Response) and the error response, as the DAP4 specification (vol. 1, §3 and §5) writes
 * them and netCDF-C's libdap4 parses them. A constrained DMR declares each shared dimension at the
 * size of its slab; a variable sliced differently from the others on a dimension gets an anonymous
 * `<Dim size="n"/>`, as Hyrax does.
 */
import { slabCount, type DapSlab } from '../dap2/response.js';
import type { Dap4Attr, Dap4Dataset, Dap4Type, Dap4Variable } from './dataset.js';
import { DAP4_TYPE } from './dataset.js';

const DAP4_NS = 'http://xml.opendap.org/ns/DAP/4.0#';

export interface Dap4Item {
  variable: Dap4Variable;
  /** One slab per dimension of the variable. */
  slabs: DapSlab[];
}

export interface Dap4Selection {
  dataset: Dap4Dataset;
  /** In the dataset's variable order (the order of the data response). */
  items: Dap4Item[];
}

function xmlEscape(s: string): string {
  return s.replace(/[&<>"\n\r\t]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : `&#${c.charCodeAt(0)};`,
  );
}

/** A name inside a fully qualified name: `/` and `.` separate, so they (and `\`) are escaped. */
function fqn(name: string): string {
  return `/${name.replace(/[\\/.]/g, (c) => `\\${c}`)}`;
}

/** A value as DAP4 text: Float32 at its own precision (shortest form that reads back the same). */
function valueText(type: Dap4Type, v: number | bigint | string): string {
  if (typeof v === 'string') return xmlEscape(v);
  if (typeof v === 'bigint') return String(v);
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

function attrXml(a: Dap4Attr, indent: string): string {
  const values = a.values.map((v) => `${indent}  <Value>${valueText(a.type, v)}</Value>\n`).join('');
  return `${indent}<Attribute name="${xmlEscape(a.name)}" type="${a.type}">\n${values}${indent}</Attribute>\n`;
}

function same(a: DapSlab, b: DapSlab): boolean {
  return a.start === b.start && a.stride === b.stride && a.stop === b.stop;
}

/** The DMR of a selection (the whole dataset when every variable is selected whole). */
export function dmrText(sel: Dap4Selection): string {
  const { dataset } = sel;
  // The slab each shared dimension is declared with: the first selected variable's.
  const declared = new Map<string, DapSlab>();
  for (const item of sel.items)
    item.variable.dims.forEach((d, i) => {
      if (!declared.has(d)) declared.set(d, item.slabs[i]!);
    });
  const selected = new Map(sel.items.map((i) => [i.variable.name, i]));
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<Dataset name="${xmlEscape(dataset.name)}" dapVersion="4.0" dmrVersion="1.0" xmlns="${DAP4_NS}">\n`;
  for (const d of dataset.dims) {
    const slab = declared.get(d.name);
    if (slab) out += `  <Dimension name="${xmlEscape(d.name)}" size="${slabCount(slab)}"/>\n`;
  }
  for (const { variable: v, slabs } of sel.items) {
    const type = DAP4_TYPE[v.dtype];
    out += `  <${type} name="${xmlEscape(v.name)}">\n`;
    v.dims.forEach((d, i) => {
      out += same(slabs[i]!, declared.get(d)!)
        ? `    <Dim name="${xmlEscape(fqn(d))}"/>\n`
        : `    <Dim size="${slabCount(slabs[i]!)}"/>\n`;
    });
    for (const a of v.attrs) out += attrXml(a, '    ');
    // A map is named only when it travels along with the same slab of its dimension.
    for (const m of v.maps) {
      const mapped = selected.get(m);
      const d = v.dims.indexOf(mapped?.variable.dims[0] ?? '');
      if (mapped && d >= 0 && same(mapped.slabs[0]!, slabs[d]!) && same(slabs[d]!, declared.get(v.dims[d]!)!))
        out += `    <Map name="${xmlEscape(fqn(m))}"/>\n`;
    }
    out += `  </${type}>\n`;
  }
  for (const a of dataset.globals) out += attrXml(a, '  ');
  return `${out}</Dataset>\n`;
}

/** The DSR: the responses this dataset offers, with their media types. */
export function dsrText(url: string, server: string): string {
  const service = (title: string, role: string, suffix: string, type: string) =>
    `  <Service title="${title}" role="http://services.opendap.org/dap4/${role}">\n    <link type="${type}" href="${xmlEscape(url + suffix)}"/>\n  </Service>\n`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<DatasetServices xmlns="http://xml.opendap.org/ns/DAP/4.0/dataset-services#" base="${xmlEscape(url)}">\n` +
    `  <DapVersion>4.0</DapVersion>\n  <ServerSoftwareVersion>${xmlEscape(server)}</ServerSoftwareVersion>\n` +
    service('DAP4 Dataset Services', 'dataset-services', '.dsr', 'application/vnd.opendap.dap4.dataset-services+xml') +
    service('DAP4 Dataset Metadata', 'dataset-metadata', '.dmr', 'application/vnd.opendap.dap4.dataset-metadata+xml') +
    service('DAP4 Data', 'data', '.dap', 'application/vnd.opendap.dap4.data') +
    service('DAP2 DDS', 'dap2/dds', '.dds', 'text/plain') +
    service('DAP2 DAS', 'dap2/das', '.das', 'text/plain') +
    service('DAP2 Data', 'dap2/data', '.dods', 'application/octet-stream') +
    service('HTML page', 'html', '.html', 'text/html') +
    '</DatasetServices>\n'
  );
}

/** The DAP4 error response (spec §7): what clients show the user. */
export function dap4ErrorXml(status: number, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error httpcode="${status}">\n  <Message>${xmlEscape(message)}</Message>\n</Error>\n`;
}
