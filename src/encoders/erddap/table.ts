/**
 * ERDDAP's tabular file types, written as ERDDAP writes them, from columns and batches of rows:
 * .csv (names, then units, then rows), .csvp (`name (units)` header), .csv0 (rows only), .tsv,
 * .tsvp, .tsv0, .json (`{"table": {columnNames, columnTypes, columnUnits, rows}}`), .jsonlCSV,
 * .jsonlKVP and .htmlTable. Missing values are NaN in text, null in JSON; times are ISO 8601 UTC.
 */
import { esc, page } from '../../html/page.js';

export interface ErddapColumn {
  name: string;
  /** ERDDAP's type names: String, double, float, int, short, byte… */
  type: string;
  units?: string;
}

/** One cell: a number (NaN = missing), a text, or null (missing). */
export type ErddapValue = number | string | null;

export type ErddapTableFormat =
  'csv' | 'csvp' | 'csv0' | 'tsv' | 'tsvp' | 'tsv0' | 'json' | 'jsonlCSV' | 'jsonlCSV1' | 'jsonlKVP' | 'htmlTable';

export const TABLE_MEDIA: Record<ErddapTableFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  csvp: 'text/csv; charset=utf-8',
  csv0: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  tsvp: 'text/tab-separated-values; charset=utf-8',
  tsv0: 'text/tab-separated-values; charset=utf-8',
  json: 'application/json; charset=utf-8',
  jsonlCSV: 'application/jsonl; charset=utf-8',
  jsonlCSV1: 'application/jsonl; charset=utf-8',
  jsonlKVP: 'application/jsonl; charset=utf-8',
  htmlTable: 'text/html; charset=utf-8',
};

export function isTableFormat(s: string): s is ErddapTableFormat {
  return s in TABLE_MEDIA;
}

function csvCell(v: ErddapValue, sep: string): string {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return 'NaN';
  if (typeof v === 'number') return String(v);
  return sep === ',' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : sep === '\t' ? v.replace(/[\t\n]/g, ' ') : v;
}

function jsonCell(v: ErddapValue): string {
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return 'null';
  return JSON.stringify(v);
}

/** The table in one of ERDDAP's text formats, batch by batch. */
export async function* erddapTable(
  format: ErddapTableFormat,
  columns: ErddapColumn[],
  batches: AsyncIterable<ErddapValue[][]>,
  title = 'Data',
): AsyncGenerator<string> {
  const sep = format.startsWith('tsv') ? '\t' : ',';
  switch (format) {
    case 'csv':
    case 'tsv':
      yield `${columns.map((c) => csvCell(c.name, sep)).join(sep)}\n${columns.map((c) => csvCell(c.units ?? '', sep)).join(sep)}\n`;
      break;
    case 'csvp':
    case 'tsvp':
      yield `${columns.map((c) => csvCell(c.units ? `${c.name} (${c.units})` : c.name, sep)).join(sep)}\n`;
      break;
    case 'json':
      yield `{\n  "table": {\n    "columnNames": ${JSON.stringify(columns.map((c) => c.name))},\n    "columnTypes": ${JSON.stringify(columns.map((c) => c.type))},\n    "columnUnits": ${JSON.stringify(columns.map((c) => c.units ?? null))},\n    "rows": [\n`;
      break;
    case 'jsonlCSV1':
      yield `${JSON.stringify(columns.map((c) => c.name))}\n`;
      break;
    case 'htmlTable':
      yield page(
        title,
        [
          { label: 'odas', href: '/' },
          { label: 'ERDDAP', href: '/erddap' },
        ],
        '',
      ).replace(/<\/main><\/body><\/html>$/, '');
      yield `<table class="erd commonBGColor nowrap">\n<tr>${columns.map((c) => `<th>${esc(c.name)}</th>`).join('')}</tr>\n<tr>${columns.map((c) => `<th>${esc(c.units ?? '')}</th>`).join('')}</tr>\n`;
      break;
    default:
      break;
  }
  let first = true;
  for await (const rows of batches) {
    const out: string[] = [];
    for (const row of rows) {
      switch (format) {
        case 'json':
          out.push(`${first ? '' : ',\n'}      [${row.map(jsonCell).join(', ')}]`);
          break;
        case 'jsonlCSV':
        case 'jsonlCSV1':
          out.push(`[${row.map(jsonCell).join(',')}]\n`);
          break;
        case 'jsonlKVP':
          out.push(`{${row.map((v, i) => `${JSON.stringify(columns[i]!.name)}:${jsonCell(v)}`).join(',')}}\n`);
          break;
        case 'htmlTable':
          out.push(
            `<tr>${row.map((v) => `<td>${v === null || (typeof v === 'number' && Number.isNaN(v)) ? '' : esc(String(v))}</td>`).join('')}</tr>\n`,
          );
          break;
        default:
          out.push(`${row.map((v) => csvCell(v, sep)).join(sep)}\n`);
      }
      first = false;
    }
    if (out.length > 0) yield out.join('');
  }
  if (format === 'json') yield `${first ? '' : '\n'}    ]\n  }\n}\n`;
  if (format === 'htmlTable') yield '</table>\n</main></body></html>\n';
}

/** ERDDAP's error text, sent with the HTTP status it names. */
export function erddapErrorText(status: number, message: string): string {
  const reason: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    413: 'Payload Too Large',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
  };
  return `Error {\n    code=${status};\n    message=${JSON.stringify(`${reason[status] ?? 'Error'}: ${message}`)};\n}\n`;
}

/**
 * ERDDAP's tabledap .geoJson: a FeatureCollection of Points from the longitude and latitude
 * columns, every other column a property, with propertyNames and propertyUnits as ERDDAP adds them.
 */
export async function* erddapGeoJson(
  columns: ErddapColumn[],
  batches: AsyncIterable<ErddapValue[][]>,
): AsyncGenerator<string> {
  const lon = columns.findIndex((c) => c.name === 'longitude');
  const lat = columns.findIndex((c) => c.name === 'latitude');
  const props = columns.map((_, i) => i).filter((i) => i !== lon && i !== lat);
  yield `{\n  "type": "FeatureCollection",\n  "propertyNames": ${JSON.stringify(props.map((i) => columns[i]!.name))},\n  "propertyUnits": ${JSON.stringify(props.map((i) => columns[i]!.units ?? null))},\n  "features": [\n`;
  let first = true;
  for await (const rows of batches) {
    const out: string[] = [];
    for (const row of rows) {
      const x = row[lon];
      const y = row[lat];
      const geometry =
        typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y)
          ? `{"type":"Point","coordinates":[${x},${y}]}`
          : 'null';
      const properties = props.map((i) => `${JSON.stringify(columns[i]!.name)}:${jsonCell(row[i]!)}`).join(',');
      out.push(`${first ? '' : ',\n'}    {"type":"Feature","geometry":${geometry},"properties":{${properties}}}`);
      first = false;
    }
    if (out.length > 0) yield out.join('');
  }
  yield `${first ? '' : '\n'}  ]\n}\n`;
}
