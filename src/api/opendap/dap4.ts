/**
 * OPeNDAP DAP4 answers at the DAP2 URLs with DAP4 suffixes, as Hyrax and THREDDS serve them:
 * `{id}.dmr` (and `.dmr.xml`, what netCDF-C asks for), `{id}.dap` (chunked data) and `{id}.dsr`,
 * with the `dap4.ce` constraint and `dap4.checksum`. netCDF-C opens them as `dap4://host/opendap/{id}`.
 * Errors are DAP4 error documents with the HTTP status.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ApiErrorWithHeaders, NotFound } from '../../core/errors.js';
import { checkSize } from '../../core/grid/limits.js';
import { slabCount } from '../../encoders/dap2/response.js';
import type { Dap4Dataset } from '../../encoders/dap4/dataset.js';
import { dap4DataBytes, dapBody } from '../../encoders/dap4/data.js';
import { dap4ErrorXml, dmrText, dsrText, type Dap4Selection } from '../../encoders/dap4/dmr.js';
import { CorruptFileError, ReaderRequestError } from '../../readers/types.js';
import { VERSION } from '../../version.js';
import { sendStream } from '../stream.js';
import { dap4Query, selectDap4 } from './dap4-constraint.js';

export const DAP4_SUFFIXES = ['dmr.xml', 'dmr', 'dap', 'dsr.xml', 'dsr'] as const;
export type Dap4Suffix = (typeof DAP4_SUFFIXES)[number];

const DMR_TYPE = 'application/vnd.opendap.dap4.dataset-metadata+xml';

function dap4Headers(reply: FastifyReply): FastifyReply {
  return reply.header('xdap', '4.0').header('xdods-server', `odas/${VERSION}`);
}

/** Errors as DAP4 error documents with the HTTP status (400 bad constraint, 404 no dataset, 413 too large, 502 broken file). */
export function sendDap4Error(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let status = 500;
  let message = 'The server failed to answer this request; the error has been logged.';
  if (err instanceof ApiError) [status, message] = [err.statusCode, err.message];
  else if (err instanceof ReaderRequestError) [status, message] = [400, err.message];
  else if (err instanceof CorruptFileError || (err instanceof Error && err.name === 'UnsupportedFilterError'))
    [status, message] = [502, `A data file could not be read: ${err.message}`];
  if (status >= 500) request.log.error({ err }, message);
  else request.log.info({ status }, message);
  if (err instanceof ApiErrorWithHeaders) void reply.headers(err.headers);
  return dap4Headers(reply)
    .status(status)
    .type('application/vnd.opendap.dap4.error+xml; charset=utf-8')
    .send(dap4ErrorXml(status, message));
}

/** The 413 policy of every grid answer, with DAP4's own advice (netCDF-C 4.9 reads a whole dataset when it opens it). */
function checkDap4Size(sel: Dap4Selection, bytes: number, url: string): void {
  const cells = sel.items.reduce((n, i) => n + i.slabs.reduce((p, s) => p * slabCount(s), 1), 0);
  const big = [...sel.items].sort(
    (a, b) => b.slabs.reduce((p, s) => p * slabCount(s), 1) - a.slabs.reduce((p, s) => p * slabCount(s), 1),
  )[0];
  const example = big
    ? `/${big.variable.name}${big.slabs.map((s) => `[${s.start}:1:${Math.min(s.stop, s.start + 9)}]`).join('')}`
    : '/var[0:1:9]';
  checkSize({
    bytes,
    cells,
    fields: Math.max(1, sel.items.length),
    format: 'DAP4 data',
    api: 'opendap',
    split: () =>
      `constrain it: ${url.split('?')[0]}?dap4.ce=${example} (with netCDF-C: dap4://…?dap4.ce=${example}, which it needs for a dataset this large since it reads what it opens)`,
  });
}

/** One DAP4 response of a dataset (errors are thrown: the caller writes them as DAP4 errors). */
export async function dap4Answer(
  request: FastifyRequest,
  reply: FastifyReply,
  dataset: Dap4Dataset,
  suffix: Dap4Suffix,
  datasetUrl: string,
): Promise<FastifyReply> {
  const query = dap4Query(request.url);
  switch (suffix) {
    case 'dsr':
    case 'dsr.xml':
      return dap4Headers(reply)
        .type('application/vnd.opendap.dap4.dataset-services+xml; charset=utf-8')
        .send(dsrText(datasetUrl, `odas/${VERSION}`));
    case 'dmr':
    case 'dmr.xml': {
      const sel = { dataset, items: selectDap4(dataset, query.ce) };
      return dap4Headers(reply).type(`${DMR_TYPE}; charset=utf-8`).send(dmrText(sel));
    }
    case 'dap': {
      const sel = { dataset, items: selectDap4(dataset, query.ce) };
      checkDap4Size(sel, dap4DataBytes(sel, query.checksums), datasetUrl);
      const controller = new AbortController();
      dap4Headers(reply);
      // Sent as it is, as DAP2 data: compressing costs more than the read.
      request.headers['x-no-compression'] = 'dap4-data';
      return sendStream(request, reply, dapBody(sel, query.checksums, controller.signal), {
        type: 'application/vnd.opendap.dap4.data',
        controller,
      });
    }
    default:
      throw new NotFound(`'.${String(suffix)}' is not a DAP4 response`);
  }
}
