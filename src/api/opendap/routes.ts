/**
 * OPeNDAP DAP2 at /opendap/{collection}: .dds, .das, .dods (XDR), .ascii, and .html, over every grid
 * collection (a folder aggregated along time is one dataset), for netCDF-C (python-netCDF4,
 * xarray, Ferret, Panoply, ncread) and any libdap client. A request is parsed into the shared
 * grid plan and read through the shared pipeline; bad requests get DAP2 error objects.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { isoString } from '../../cf/time.js';
import { ApiError, ApiErrorWithHeaders, NotFound } from '../../core/errors.js';
import { checkSize } from '../../core/grid/limits.js';
import { readField } from '../../core/grid/read.js';
import { asciiBody } from '../../encoders/dap2/ascii.js';
import { dapDataset, type DapDataset } from '../../encoders/dap2/dataset.js';
import { dapErrorText, dasText, ddsText } from '../../encoders/dap2/dds.js';
import { slabCount, xdrBytes, type DapSelection } from '../../encoders/dap2/response.js';
import { dodsBody } from '../../encoders/dap2/xdr.js';
import { gridDap4 } from '../../encoders/dap4/grid.js';
import { esc, page, table } from '../../html/page.js';
import { CorruptFileError, ReaderRequestError } from '../../readers/types.js';
import { openReader } from '../../readers/registry.js';
import { VERSION } from '../../version.js';
import { baseUrl, getCollection, visibleCollections, type ApiContext } from '../context.js';
import type { ApiModule } from '../module.js';
import { sendStream } from '../stream.js';
import { constraintOf, selectFromConstraint } from './constraint.js';
import { DAP4_SUFFIXES, dap4Answer, sendDap4Error, type Dap4Suffix } from './dap4.js';

const SUFFIXES = ['dds', 'das', 'dods', 'ascii', 'asc', 'html', 'info', 'ver'] as const;
type Suffix = (typeof SUFFIXES)[number];

/** The answer of any DAP2 request carries these (clients log them; `dods-error` marks errors). */
function dapHeaders(reply: FastifyReply, description: string): FastifyReply {
  return reply
    .header('xdods-server', `odas/${VERSION}`)
    .header('xdap', '2.0')
    .header('content-description', description);
}

/** Errors as DAP2 error objects with the HTTP status (400 bad constraint, 404 no dataset, 413 too large, 502 broken file). */
function sendDapError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let status = 500;
  let message = 'The server failed to answer this request; the error has been logged.';
  if (err instanceof ApiError) [status, message] = [err.statusCode, err.message];
  else if (err instanceof ReaderRequestError) [status, message] = [400, err.message];
  else if (err instanceof CorruptFileError || (err instanceof Error && err.name === 'UnsupportedFilterError'))
    [status, message] = [502, `A data file could not be read: ${err.message}`];
  if (status >= 500) request.log.error({ err }, message);
  else request.log.info({ status }, message);
  if (err instanceof ApiErrorWithHeaders) void reply.headers(err.headers);
  return dapHeaders(reply, 'dods-error')
    .status(status)
    .type('text/plain; charset=utf-8')
    .send(dapErrorText(status, message));
}

function gridCollection(ctx: ApiContext, id: string): Collection {
  const c = getCollection(ctx, id);
  if (c.kind !== 'grid')
    throw new NotFound(
      `Collection '${id}' holds ${c.kind} features: OPeNDAP serves the grid collections here (see /opendap/)`,
    );
  return c;
}

async function datasetOf(ctx: ApiContext, request: FastifyRequest, id: string): Promise<DapDataset> {
  const c = gridCollection(ctx, id);
  // A restricted collection needs its credential here as on /collections/{id} (401 with a Bearer challenge).
  ctx.access?.check(request, c.id);
  const model = await collectionGrid(c, request.log);
  return dapDataset(c.id, model, { ...model.attrs, title: c.title });
}

type Target = { id: string; dap: 2; suffix: Suffix } | { id: string; dap: 4; suffix: Dap4Suffix };

/** Splits `coads_sst.dods` or `coads_sst.dmr.xml` into the collection id and the suffix; a bare id is the dataset's HTML page. */
function parseTarget(target: string): Target {
  for (const s of DAP4_SUFFIXES)
    if (target.endsWith(`.${s}`) && target.length > s.length + 1)
      return { id: target.slice(0, -s.length - 1), dap: 4, suffix: s };
  const dot = target.lastIndexOf('.');
  const suffix = dot < 0 ? 'html' : target.slice(dot + 1);
  if (dot >= 0 && !(SUFFIXES as readonly string[]).includes(suffix)) {
    throw new NotFound(
      `'.${suffix}' is not an OPeNDAP response: use .dds, .das, .dods, .ascii or .html (DAP2), .dmr, .dap or .dsr (DAP4)`,
    );
  }
  return {
    id: dot < 0 ? target : target.slice(0, dot),
    dap: 2,
    suffix: suffix === 'asc' ? 'ascii' : (suffix as Suffix),
  };
}

function selectionOf(dataset: DapDataset, url: string, signal: AbortSignal): DapSelection {
  const items = selectFromConstraint(dataset, constraintOf(url));
  return { dataset, items, read: (plan, field) => readField(plan, field, openReader, { signal }) };
}

/** The 413 policy of every grid answer, with DAP2's own advice. */
function checkDapSize(sel: DapSelection, bytes: number): void {
  const fields = sel.items.filter((i) => i.kind === 'field');
  const cells = fields.reduce(
    (n, f) => n + (f.kind === 'field' ? f.slabs.reduce((p, s) => p * slabCount(s), 1) : 0),
    0,
  );
  const t = sel.dataset.model.axes.findIndex((a) => a.role === 't');
  checkSize({
    bytes,
    cells,
    fields: Math.max(1, fields.length),
    format: 'DAP2 data',
    api: 'opendap',
    split: (parts) => {
      const steps = sel.dataset.model.axes[t]?.values.length ?? 0;
      return t >= 0 && steps >= parts
        ? `split it along ${sel.dataset.model.axes[t]!.dim} into ${parts} or more hyperslabs of at most ${Math.floor(steps / parts)} steps`
        : 'split it into smaller hyperslabs';
    },
  });
}

function htmlPage(dataset: DapDataset, base: string): string {
  const url = `${base}/opendap/${encodeURIComponent(dataset.name)}`;
  const rows = dataset.variables.map((v) => {
    const dims = v.kind === 'coordinate' ? [dataset.model.axes[v.axis]!.dim] : v.field.dims;
    const shape = dims.map((d) => `${d} = ${dataset.model.axes.find((a) => a.dim === d)!.values.length}`).join(', ');
    const units = v.attrs.find((a) => a.name === 'units')?.values[0];
    return [
      esc(v.name),
      v.kind === 'coordinate' ? 'Array' : v.maps ? 'Grid' : 'Array',
      esc(v.type),
      esc(shape),
      esc(units ?? ''),
    ];
  });
  const t = dataset.model.axes.find((a) => a.role === 't');
  const body = `<p>OPeNDAP (DAP2) dataset <code>${esc(url)}</code>: open it with <code>xarray.open_dataset("${esc(url)}")</code>,
<code>netCDF4.Dataset("${esc(url)}")</code>, Ferret, Panoply or MATLAB's <code>ncread</code>.
${t ? `Time runs ${esc(isoString(t.values[0]!))} to ${esc(isoString(t.values[t.values.length - 1]!))} (${t.values.length} steps${dataset.model.files.length > 1 ? ` over ${dataset.model.files.length} files, one dataset` : ''}).` : ''}</p>
<p>DAP2: <a href="${esc(url)}.dds">DDS</a> · <a href="${esc(url)}.das">DAS</a> · <a href="${esc(url)}.ascii?${esc(dataset.variables[0]?.name ?? '')}">ASCII</a>.
DAP4: <a href="${esc(url)}.dmr">DMR</a> · <a href="${esc(url)}.dsr">DSR</a>; netCDF-C opens <code>${esc(url.replace(/^https?:/, 'dap4:'))}</code>
(add <code>?dap4.ce=/var[start:stride:stop]…</code> to read a slice: it reads what it opens).</p>
${table(['variable', 'DAP2 kind', 'type', 'dimensions', 'units'], rows)}
<p>Hyperslabs are index ranges <code>[start:stride:stop]</code> (stop inclusive), e.g.
<code>${esc(url)}.ascii?${esc(rows.at(-1)?.[0] ?? 'var')}${dataset.variables.at(-1)?.kind === 'field' ? (dataset.variables.at(-1) as { field: { dims: string[] } }).field.dims.map(() => '[0:1:0]').join('') : '[0:1:0]'}</code>.</p>`;
  return page(
    `${dataset.name} (OPeNDAP)`,
    [
      { label: 'odas', href: `${base}/` },
      { label: 'OPeNDAP', href: `${base}/opendap` },
      { label: dataset.name, href: `${base}/opendap/${encodeURIComponent(dataset.name)}` },
    ],
    body,
  );
}

async function answer(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { target } = request.params as { target: string };
  const t = parseTarget(target);
  if (t.dap === 2) return dapAnswer(ctx, request, reply, t.id, t.suffix);
  const url = `${baseUrl(ctx, request)}/opendap/${encodeURIComponent(t.id)}`;
  const dap2 = await datasetOf(ctx, request, t.id);
  const dataset = gridDap4(dap2, (plan, field, signal) => readField(plan, field, openReader, { signal }));
  return dap4Answer(request, reply, dataset, t.suffix, url);
}

/** Whether a suffix is a DAP2 response (ERDDAP's griddap serves them too). */
export function isDapSuffix(s: string): s is Suffix {
  return (SUFFIXES as readonly string[]).includes(s);
}

/** One DAP2 response of a grid collection (errors are thrown: each caller writes them in its protocol's form). */
export async function dapAnswer(
  ctx: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  id: string,
  suffix: Suffix,
): Promise<FastifyReply> {
  if (suffix === 'ver')
    return dapHeaders(reply, 'dods-version')
      .type('text/plain')
      .send(`Core version: dap/2.0\nServer version: odas/${VERSION}\n`);
  const dataset = await datasetOf(ctx, request, id);
  const controller = new AbortController();
  switch (suffix) {
    case 'html':
    case 'info':
      return reply.type('text/html; charset=utf-8').send(htmlPage(dataset, baseUrl(ctx, request)));
    case 'das':
      return dapHeaders(reply, 'dods-das').type('text/plain; charset=utf-8').send(dasText(dataset));
    case 'dds': {
      const sel = selectionOf(dataset, request.url, controller.signal);
      return dapHeaders(reply, 'dods-dds').type('text/plain; charset=utf-8').send(ddsText(sel));
    }
    case 'dods': {
      const sel = selectionOf(dataset, request.url, controller.signal);
      const header = Buffer.byteLength(`${ddsText(sel)}Data:\n`);
      const data = xdrBytes(sel);
      checkDapSize(sel, data);
      dapHeaders(reply, 'dods-data');
      // Sent as it is, as the NetCDF answers are: netCDF-C asks for gzip, and compressing the XDR stream costs
      // about twice the read itself (W3 box: 0.26 s plain, 0.8 s gzipped on loopback). @fastify/compress skips
      // any request carrying this header.
      request.headers['x-no-compression'] = 'dap2-data';
      return sendStream(request, reply, dodsBody(sel), {
        type: 'application/octet-stream',
        size: header + data,
        controller,
      });
    }
    case 'ascii': {
      const sel = selectionOf(dataset, request.url, controller.signal);
      // Text runs to about 12 characters a value.
      checkDapSize(sel, xdrBytes(sel) * 3);
      dapHeaders(reply, 'dods-data');
      return sendStream(request, reply, asciiBody(sel), { type: 'text/plain; charset=utf-8', controller });
    }
    default:
      throw new NotFound(`'.${suffix}' is not a DAP2 response`);
  }
}

function catalogPage(ctx: ApiContext, request: FastifyRequest, base: string): string {
  const rows = visibleCollections(ctx, request)
    .filter((c) => c.kind === 'grid')
    .map((c) => {
      const url = `${base}/opendap/${encodeURIComponent(c.id)}`;
      return [
        `<a href="${esc(url)}">${esc(c.id)}</a>`,
        esc(c.title),
        `<a href="${esc(url)}.dds">dds</a> <a href="${esc(url)}.das">das</a>`,
      ];
    });
  return page(
    'OPeNDAP datasets',
    [
      { label: 'odas', href: `${base}/` },
      { label: 'OPeNDAP', href: `${base}/opendap` },
    ],
    `<p>Every grid collection is a DAP2 and DAP4 dataset at <code>${esc(base)}/opendap/{id}</code>.</p>${table(['dataset', 'title', 'metadata'], rows)}`,
  );
}

async function opendapRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  app.get(
    '/opendap',
    {
      schema: {
        summary: 'The OPeNDAP datasets: one per grid collection (HTML)',
        tags: ['OPeNDAP'],
        response: { 200: { description: 'HTML list', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    },
    async (request, reply) =>
      reply.type('text/html; charset=utf-8').send(catalogPage(ctx, request, baseUrl(ctx, request))),
  );
  app.get(
    '/opendap/:target',
    {
      schema: {
        summary:
          'A grid collection as an OPeNDAP dataset. DAP2: {id}.dds, .das, .dods, .ascii (with a constraint expression such as ?sst[0:1:0][10:20][30:2:40]), .html. DAP4: {id}.dmr (.dmr.xml), .dap (chunked, little-endian, CRC-32 per variable unless dap4.checksum=false), .dsr, with ?dap4.ce=/sst[0:1:0][10:20][30:2:40];/lat; netCDF-C opens dap4://host/opendap/{id}',
        tags: ['OPeNDAP'],
        params: {
          type: 'object',
          required: ['target'],
          properties: {
            target: {
              type: 'string',
              description:
                'Collection id and DAP2 or DAP4 suffix, e.g. coads_sst.dds, coads_sst.dmr.xml, coads_sst.dap',
            },
          },
        },
        response: {
          200: {
            description: 'The DAP2 or DAP4 response',
            content: {
              'text/plain': { schema: { type: 'string' } },
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'text/html': { schema: { type: 'string' } },
              'application/vnd.opendap.dap4.dataset-metadata+xml': { schema: { type: 'string' } },
              'application/vnd.opendap.dap4.data': { schema: { type: 'string', format: 'binary' } },
              'application/vnd.opendap.dap4.dataset-services+xml': { schema: { type: 'string' } },
            },
          },
          400: {
            description: 'Bad constraint expression (DAP2 error object, DAP4 error document)',
            content: {
              'text/plain': { schema: { type: 'string' } },
              'application/vnd.opendap.dap4.error+xml': { schema: { type: 'string' } },
            },
          },
          404: {
            description: 'No such grid collection (DAP2 error object, DAP4 error document)',
            content: {
              'text/plain': { schema: { type: 'string' } },
              'application/vnd.opendap.dap4.error+xml': { schema: { type: 'string' } },
            },
          },
          413: {
            description:
              'The answer would exceed the size limit; the message gives the estimate (DAP2 error object, DAP4 error document)',
            content: {
              'text/plain': { schema: { type: 'string' } },
              'application/vnd.opendap.dap4.error+xml': { schema: { type: 'string' } },
            },
          },
        },
      },
    },
    async (request, reply) => {
      try {
        return await answer(ctx, request, reply);
      } catch (err) {
        const { target } = request.params as { target: string };
        return DAP4_SUFFIXES.some((s) => target.endsWith(`.${s}`))
          ? sendDap4Error(request, reply, err)
          : sendDapError(request, reply, err);
      }
    },
  );
}

export const opendapApi: ApiModule = {
  name: 'OPeNDAP',
  conformance: [],
  routes: (app, opts) => opendapRoutes(app, opts),
};
