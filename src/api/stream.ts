import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Smallest block handed to the socket (and to gzip). */
const BLOCK_BYTES = 64 * 1024;
/**
 * Longest stretch of encoding before the stream lets other requests run: a 2 MB CoverageJSON is
 * ~100 ms of CPU, and without a turn of the event loop cheap requests would wait behind all of it.
 * ODAS_ENCODE_SLICE_MS=0 turns the turns off (the load bench's reference).
 */
const SLICE_MS = Number(process.env['ODAS_ENCODE_SLICE_MS'] ?? 8);

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface StreamOptions {
  type: string;
  /** Exact byte length when known up front (Content-Length). */
  size?: number;
  /** Suggested file name (Content-Disposition). */
  filename?: string;
  /** attachment (saved; the default) or inline (shown). */
  disposition?: 'attachment' | 'inline';
  /** Pieces pulled before the status line is sent: a failure in them still becomes an error response. */
  prime?: number;
  /** Aborted when the client goes away before the end, to stop the reads in flight. */
  controller: AbortController;
}

/**
 * The one streaming edge of data answers (every grid answer, EDR in-situ answers): sends a
 * generated body with backpressure. The first pieces are produced before the headers,
 * so an unreadable file or a bad window is a proper error answer rather than a truncated stream;
 * after that an error cuts the connection (and is logged). A client that disconnects aborts the
 * controller and ends the generator, whose `finally` closes the readers.
 */
export async function sendStream(
  request: FastifyRequest,
  reply: FastifyReply,
  body: AsyncGenerator<Uint8Array | string>,
  opts: StreamOptions,
): Promise<FastifyReply> {
  const primed: Array<Uint8Array | string> = [];
  let done = false;
  let started = false;
  // Listened to before priming: a client that leaves while the first pieces are made (e.g. queued for
  // an encode worker) must still stop the work, or a pooled job would hold its worker for good.
  reply.raw.on('close', () => {
    if (reply.raw.writableFinished) return;
    opts.controller.abort(new Error('client closed the connection'));
    // The body stream may never be read now: close the generator here (it is queued behind a pending step).
    if (!started) void body.return(undefined).catch(() => undefined);
  });
  // Gone already (e.g. while it waited for an admission slot): 'close' has fired and will not again.
  if (reply.raw.destroyed) {
    opts.controller.abort(new Error('client closed the connection'));
    await body.return(undefined).catch(() => undefined);
    return reply.send();
  }
  try {
    for (let i = 0; i < (opts.prime ?? 1) && !done; i++) {
      const r = await body.next();
      if (r.done) done = true;
      else primed.push(r.value);
    }
  } catch (err) {
    await body.return(undefined).catch(() => undefined);
    // The client left while the first pieces were made: nobody to answer, nothing failed.
    if (opts.controller.signal.aborted) return reply.send();
    throw err;
  }
  let sent = 0;
  // Encoders emit many small pieces (a CoverageJSON answer over 15 000 profiles is 15 000 strings); each
  // piece is a write, and with gzip a thread-pool round trip: send them in blocks of at least 64 KiB.
  // A piece that is a block by itself (a field's values: 6.4 MB for the W3 box as DAP2) goes out as it is,
  // after what was gathered before it, rather than being copied into one buffer with a few header bytes.
  let parts: Buffer[] = [];
  let partBytes = 0;
  const take = (piece: Uint8Array | string): Buffer[] => {
    const b =
      typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (b.length >= BLOCK_BYTES) {
      const before = flush();
      sent += b.length;
      return before ? [before, b] : [b];
    }
    parts.push(b);
    partBytes += b.length;
    const block = partBytes >= BLOCK_BYTES ? flush() : undefined;
    return block ? [block] : [];
  };
  const flush = (): Buffer | undefined => {
    if (partBytes === 0) return undefined;
    const block = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    sent += block.length;
    return block;
  };
  async function* all(): AsyncGenerator<Uint8Array> {
    started = true;
    let sliceStart = performance.now();
    try {
      for (const piece of primed) yield* take(piece);
      if (!done) {
        for await (const piece of body) {
          yield* take(piece);
          if (SLICE_MS > 0 && performance.now() - sliceStart > SLICE_MS) {
            await turn();
            sliceStart = performance.now();
          }
        }
      }
      const last = flush();
      if (last) yield last;
    } catch (err) {
      if (!opts.controller.signal.aborted) request.log.error({ err }, 'data stream failed after its headers were sent');
      throw err;
    } finally {
      await body.return(undefined).catch(() => undefined);
      if (opts.controller.signal.aborted)
        request.log.info({ sent }, `client went away after ${sent} bytes: reads stopped`);
    }
  }
  reply.type(opts.type);
  if (opts.size !== undefined) reply.header('content-length', opts.size);
  if (opts.filename)
    reply.header('content-disposition', `${opts.disposition ?? 'attachment'}; filename="${opts.filename}"`);
  return reply.send(Readable.from(all(), { objectMode: false }));
}
