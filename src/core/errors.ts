/**
 * One error map for every API: each error carries its HTTP status and its OGC exception code,
 * and is rendered as `{"code","description"}` by the error plugin.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
    this.name = new.target.name;
  }
}

/** 400: a query parameter has a value the API cannot use; the message names the parameter. */
export class InvalidParameterValue extends ApiError {
  constructor(
    readonly parameter: string,
    detail: string,
  ) {
    super(400, 'InvalidParameterValue', `Invalid value for parameter '${parameter}': ${detail}`);
  }
}

/**
 * A well-formed selection that holds no data (a box or interval outside the extent, a polygon with
 * no cell inside). 400 where the API has nothing better; EDR answers it with 204 No Content.
 */
export class EmptySelection extends InvalidParameterValue {}

/** 400: a query parameter the API does not define. */
export class UnknownParameter extends ApiError {
  constructor(parameter: string, known: string[]) {
    super(
      400,
      'InvalidParameterValue',
      `Unknown query parameter '${parameter}'. Parameters accepted here: ${known.join(', ')}`,
    );
  }
}

/**
 * The client closed the connection before the answer was ready (nginx's 499): the reason its reads
 * were aborted with. Not a server failure: logged at info level, counted as a 4xx.
 */
export class ClientClosedRequest extends ApiError {
  constructor() {
    super(
      499,
      'ClientClosedRequest',
      'The client closed the connection before the answer was ready: its reads stopped.',
    );
  }
}

export class NotFound extends ApiError {
  constructor(description: string) {
    super(404, 'NotFound', description);
  }
}

/** 500-class fault in one collection's files: the message names the collection, the server keeps serving others. */
export class DataSourceError extends ApiError {
  constructor(collectionId: string, detail: string) {
    super(502, 'DataSourceError', `Collection '${collectionId}' could not be read: ${detail}`);
  }
}

/** 413: the answer would exceed the server's size limit; the message gives the estimate and how to split the request. */
export class ResponseTooLarge extends ApiError {
  constructor(description: string) {
    super(413, 'ResponseTooLarge', description);
  }
}

/** An error answer that carries response headers of its own (Retry-After, WWW-Authenticate). */
export class ApiErrorWithHeaders extends ApiError {
  constructor(
    statusCode: number,
    code: string,
    description: string,
    readonly headers: Record<string, string>,
  ) {
    super(statusCode, code, description);
  }
}

/** 503: the server is saturated or shutting down; Retry-After says when to come back. */
export class ServiceUnavailable extends ApiErrorWithHeaders {
  constructor(description: string, retryAfterSeconds: number) {
    super(503, 'ServiceUnavailable', description, { 'retry-after': String(retryAfterSeconds) });
  }
}

/**
 * A 503 the server chose (admission control, a full encode queue, shutdown): a normal answer under
 * overload, not a fault, so it is logged like a 4xx (no stack trace at error level): when thousands
 * are refused per second, logging each as an error costs the CPU the refusals are there to save.
 */
export class Refused extends ServiceUnavailable {}

/** 429: this client sent more requests than its rate allows. */
export class TooManyRequests extends ApiErrorWithHeaders {
  constructor(retryAfterSeconds: number) {
    super(429, 'TooManyRequests', `Too many requests from this client; retry in ${retryAfterSeconds} s.`, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

/** 401: the resource is restricted and the request carries no (valid) credentials. */
export class Unauthorized extends ApiErrorWithHeaders {
  constructor(description: string, challenge: string) {
    super(401, 'Unauthorized', description, { 'www-authenticate': challenge });
  }
}
