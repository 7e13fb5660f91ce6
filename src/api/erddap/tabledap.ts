/**
 * tabledap/{datasetID}.{csv,csvp,csv0,tsv,tsvp,tsv0,json,jsonlCSV,jsonlCSV1,jsonlKVP,htmlTable,geoJson,nc,ncCF,
 * ncHeader,ncCFHeader} over the in-situ collections: the query is parsed (tabledap-query), the catalog
 * selects the features (tabledap-rows), and the rows are encoded as they come. distinct(), the orderBy
 * filters and the NetCDF answers (and their headers) need every row first: they are held, under the
 * held-memory limit checked on the catalog's row counts before anything is read, then written.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isoString } from '../../cf/time.js';
import { InvalidParameterValue, NotFound } from '../../core/errors.js';
import { numberText } from '../../encoders/dap2/dds.js';
import {
  erddapGeoJson,
  erddapTable,
  isTableFormat,
  TABLE_MEDIA,
  type ErddapColumn,
  type ErddapValue,
} from '../../encoders/erddap/table.js';
import {
  tableNc,
  tableNcHeader,
  type DsgType,
  type NcTableColumn,
  type TableNcKind,
} from '../../encoders/erddap/table-nc.js';
import { baseUrl, type ApiContext } from '../context.js';
import { sendStream } from '../stream.js';
import { erddapId, tabledapCollection } from './datasets.js';
import { parseTableQuery, type TableQuery } from './tabledap-query.js';
import {
  arrangeRows,
  catalogFilters,
  checkTableSize,
  heldReason,
  tableRows,
  type Cell,
  type RowBatch,
} from './tabledap-rows.js';
import { tableDataset, type TableDataset, type TableVar } from './tabledap-schema.js';
import { unitsIn } from './ucum.js';

const NO_ROWS = 'Your query produced no matching results. (nRows = 0)';

const TABLEDAP_FILE_TYPES =
  '.csv, .csvp, .csv0, .tsv, .tsvp, .tsv0, .json, .jsonlCSV, .jsonlCSV1, .jsonlKVP, .htmlTable, .geoJson, .nc, .ncCF, .ncHeader, .ncCFHeader';

/** The NetCDF answers and their `ncdump -h` headers. */
const NC_TYPES = new Set(['nc', 'ncCF', 'ncHeader', 'ncCFHeader']);

/** The raw query text after `?` (split on & before decoding: see tabledap-query). */
function rawQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? '' : url.slice(i + 1);
}

function erddapColumn(v: TableVar, standard: TableQuery['units']): ErddapColumn {
  if (v.source.from === 'time') return { name: v.name, type: 'String', units: 'UTC' };
  const units = unitsIn(standard, v.units);
  return { name: v.name, type: v.type, ...(units ? { units } : {}) };
}

/** A cell as ERDDAP writes it in text: ISO times, floats at float precision. */
function textCell(v: TableVar, x: Cell): ErddapValue {
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return NaN;
  if (v.source.from === 'time') return isoString(x);
  if (v.type === 'float') return Number(numberText('Float32', x));
  return x;
}

async function* textBatches(q: TableQuery, batches: AsyncIterable<RowBatch>): AsyncGenerator<ErddapValue[][]> {
  const cols = q.columns;
  for await (const b of batches) yield b.rows.map((r) => r.map((x, k) => textCell(cols[k]!, x)));
}

async function* replay(first: RowBatch, rest: AsyncGenerator<RowBatch>): AsyncGenerator<RowBatch> {
  try {
    yield first;
    yield* rest;
  } finally {
    await rest.return(undefined);
  }
}

const DSG: Record<TableDataset['cdmType'], DsgType> = {
  Profile: 'profile',
  Trajectory: 'trajectory',
  TimeSeries: 'timeSeries',
};

/** .ncCF needs the DSG's coordinates: time, latitude, longitude and (profiles) the vertical one. */
function withCoordinates(ds: TableDataset, q: TableQuery): TableQuery {
  const wanted = ['time', 'latitude', 'longitude', ...(ds.cdmType === 'Profile' ? ['pres'] : [])];
  const extra = wanted.flatMap((n) => {
    const v = ds.byName.get(n);
    return v && !q.columns.includes(v) ? [v] : [];
  });
  return extra.length === 0 ? q : { ...q, columns: [...extra, ...q.columns] };
}

function ncColumns(q: TableQuery): NcTableColumn[] {
  return q.columns.map((v) => ({
    name: v.name,
    type: v.type,
    ...(v.units ? { units: unitsIn(q.units, v.units)! } : {}),
    attrs: v.attrs,
    scope: v.scope,
    ...(v.source.from === 'time' ? { time: true } : {}),
  }));
}

export async function tabledap(
  ctx: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  ext: string,
): Promise<FastifyReply> {
  const c = tabledapCollection(ctx, request, id);
  if (!NC_TYPES.has(ext) && ext !== 'geoJson' && !isTableFormat(ext))
    throw new NotFound(`fileType=.${ext} is not supported here; tabledap file types: ${TABLEDAP_FILE_TYPES}`);
  const ds = await tableDataset(c);
  let q = parseTableQuery(ds, rawQuery(request.url));
  const cf = ext === 'ncCF' || ext === 'ncCFHeader';
  if (cf) q = withCoordinates(ds, q);
  if (
    ext === 'geoJson' &&
    !(q.columns.some((v) => v.name === 'longitude') && q.columns.some((v) => v.name === 'latitude'))
  )
    throw new InvalidParameterValue('query', '.geoJson answers need longitude and latitude among the result variables');
  const filters = catalogFilters(ds, q);
  const held = heldReason(q, ext);
  await checkTableSize(ds, q, filters, `.${ext}`, held);
  const controller = new AbortController();
  const rows = tableRows(ds, q, filters, controller.signal);
  const filename = erddapId(c.id);
  const title = c.title;
  if (held) {
    const all: RowBatch = { rows: [], features: [] };
    for await (const b of rows) {
      for (const r of b.rows) all.rows.push(r);
      for (const f of b.features) all.features.push(f);
    }
    const arranged = q.distinct || q.order ? arrangeRows(all, q) : all;
    if (arranged.rows.length === 0) throw new NotFound(NO_ROWS);
    if (NC_TYPES.has(ext)) {
      const globals = {
        Conventions: 'CF-1.7, COARDS, ACDD-1.3',
        cdm_data_type: ds.cdmType,
        title,
        id: filename,
        history: `${new Date().toISOString()} ${baseUrl(ctx, request)}${request.url}`,
        ...(c.attrs['institution'] ? { institution: c.attrs['institution'] } : {}),
      };
      const table = { columns: ncColumns(q), rows: arranged.rows, features: arranged.features, globals };
      const kind: TableNcKind = cf
        ? { kind: 'dsg', type: DSG[ds.cdmType], z: ds.cdmType === 'Profile' ? 'pres' : undefined }
        : { kind: 'flat' };
      if (ext.endsWith('Header'))
        return reply.type('text/plain; charset=utf-8').send(await tableNcHeader(table, kind, filename));
      return sendStream(request, reply, tableNc(table, kind), {
        type: 'application/x-netcdf',
        filename: `${filename}.nc`,
        controller,
      });
    }
    return sendText(request, reply, ext, q, replay(arranged, (async function* () {})()), title, controller);
  }
  const first = await rows.next();
  if (first.done) throw new NotFound(NO_ROWS);
  return sendText(request, reply, ext, q, replay(first.value, rows), title, controller);
}

function sendText(
  request: FastifyRequest,
  reply: FastifyReply,
  ext: string,
  q: TableQuery,
  batches: AsyncGenerator<RowBatch>,
  title: string,
  controller: AbortController,
): Promise<FastifyReply> {
  const columns = q.columns.map((v) => erddapColumn(v, q.units));
  if (ext === 'geoJson')
    return sendStream(request, reply, erddapGeoJson(columns, textBatches(q, batches)), {
      type: 'application/geo+json; charset=utf-8',
      controller,
      disposition: 'inline',
    });
  if (!isTableFormat(ext)) throw new NotFound(`fileType=.${ext} is not supported here`);
  return sendStream(request, reply, erddapTable(ext, columns, textBatches(q, batches), title), {
    type: TABLE_MEDIA[ext],
    controller,
    disposition: 'inline',
  });
}
