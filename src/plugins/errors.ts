import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError, ApiErrorWithHeaders, Refused } from '../core/errors.js';
import { CorruptFileError, ReaderRequestError } from '../readers/types.js';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

/** Turn an ajv route-schema failure into the parameter name and what was expected. */
function describeValidation(err: FastifyError): string {
  const issues = (err.validation ?? []) as ValidationIssue[];
  const parts = issues.map((v) => {
    const name = v.instancePath.replace(/^\//, '') || (v.params['missingProperty'] as string | undefined) || '';
    if (v.keyword === 'required')
      return `Invalid value for parameter '${name}': required, and not given (see the API description at /api)`;
    const allowed = Array.isArray(v.params['allowedValues'])
      ? `: one of ${(v.params['allowedValues'] as unknown[]).join(', ')}`
      : '';
    return name
      ? `Invalid value for parameter '${name}': ${v.message ?? 'invalid'}${allowed}`
      : (v.message ?? 'invalid request');
  });
  return parts.join('; ') || err.message;
}

/** A route's own rendering of an error, when its protocol has one; undefined leaves it to the OGC JSON form. */
type RenderError = (err: Error) => { status: number; type: string; body: string } | undefined;

/**
 * One error map for every API: OGC exception JSON `{"code","description"}`. User mistakes are 4xx;
 * a broken file is a 502 naming its collection; nothing else leaks as a bare 500.
 */
export const errorsPlugin = fp(async (app: FastifyInstance, opts: { onReaderError?: (kind: string) => void }) => {
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    let status = 500;
    let code = 'ServerError';
    let description = 'The server failed to answer this request; the error has been logged.';
    if (err instanceof ApiError) {
      status = err.statusCode;
      code = err.code;
      description = err.message;
    } else if ('validation' in err && err.validation) {
      status = 400;
      code = 'InvalidParameterValue';
      description = describeValidation(err);
    } else if (err instanceof ReaderRequestError) {
      status = 400;
      code = 'InvalidParameterValue';
      description = err.message;
    } else if (err instanceof CorruptFileError || err.name === 'UnsupportedFilterError') {
      status = 502;
      code = 'DataSourceError';
      description = `A data file could not be read: ${err.message}`;
    } else if (
      'statusCode' in err &&
      typeof err.statusCode === 'number' &&
      err.statusCode >= 400 &&
      err.statusCode < 500
    ) {
      status = err.statusCode;
      code = status === 404 ? 'NotFound' : status === 415 ? 'UnsupportedMediaType' : 'InvalidRequest';
      description = err.message;
    }
    if (code === 'DataSourceError') opts.onReaderError?.(err.name);
    if (err instanceof ApiErrorWithHeaders)
      for (const [name, value] of Object.entries(err.headers)) void reply.header(name, value);
    if (status >= 500 && !(err instanceof Refused)) request.log.error({ err }, description);
    else request.log.info({ status, code }, description);
    // A protocol with an error form of its own (WMS XML) renders errors raised before its handler (401, 429, 503).
    const own = (request.routeOptions.config as { renderError?: RenderError } | undefined)?.renderError?.(err);
    if (own) return void reply.status(own.status).type(own.type).send(own.body);
    void reply.status(status).type('application/json').send(JSON.stringify({ code, description }));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .type('application/json')
      .send(
        JSON.stringify({
          code: 'NotFound',
          description: `No resource at ${request.url.split('?')[0]}. Start at / for the landing page.`,
        }),
      );
  });
});
