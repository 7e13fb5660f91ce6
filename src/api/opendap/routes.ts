/**
 * OPeNDAP DAP2 at /opendap/{collection}: .dds, .das, .dods (XDR), .ascii, and .html, over every grid
 * collection (a folder aggregated along time is one dataset) and every in-situ collection (CF DSG
 * arrays, see insitu.ts), for netCDF-C (python-netCDF4, xarray, Ferret, Panoply, ncread) and any
 * libdap client. A grid request is parsed into the shared grid plan and read through the shared
 * pipeline; an in-situ one reads the catalog's features; bad requests get DAP2 error objects.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isFeatureCollection, type Collection } from '../../catalog/collection.js';
import { collectionGrid } from '../../catalog/grid-model.js';
import { isoString } from '../../cf/time.js';
import { ApiError, ApiErrorWithHeaders, NotFound } from '../../core/errors.js';
import { checkSize } from '../../core/grid/limits.js';
import { readField } from '../../core/grid/read.js';
import { arraysAscii, arraysDas, arraysDds, arraysDods, arraysXdrBytes, dap2Dims } from '../../encoders/dap2/arrays.js';
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
import { selectArrays } from './array-constraint.js';
import { constraintOf, selectFromConstraint } from './constraint.js';
import { DAP4_SUFFIXES, dap4Answer, sendDap4Error, type Dap4Suffix } from './dap4.js';
import { inSituDap, type InSituDap } from './insitu.js';

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
      `Collection '${id}' holds ${c.kind} features, not a grid: its CF DSG arrays are the OPeNDAP dataset /opendap/${id}`,
    );
  return c;
}

/** The DSG arrays of an in-situ collection, or undefined for a grid collection. */
async function inSituOf(ctx: ApiContext, request: FastifyRequest, id: string): Promise<InSituDap | undefined> {
  const c = getCollection(ctx, id);
  if (c.kind === 'grid') return undefined;
  ctx.access?.check(request, c.id);
  if (!isFeatureCollection(c)) throw new NotFound(`Collection '${id}' has no features to serve`);
  return inSituDap(c);
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

/** The HTML page of an in-situ dataset: its arrays and how to open them. */
function inSituPage(dap: InSituDap, base: string): string {
  const { dataset, stringDims } = dap;
  const url = `${base}/opendap/${encodeURIComponent(dataset.name)}`;
  const sizes = new Map(dataset.dims.map((d) => [d.name, d.size]));
  const rows = dataset.variables.map((v) => [
    esc(v.name),
    esc(v.dtype === 'char' ? 'String' : v.dtype),
    esc(
      dap2Dims(v, stringDims)
        .map((d) => `${d} = ${sizes.get(d)}`)
        .join(', '),
    ),
    esc(String(v.attrs.find((a) => a.name === 'units')?.values[0] ?? '')),
  ]);
  const big = dataset.variables.find((v) => v.dims.length > 1 && v.dtype !== 'char') ?? dataset.variables[0];
  const featureType = dataset.globals.find((a) => a.name === 'featureType')?.values[0] ?? '';
  const body = `<p>OPeNDAP dataset <code>${esc(url)}</code>: CF discrete sampling geometry (${esc(String(featureType))}) arrays,
${esc(dataset.dims[0]!.name)} = ${dataset.dims[0]!.size} features by ${esc(dataset.dims[1]!.name)} = ${dataset.dims[1]!.size} (shorter features padded with _FillValue).
Open it with <code>xarray.open_dataset("${esc(url)}")</code> or <code>netCDF4.Dataset("${esc(url)}")</code>; DAP4: <code>${esc(url.replace(/^https?:/, 'dap4:'))}</code>.</p>
<p>DAP2: <a href="${esc(url)}.dds">DDS</a> · <a href="${esc(url)}.das">DAS</a> · <a href="${esc(url)}.ascii?${esc(big?.name ?? '')}${
    big
      ? dap2Dims(big, stringDims)
          .map(() => '[0:1:2]')
          .join('')
      : ''
  }">ASCII</a>.
DAP4: <a href="${esc(url)}.dmr">DMR</a> · <a href="${esc(url)}.dsr">DSR</a>.</p>
${table(['variable', 'type', 'dimensions', 'units'], rows)}`;
  return page(
    `${dataset.name} (OPeNDAP)`,
    [
      { label: 'odas', href: `${base}/` },
      { label: 'OPeNDAP', href: `${base}/opendap` },
      { label: dataset.name, href: url },
    ],
    body,
  );
}

async function answer(ctx: ApiContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { target } = request.params as { target: string };
  const t = parseTarget(target);
  const url = `${baseUrl(ctx, request)}/opendap/${encodeURIComponent(t.id)}`;
  const inSitu = t.suffix === 'ver' ? undefined : await inSituOf(ctx, request, t.id);
  if (inSitu)
    return t.dap === 2
      ? inSituDap2Answer(request, reply, inSitu, t.suffix, baseUrl(ctx, request))
      : dap4Answer(request, reply, inSitu.dataset, t.suffix, url);
  if (t.dap === 2) return dapAnswer(ctx, request, reply, t.id, t.suffix);
  const dap2 = await datasetOf(ctx, request, t.id);
  const dataset = gridDap4(dap2, (plan, field, signal) => readField(plan, field, openReader, { signal }));
  return dap4Answer(request, reply, dataset, t.suffix, url);
}

/** The 413 policy of every answer, with advice for DSG arrays. */
function checkArraysSize(dap: InSituDap, items: number, bytes: number, cells: number): void {
  const instance = dap.dataset.dims[0]!;
  checkSize({
    bytes,
    cells,
    fields: Math.max(1, items),
    format: 'DAP2 data',
    api: 'opendap',
    split: (parts) =>
      instance.size >= parts
        ? `split it along ${instance.name} into ${parts} or more hyperslabs of at most ${Math.floor(instance.size / parts)} features`
        : 'split it into smaller hyperslabs',
  });
}

/** One DAP2 response of an in-situ collection's DSG arrays. */
function inSituDap2Answer(
  request: FastifyRequest,
  reply: FastifyReply,
  dap: InSituDap,
  suffix: Suffix,
  base: string,
): FastifyReply | Promise<FastifyReply> {
  const sel = () => selectArrays(dap, constraintOf(request.url));
  const controller = new AbortController();
  const sized = (s: ReturnType<typeof sel>, factor: number) =>
    checkArraysSize(
      dap,
      s.items.length,
      arraysXdrBytes(s) * factor,
      s.items.reduce((n, i) => n + i.slabs.reduce((p, x) => p * (Math.floor((x.stop - x.start) / x.stride) + 1), 1), 0),
    );
  switch (suffix) {
    case 'das':
      return dapHeaders(reply, 'dods-das').type('text/plain; charset=utf-8').send(arraysDas(sel()));
    case 'dds':
      return dapHeaders(reply, 'dods-dds').type('text/plain; charset=utf-8').send(arraysDds(sel()));
    case 'dods': {
      const s = sel();
      sized(s, 1);
      dapHeaders(reply, 'dods-data');
      request.headers['x-no-compression'] = 'dap2-data';
      return sendStream(request, reply, arraysDods(s, controller.signal), {
        type: 'application/octet-stream',
        controller,
      });
    }
    case 'ascii': {
      const s = sel();
      sized(s, 3);
      dapHeaders(reply, 'dods-data');
      return sendStream(request, reply, arraysAscii(s, controller.signal), {
        type: 'text/plain; charset=utf-8',
        controller,
      });
    }
    default:
      return reply.type('text/html; charset=utf-8').send(inSituPage(dap, base));
  }
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
    .filter((c) => c.kind === 'grid' || isFeatureCollection(c))
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
    `<p>Every collection is a DAP2 and DAP4 dataset at <code>${esc(base)}/opendap/{id}</code>: grids as Grids, in-situ collections (profiles, trajectories, time series) as CF discrete sampling geometry arrays.</p>${table(['dataset', 'title', 'metadata'], rows)}`,
  );
}

async function opendapRoutes(app: FastifyInstance, opts: { ctx: ApiContext }): Promise<void> {
  const { ctx } = opts;
  app.get(
    '/opendap',
    {
      schema: {
        summary: 'The OPeNDAP datasets: one per collection, grid or in-situ (HTML)',
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
          'A collection as an OPeNDAP dataset: a grid as Grids, an in-situ collection (profiles, trajectories, time series) as CF DSG arrays (N_PROF × N_LEVELS for Argo). DAP2: {id}.dds, .das, .dods, .ascii (with a constraint expression such as ?sst[0:1:0][10:20][30:2:40]), .html. DAP4: {id}.dmr (.dmr.xml), .dap (chunked, little-endian, CRC-32 per variable unless dap4.checksum=false), .dsr, with ?dap4.ce=/sst[0:1:0][10:20][30:2:40];/lat; netCDF-C opens dap4://host/opendap/{id}',
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
            description: 'No such collection (DAP2 error object, DAP4 error document)',
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
  // Every grid and in-situ collection is a dataset: its page links the DDS, DAS, DMR and the client URLs.
  describeCollection: (c, doc, base) => {
    if (c.kind !== 'grid' && !isFeatureCollection(c)) return;
    doc.links.push({
      href: `${base}/opendap/${encodeURIComponent(c.id)}.html`,
      rel: 'alternate',
      type: 'text/html',
      title: `OPeNDAP (DAP2 and DAP4) dataset: ${c.kind === 'grid' ? 'Grids' : 'CF discrete sampling geometry arrays'}`,
    });
  },
};
