import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isInside } from '../../catalog/walk.js';
import { ApiError, NotFound } from '../../core/errors.js';
import { fileMediaType } from '../../stac/links.js';

/** 416: the Range lies outside the file (RFC 9110 §15.5.17). */
class RangeNotSatisfiable extends ApiError {
  constructor(size: number) {
    super(416, 'RangeNotSatisfiable', `Invalid value for parameter 'Range' (header): the file has ${size} bytes`);
  }
}

/** One byte range of a `Range: bytes=…` header, or undefined to send the whole file (absent, or several ranges). */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) throw new RangeNotSatisfiable(size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (start >= size || start > end) throw new RangeNotSatisfiable(size);
  }
  return { start, end };
}

/**
 * Stream one file of a data root, whole or one byte range. `allowed` decides membership (the
 * collection's own files): a path is never built from the request alone, and the real path must
 * still lie inside the root (a symbolic link swapped in later cannot lead out of it).
 */
export async function sendDataFile(
  request: FastifyRequest,
  reply: FastifyReply,
  root: string,
  rel: string,
  allowed: boolean,
): Promise<FastifyReply> {
  if (!allowed || rel.split('/').some((p) => p === '..' || p === ''))
    throw new NotFound(`No file '${rel}' in this collection`);
  let real: string;
  let size: number;
  let mtime: Date;
  try {
    real = await realpath(join(root, rel));
    const st = await stat(real);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
    mtime = st.mtime;
  } catch {
    throw new NotFound(`No file '${rel}' in this collection`);
  }
  if (!isInside(root, real)) throw new NotFound(`No file '${rel}' in this collection`);
  const etag = `"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
  // A Range with a stale If-Range validator gets the whole, current file.
  const ifRange = request.headers['if-range'];
  let range: { start: number; end: number } | undefined;
  try {
    range = ifRange && ifRange !== etag ? undefined : parseRange(request.headers.range, size);
  } catch (err) {
    void reply.header('content-range', `bytes */${size}`);
    throw err;
  }
  void reply
    .header('accept-ranges', 'bytes')
    .header('etag', etag)
    .header('last-modified', mtime.toUTCString())
    .header('content-disposition', `inline; filename="${rel.replace(/^.*\//, '').replace(/["\\]/g, '_')}"`)
    .type(fileMediaType(rel));
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  if (!range) {
    void reply.header('content-length', String(size));
    return reply.send(request.method === 'HEAD' ? '' : createReadStream(real));
  }
  void reply
    .status(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
    .header('content-length', String(range.end - range.start + 1));
  return reply.send(request.method === 'HEAD' ? '' : createReadStream(real, { start: range.start, end: range.end }));
}
