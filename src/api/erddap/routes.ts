/**
 * ERDDAP-compatible URLs at /erddap, for the scripts and clients built on them (erddapy, rerddap,
 * argopy's ERDDAP source): griddap over every grid collection (its tables, .nc, and the DAP2
 * responses erddapy and netCDF-C open), info/{id}/index.*, search/index.*, tabledap/allDatasets.*.
 * Queries are parsed into the shared grid plan; errors are ERDDAP's `Error {…}` text with the HTTP status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectionGrid } from '../../catalog/grid-model.js';
import { isoString } from '../../cf/time.js';
import { ApiError, ApiErrorWithHeaders, InvalidParameterValue, NotFound } from '../../core/errors.js';
import { checkSize } from '../../core/grid/limits.js';
import { planGrid } from '../../core/grid/plan.js';
import { readField } from '../../core/grid/read.js';
import type { GridModel } from '../../core/grid/types.js';
import { numberText } from '../../encoders/dap2/dds.js';
import {
  erddapErrorText,
  erddapTable,
  isTableFormat,
  TABLE_MEDIA,
  type ErddapColumn,
  type ErddapTableFormat,
  type ErddapValue,
} from '../../encoders/erddap/table.js';
import { netcdfHeader } from '../../encoders/grid/netcdf.js';
import { alignedFields, type GridPayload } from '../../encoders/grid/payload.js';
import { esc, page, table } from '../../html/page.js';
import { CorruptFileError, ReaderRequestError } from '../../readers/types.js';
import { openReader } from '../../readers/registry.js';
import { baseUrl, type ApiContext } from '../context.js';
import { gridPayload, prepareGridAnswer, sendGridAnswer } from '../grid-answer.js';
import type { ApiModule } from '../module.js';
import { constraintOf } from '../opendap/constraint.js';
import { dapAnswer, isDapSuffix } from '../opendap/routes.js';
import { sendStream } from '../stream.js';
import {
  ALL_DATASETS_COLUMNS,
  allDatasetsRow,
  erddapCollections,
  erddapId,
  fieldType,
  griddapCollection,
  gridCollections,
  INFO_COLUMNS,
  infoRows,
  SEARCH_COLUMNS,
  searchRows,
  tabledapCollection,
  tableInfoRows,
} from './datasets.js';
import { tableDataset } from './tabledap-schema.js';
import { erddapAxisName, gridRequestOf, parseGriddapQuery } from './griddap-query.js';
import { tabledap } from './tabledap.js';

/** Rows per batch handed to the table writer. */
const BATCH_ROWS = 8192;

function sendErddapError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let status = 500;
  let message = 'The server failed to answer this request; the error has been logged.';
  if (err instanceof ApiError)
    [status, message] = [
      err.statusCode,
      err instanceof InvalidParameterValue
        ? `Query error: ${err.message.replace(/^Invalid value for parameter 'query': /, '')}`
        : err.message,
    ];
  else if (err instanceof ReaderRequestError) [status, message] = [400, err.message];
  else if (err instanceof CorruptFileError || (err instanceof Error && err.name === 'UnsupportedFilterError'))
    [status, message] = [502, `A data file could not be read: ${err.message}`];
  if (status >= 500) request.log.error({ err }, message);
  else request.log.info({ status }, message);
  if (err instanceof ApiErrorWithHeaders) void reply.headers(err.headers);
  return reply.status(status).type('text/plain; charset=utf-8').send(erddapErrorText(status, message));
}

function splitTarget(target: string): { id: string; ext: string } {
  const dot = target.lastIndexOf('.');
  return dot < 0 ? { id: target, ext: '' } : { id: target.slice(0, dot), ext: target.slice(dot + 1) };
}

/** A value as ERDDAP writes it: float columns at float precision. */
function floatValue(v: number): number {
  return Number.isFinite(v) ? Number(numberText('Float32', v)) : NaN;
}

function axisColumn(model: GridModel, d: number): ErddapColumn {
  const a = model.axes[d]!;
  if (a.role === 't') return { name: erddapAxisName(a), type: 'String', units: 'UTC' };
  const units = typeof a.attrs['units'] === 'string' ? a.attrs['units'] : undefined;
  return { name: erddapAxisName(a), type: a.dtype === 'f4' ? 'float' : 'double', ...(units ? { units } : {}) };
}

function axisCell(model: GridModel, d: number, v: number): ErddapValue {
  const a = model.axes[d]!;
  if (a.role === 't') return Number.isFinite(v) ? isoString(v) : null;
  return a.dtype === 'f4' ? floatValue(v) : v;
}

/** Every combination of the given axes' picked values, row-major. */
async function* axisRows(model: GridModel, axes: number[], picks: Int32Array[]): AsyncGenerator<ErddapValue[][]> {
  const total = picks.reduce((p, x) => p * x.length, 1);
  let rows: ErddapValue[][] = [];
  for (let k = 0; k < total; k++) {
    let rest = k;
    const row = new Array<ErddapValue>(axes.length);
    for (let i = axes.length - 1; i >= 0; i--) {
      const n = picks[i]!.length;
      row[i] = axisCell(model, axes[i]!, model.axes[axes[i]!]!.values[picks[i]![rest % n]!]!);
      rest = Math.floor(rest / n);
    }
    rows.push(row);
    if (rows.length >= BATCH_ROWS) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length > 0) yield rows;
}

/** Data rows: each cell's axis values, then the fields' unpacked values (NaN where missing). */
async function* dataRows(payload: GridPayload, floats: boolean[]): AsyncGenerator<ErddapValue[][]> {
  const { plan } = payload;
  const model = plan.model;
  const rank = plan.axes.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc *= plan.shape[d]!;
  }
  // Axis cells are formatted once per axis, not once per row.
  const cells = plan.axes.map((a, d) => Array.from(a.values, (v) => axisCell(model, d, v)));
  const names = plan.fields.map((f) => f.name);
  for await (const block of alignedFields(payload, plan.fields)) {
    const rows: ErddapValue[][] = new Array(block.length);
    for (let i = 0; i < block.length; i++) {
      const k = block.start + i;
      const row = new Array<ErddapValue>(rank + names.length);
      for (let d = 0; d < rank; d++) row[d] = cells[d]![Math.floor(k / strides[d]!) % plan.shape[d]!]!;
      for (let f = 0; f < names.length; f++) {
        const v = block.values[names[f]!]![i]!;
        row[rank + f] = floats[f] ? floatValue(v) : v;
      }
      rows[i] = row;
    }
    yield rows;
  }
}

async function griddap(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { target } = request.params as { target: string };
  const { id, ext } = splitTarget(target);
  if (id === 'index' && (ext === 'json' || ext === 'html' || ext === 'csv')) {
    const rows = gridCollections(ctx, request).map((c) => allDatasetsRow(c, baseUrl(ctx, request)));
    return sendTable(
      request,
      reply,
      ext === 'html' ? 'htmlTable' : ext,
      ALL_DATASETS_COLUMNS,
      rows,
      'griddap datasets',
    );
  }
  const c = griddapCollection(ctx, request, id);
  if (ext === '' || ext === 'html' || isDapSuffix(ext))
    return dapAnswer(ctx, request, reply, c.id, ext === '' ? 'html' : ext);
  const model = await collectionGrid(c, request.log);
  const q = parseGriddapQuery(model, constraintOf(request.url));
  const controller = new AbortController();
  if (ext === 'nc' || ext === 'ncHeader') {
    if (q.fields.length === 0)
      throw new InvalidParameterValue(
        'query',
        `.${ext} answers need at least one data variable; ask for axis values as .csv or .json`,
      );
    const plan = planGrid(model, gridRequestOf(q));
    if (ext === 'ncHeader') {
      const payload = gridPayload(c, plan, { request: `GET ${baseUrl(ctx, request)}${request.url}` });
      return reply.type('text/plain; charset=utf-8').send(await netcdfHeader(payload, erddapId(c.id)));
    }
    const answer = prepareGridAnswer(c, plan, 'netcdf', {
      signal: controller.signal,
      request: `GET ${baseUrl(ctx, request)}${request.url}`,
    });
    return sendGridAnswer(request, reply, answer, { controller, api: 'erddap', filename: erddapId(c.id) });
  }
  if (!isTableFormat(ext)) {
    throw new NotFound(
      `fileType=.${ext} is not supported here; griddap file types: .csv, .csvp, .csv0, .tsv, .tsvp, .tsv0, .json, .jsonlCSV, .jsonlCSV1, .jsonlKVP, .htmlTable, .nc, .ncHeader, .dds, .das, .dods, .ascii`,
    );
  }
  if (q.fields.length === 0) {
    const picks = q.axes.map((d) => {
      const s = q.slabs[d]!;
      return Int32Array.from(
        { length: Math.floor((s.stop - s.start) / s.stride) + 1 },
        (_, j) => s.start + j * s.stride,
      );
    });
    const columns = q.axes.map((d) => axisColumn(model, d));
    return sendStream(request, reply, erddapTable(ext, columns, axisRows(model, q.axes, picks), c.title), {
      type: TABLE_MEDIA[ext],
      controller,
    });
  }
  const plan = planGrid(model, gridRequestOf(q));
  // About 12 characters a cell in text.
  checkSize({
    bytes: plan.cells * (plan.axes.length + plan.fields.length) * 12,
    cells: plan.cells,
    fields: plan.fields.length,
    format: `.${ext}`,
    api: 'erddap',
  });
  const payload: GridPayload = {
    plan,
    read: (p, f) => readField(p, f, openReader, { signal: controller.signal }),
    collectionId: c.id,
    title: c.title,
    description: c.description,
    request: request.url,
  };
  const types = plan.fields.map((f) => fieldType(f.attrs, f.dtype));
  const columns: ErddapColumn[] = [
    ...plan.axes.map((_, d) => axisColumn(model, d)),
    ...plan.fields.map((f, i) => {
      const units = typeof f.attrs['units'] === 'string' ? f.attrs['units'] : undefined;
      return { name: f.name, type: types[i]!, ...(units ? { units } : {}) };
    }),
  ];
  return sendStream(
    request,
    reply,
    erddapTable(
      ext,
      columns,
      dataRows(
        payload,
        types.map((t) => t === 'float'),
      ),
      c.title,
    ),
    { type: TABLE_MEDIA[ext], controller, prime: 2 },
  );
}

async function* once(rows: ErddapValue[][]): AsyncGenerator<ErddapValue[][]> {
  yield rows;
}

function sendTable(
  request: FastifyRequest,
  reply: FastifyReply,
  ext: string,
  columns: ErddapColumn[],
  rows: ErddapValue[][],
  title: string,
): Promise<FastifyReply> {
  if (!isTableFormat(ext))
    throw new NotFound(`fileType=.${ext} is not supported here: use .json, .csv, .csvp, .tsv, .jsonlKVP or .htmlTable`);
  return sendStream(request, reply, erddapTable(ext as ErddapTableFormat, columns, once(rows), title), {
    type: TABLE_MEDIA[ext as ErddapTableFormat],
    controller: new AbortController(),
  });
}

function landing(ctx: ApiContext, request: FastifyRequest, base: string): string {
  const rows = erddapCollections(ctx, request).map((c) => {
    const id = erddapId(c.id);
    const protocol = c.kind === 'grid' ? 'griddap' : 'tabledap';
    return [
      `<a href="${esc(c.kind === 'grid' ? `${base}/erddap/griddap/${id}.html` : `${base}/erddap/info/${id}/index.html`)}">${esc(id)}</a>`,
      protocol,
      esc(c.title),
      `<a href="${esc(`${base}/erddap/info/${id}/index.html`)}">info</a>`,
    ];
  });
  return page(
    'ERDDAP-compatible access',
    [
      { label: 'odas', href: `${base}/` },
      { label: 'ERDDAP', href: `${base}/erddap` },
    ],
    `<p>griddap URLs for every grid collection, as ERDDAP builds them:
<code>${esc(base)}/erddap/griddap/{datasetID}.csv?var[(2016-07-07T00:00:00Z)][(42):(45)][(30):(35)]</code>; tabledap URLs for
every profile, trajectory and time-series collection: <code>${esc(base)}/erddap/tabledap/{datasetID}.csv?platform_number,time,pres,temp&amp;time&gt;=2008-03-01&amp;pres&lt;=100</code>. Dataset ids are the collection ids with
<code>-</code> turned into <code>_</code> (and a leading <code>d</code> when they start with a digit). Lists:
<a href="${esc(base)}/erddap/tabledap/allDatasets.html">allDatasets</a>, <a href="${esc(base)}/erddap/search/index.json?searchFor=sst">search</a>.</p>
${table(['datasetID', 'protocol', 'title', 'metadata'], rows)}`,
  );
}

async function erddapRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  const text = { content: { 'text/plain': { schema: { type: 'string' } } } };
  const errors = {
    400: { description: 'Query error (ERDDAP Error {…} text)', ...text },
    404: { description: 'Unknown datasetID or file type (ERDDAP Error {…} text)', ...text },
  };
  const wrap =
    (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await handler(request, reply);
      } catch (err) {
        return sendErddapError(request, reply, err);
      }
    };
  const ok = {
    200: {
      description: 'The answer in the asked file type',
      content: {
        'text/csv': { schema: { type: 'string' } },
        'application/json': { schema: { type: 'object' } },
        'text/html': { schema: { type: 'string' } },
        'application/x-netcdf': { schema: { type: 'string', format: 'binary' } },
      },
    },
  };
  for (const path of ['/erddap', '/erddap/index.html']) {
    app.get(
      path,
      {
        schema: {
          summary: 'ERDDAP-compatible access: the griddap datasets (HTML)',
          tags: ['ERDDAP'],
          response: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
      async (request, reply) =>
        reply.type('text/html; charset=utf-8').send(landing(ctx, request, baseUrl(ctx, request))),
    );
  }
  app.get(
    '/erddap/griddap/:target',
    {
      schema: {
        summary:
          'griddap: {datasetID}.{csv,csvp,csv0,tsv,json,jsonlCSV,jsonlKVP,htmlTable,nc,ncHeader,dds,das,dods,ascii}?var[(start):stride:(stop)]… (parentheses: axis values; (last), last-n)',
        tags: ['ERDDAP'],
        params: {
          type: 'object',
          required: ['target'],
          properties: { target: { type: 'string', description: 'datasetID and file type, e.g. coads_sst.csv' } },
        },
        response: {
          ...ok,
          ...errors,
          413: { description: 'Over the size limit, with the estimate (ERDDAP Error {…} text)', ...text },
        },
      },
    },
    wrap((request, reply) => griddap(ctx, request, reply)),
  );
  app.get(
    '/erddap/info/:datasetId/:file',
    {
      schema: {
        summary: 'The metadata of a dataset: info/{datasetID}/index.{json,csv,tsv,htmlTable}',
        tags: ['ERDDAP'],
        params: {
          type: 'object',
          required: ['datasetId', 'file'],
          properties: {
            datasetId: { type: 'string' },
            file: { type: 'string', description: 'index.json, index.csv, index.html…' },
          },
        },
        response: { ...ok, ...errors },
      },
    },
    wrap(async (request, reply) => {
      const { datasetId, file } = request.params as { datasetId: string; file: string };
      const { id, ext } = splitTarget(file);
      if (id !== 'index') throw new NotFound(`info/${datasetId}/${file}: use index.json, index.csv or index.html`);
      const named =
        ctx.collections.get(datasetId) ?? erddapCollections(ctx, request).find((x) => erddapId(x.id) === datasetId);
      const rows =
        named && named.kind !== 'grid'
          ? tableInfoRows(await tableDataset(tabledapCollection(ctx, request, datasetId)))
          : await (async () => {
              const c = griddapCollection(ctx, request, datasetId);
              return infoRows(c, await collectionGrid(c, request.log));
            })();
      return sendTable(
        request,
        reply,
        ext === 'html' ? 'htmlTable' : ext,
        INFO_COLUMNS,
        rows,
        `${erddapId(named?.id ?? datasetId)} metadata`,
      );
    }),
  );
  app.get(
    '/erddap/search/:file',
    {
      schema: {
        summary:
          'Full-text search of the datasets: search/index.{json,csv,htmlTable}?searchFor=words&page=1&itemsPerPage=1000',
        tags: ['ERDDAP'],
        params: { type: 'object', required: ['file'], properties: { file: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: { searchFor: { type: 'string' }, page: { type: 'string' }, itemsPerPage: { type: 'string' } },
        },
        response: { ...ok, ...errors },
      },
    },
    wrap(async (request, reply) => {
      const { file } = request.params as { file: string };
      const { id, ext } = splitTarget(file);
      if (id !== 'index') throw new NotFound(`search/${file}: use index.json, index.csv or index.html`);
      const q = request.query as { searchFor?: string; page?: string; itemsPerPage?: string };
      const pageNo = Number(q.page ?? 1);
      const per = Number(q.itemsPerPage ?? 1000);
      if (!Number.isInteger(pageNo) || pageNo < 1 || !Number.isInteger(per) || per < 1)
        throw new InvalidParameterValue('query', 'page and itemsPerPage are whole numbers ≥ 1');
      const all = searchRows(ctx, request, q.searchFor ?? '', baseUrl(ctx, request));
      const rows = all.slice((pageNo - 1) * per, pageNo * per);
      if (rows.length === 0) throw new NotFound('Your query produced no matching results. (nRows = 0)');
      return sendTable(request, reply, ext === 'html' ? 'htmlTable' : ext, SEARCH_COLUMNS, rows, 'Search results');
    }),
  );
  app.get(
    '/erddap/tabledap/:target',
    {
      schema: {
        summary:
          'tabledap: {datasetID}.{csv,csvp,csv0,tsv,tsvp,json,jsonlCSV,jsonlKVP,htmlTable,geoJson,nc,ncCF,ncHeader,ncCFHeader}?var1,var2&var>=value&var=~"regex"&orderBy("a,b")&orderByClosest("a,time/1day")&distinct()&units("UCUM") over the in-situ collections; allDatasets.{json,csv,…}: one row per dataset',
        tags: ['ERDDAP'],
        params: { type: 'object', required: ['target'], properties: { target: { type: 'string' } } },
        response: {
          ...ok,
          ...errors,
          413: { description: 'Over the size limit, with the estimate (ERDDAP Error {…} text)', ...text },
        },
      },
    },
    wrap(async (request, reply) => {
      const { target } = request.params as { target: string };
      const { id, ext } = splitTarget(target);
      if (id !== 'allDatasets') return tabledap(ctx, request, reply, id, ext === 'html' ? 'htmlTable' : ext);
      const names = constraintOf(request.url)
        .split('&')[0]!
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const unknown = names.filter((n) => !ALL_DATASETS_COLUMNS.some((c) => c.name === n));
      if (unknown.length > 0)
        throw new InvalidParameterValue(
          'query',
          `Unrecognized variable="${unknown[0]}"; allDatasets has ${ALL_DATASETS_COLUMNS.map((c) => c.name).join(', ')}`,
        );
      const keep =
        names.length === 0
          ? ALL_DATASETS_COLUMNS.map((_, i) => i)
          : names.map((n) => ALL_DATASETS_COLUMNS.findIndex((c) => c.name === n));
      const rows = erddapCollections(ctx, request)
        .map((c) => allDatasetsRow(c, baseUrl(ctx, request)))
        .map((r) => keep.map((i) => r[i]!));
      return sendTable(
        request,
        reply,
        ext === 'html' ? 'htmlTable' : ext,
        keep.map((i) => ALL_DATASETS_COLUMNS[i]!),
        rows,
        'allDatasets',
      );
    }),
  );
}

export const erddapApi: ApiModule = {
  name: 'ERDDAP',
  conformance: [],
  routes: (app, opts) => erddapRoutes(app, opts),
};
