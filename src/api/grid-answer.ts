/**
 * The grid answer pipeline shared by every API: a plan (from src/core/grid/plan.ts, made by the
 * API's own parser) → field streams read through the reader registry → an encoder from the one
 * registry (src/encoders/grid/registry.ts) → the size limit → the streaming edge. A protocol module
 * only parses its request into a GridRequest and names its format.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Collection } from '../catalog/collection.js';
import { checkLimit, type LimitApi } from '../core/grid/limits.js';
import type { GridPlan } from '../core/grid/plan.js';
import { readField, type OpenReader } from '../core/grid/read.js';
import type { GridPayload } from '../encoders/grid/payload.js';
import { GRID_ENCODERS, type EncodedGrid, type GridEncoder, type GridFormat } from '../encoders/grid/registry.js';
import { encodeInPool, offloadable } from '../encoders/offload/offload.js';
import { openReader } from '../readers/registry.js';
import { sendStream } from './stream.js';
import { admitEncode } from './work.js';

export interface GridAnswer extends EncodedGrid {
  plan: GridPlan;
  encoder: GridEncoder;
  payload: GridPayload;
}

export interface GridAnswerOptions {
  /** Aborting stops the reads in flight. */
  signal?: AbortSignal | undefined;
  /** The request as the history attribute names it ("GET <url>"). */
  request: string;
  /** How files are opened (default: the reader registry). */
  open?: OpenReader;
}

/** The payload of a plan on a collection: fields are read block by block as the encoder pulls them. */
export function gridPayload(c: Collection, plan: GridPlan, opts: GridAnswerOptions): GridPayload {
  const open = opts.open ?? openReader;
  const { signal } = opts;
  return {
    plan,
    read: (p, field) => readField(p, field, open, signal ? { signal } : {}),
    collectionId: c.id,
    title: c.title,
    description: c.description,
    request: opts.request,
  };
}

/** Checks the plan against the format (400) and sizes the answer; nothing is read yet. */
export function prepareGridAnswer(
  c: Collection,
  plan: GridPlan,
  format: GridFormat,
  opts: GridAnswerOptions,
): GridAnswer {
  const encoder = GRID_ENCODERS[format];
  const payload = gridPayload(c, plan, opts);
  return { ...encoder.prepare(payload), plan, encoder, payload };
}

export interface SendGridOptions {
  /** Aborted when the client goes away; the signal the answer's reads were given. */
  controller: AbortController;
  api: LimitApi;
  /** Download name without extension; absent: no Content-Disposition. */
  filename?: string;
  disposition?: 'attachment' | 'inline';
}

/** The size limit (413 with the estimate), then HEAD or the streamed answer. */
export async function sendGridAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: GridAnswer,
  opts: SendGridOptions,
): Promise<FastifyReply> {
  checkLimit(answer.plan, answer.bytes, answer.encoder.title, opts.api);
  const crs = answer.plan.model.crs.uri;
  if (crs) reply.header('content-crs', `<${crs}>`);
  const size = answer.exact ? { size: answer.bytes } : {};
  if (request.method === 'HEAD') {
    reply.type(answer.encoder.mediaType);
    if (size.size !== undefined) reply.header('content-length', size.size);
    // An (empty) stream: Fastify's HEAD handling then keeps the Content-Length of the GET answer.
    return reply.send(Readable.from([]));
  }
  await admitEncode(request, answer.encoder.mediaType, answer.bytes);
  const { format } = answer.encoder;
  // Large text answers are encoded by a worker (same encoder): the event loop only moves their bytes.
  const pooled = offloadable(format, answer.plan, answer.bytes);
  const body = pooled ? encodeInPool(format, answer.payload, opts.controller.signal) : answer.body();
  return sendStream(request, reply, body, {
    type: answer.encoder.mediaType,
    ...size,
    ...(opts.filename
      ? { filename: `${opts.filename}.${answer.encoder.extension}`, disposition: opts.disposition ?? 'attachment' }
      : {}),
    // A worker's first piece holds the encoder's first pieces (64 KiB of them): one is enough to catch a read error.
    prime: pooled ? 1 : answer.encoder.prime,
    controller: opts.controller,
  });
}
