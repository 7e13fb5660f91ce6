import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Collection } from '../catalog/collection.js';
import type { CacheKind } from '../config/ops-schema.js';
import { classifyRoute, type RouteOpsConfig } from './route-class.js';

export interface HttpCacheOptions {
  collections: Map<string, Collection>;
  /** Cache-Control per kind of answer. */
  policy: Record<CacheKind, string>;
  /** Changes whenever the catalog commits; absent: the collections never change (tools, tests). */
  dataVersion?: () => string;
  /** Collections whose answers depend on credentials (sent 'private'). */
  restricted?: (id: string) => boolean;
  /** Public base URL (else each request's own: links in answers name it, so it is part of the validator). */
  baseUrl?: string;
}

/** Validators of an answer: an opaque tag over everything it depends on, and when that last changed. */
interface Validators {
  etag: string;
  lastModified: number;
}

/** File stamps are re-read at most this often: a burst of revalidations costs one stat per file. */
const STAT_TTL_MS = 1000;

class FileStamps {
  private readonly cache = new Map<
    string,
    { at: number; stamp: Promise<{ size: number; mtimeMs: number } | undefined> }
  >();

  get(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
    const now = Date.now();
    const hit = this.cache.get(path);
    if (hit && now - hit.at < STAT_TTL_MS) return hit.stamp;
    if (this.cache.size > 100_000) this.cache.clear();
    const stamp = stat(path).then(
      (s) => ({ size: s.size, mtimeMs: s.mtimeMs }),
      () => undefined,
    );
    this.cache.set(path, { at: now, stamp });
    return stamp;
  }
}

/** The query as a canonical string: parameter order and repeated spelling do not make another answer. */
function normalisedQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return '';
  const params = [...new URLSearchParams(url.slice(q + 1))];
  params.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Which compression the answer will be sent with (the compress plugin picks gzip first, then deflate). */
function encodingOf(request: FastifyRequest): string {
  const ae = request.headers['accept-encoding'];
  const text = Array.isArray(ae) ? ae.join(',') : (ae ?? '');
  if (/\bgzip\b(?!\s*;\s*q=0(\.0*)?\b)/i.test(text)) return 'gzip';
  if (/\bdeflate\b(?!\s*;\s*q=0(\.0*)?\b)/i.test(text)) return 'deflate';
  return 'identity';
}

function addVary(reply: FastifyReply, name: string): void {
  const prev = reply.getHeader('vary');
  const list =
    prev === undefined
      ? []
      : String(prev)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  if (!list.some((v) => v.toLowerCase() === name.toLowerCase())) list.push(name);
  reply.header('vary', list.join(', '));
}

/** Weak comparison (RFC 9110 §13.1.2: If-None-Match compares weakly). */
function matches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === bare);
}

/**
 * HTTP caching for every GET and HEAD: a strong ETag and Last-Modified computed before the handler
 * runs (grid answers from their files' size and mtime, everything else from the catalog's data
 * version) together with the normalised query, the negotiated format and encoding and the base URL;
 * a matching If-None-Match (or, without it, an If-Modified-Since not older than the data) is
 * answered 304 without reading anything. Cache-Control follows the configured policy per kind of
 * answer; error answers and operational routes are never cached.
 */
export const httpCachePlugin = fp(async (app: FastifyInstance, opts: HttpCacheOptions) => {
  const boot = randomUUID();
  const stamps = new FileStamps();
  // The catalog's version is a per-process counter: when it last changed is tracked here.
  let version = opts.dataVersion?.() ?? 'static';
  let versionSince = Date.now();
  const catalogVersion = (): { version: string; since: number } => {
    const v = opts.dataVersion?.() ?? 'static';
    if (v !== version) {
      version = v;
      versionSince = Date.now();
    }
    return { version, since: versionSince };
  };

  async function gridStamp(c: Collection): Promise<{ text: string; lastModified: number }> {
    const files = c.grid?.map((g) => g.file) ?? c.files;
    const found = await Promise.all(files.map((f) => stamps.get(join(c.root, f))));
    let lastModified = 0;
    const parts: string[] = [];
    found.forEach((s, i) => {
      parts.push(`${files[i]}:${s ? `${s.size}:${Math.round(s.mtimeMs)}` : 'missing'}`);
      if (s && s.mtimeMs > lastModified) lastModified = s.mtimeMs;
    });
    return { text: parts.join('\n'), lastModified };
  }

  async function validators(request: FastifyRequest, kind: CacheKind): Promise<Validators> {
    const params = request.params as Record<string, string> | undefined;
    const c = params?.['collectionId'] !== undefined ? opts.collections.get(params['collectionId']) : undefined;
    let source: string;
    let lastModified: number;
    if (c && c.kind === 'grid' && kind !== 'metadata' && kind !== 'stac') {
      const g = await gridStamp(c);
      source = `files\n${g.text}`;
      lastModified = g.lastModified;
    } else {
      const v = catalogVersion();
      source = `catalog\n${boot}\n${v.version}`;
      lastModified = v.since;
    }
    const hasF = /[?&]f=/.test(request.url);
    const h = createHash('sha256');
    h.update(source)
      .update('\0')
      .update(request.routeOptions.url ?? '')
      .update('\0')
      .update(request.url.split('?')[0]!)
      .update('\0');
    h.update(normalisedQuery(request.url))
      .update('\0')
      .update(hasF ? '' : String(request.headers.accept ?? ''))
      .update('\0');
    h.update(encodingOf(request))
      .update('\0')
      .update(opts.baseUrl ?? `${request.protocol}://${request.host}`)
      .update('\0');
    // Listings differ by who asks (restricted collections are hidden from anonymous clients).
    h.update(request.headers.authorization ?? '');
    return { etag: `"${h.digest('base64url').slice(0, 27)}"`, lastModified: Math.floor(lastModified / 1000) * 1000 };
  }

  function personal(request: FastifyRequest): boolean {
    const id = (request.params as Record<string, string> | undefined)?.['collectionId'];
    return request.headers.authorization !== undefined || (id !== undefined && opts.restricted?.(id) === true);
  }

  function policyFor(request: FastifyRequest, kind: CacheKind): string {
    const policy = opts.policy[kind];
    return personal(request) ? policy.replace(/\bpublic\b/, 'private') : policy;
  }

  function notModified(request: FastifyRequest, v: Validators): boolean {
    const inm = request.headers['if-none-match'];
    if (inm !== undefined) return matches(inm, v.etag);
    const ims = request.headers['if-modified-since'];
    if (ims === undefined) return false;
    const since = Date.parse(ims);
    return Number.isFinite(since) && v.lastModified <= since;
  }

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return;
    const kind = classifyRoute(
      request.routeOptions.url,
      request.routeOptions.config as RouteOpsConfig | undefined,
    ).cache;
    if (!kind) {
      reply.header('cache-control', 'no-store');
      return;
    }
    const v = await validators(request, kind);
    reply.header('etag', v.etag);
    reply.header('last-modified', new Date(v.lastModified).toUTCString());
    reply.header('cache-control', policyFor(request, kind));
    if (!/[?&]f=/.test(request.url)) addVary(reply, 'Accept');
    if (notModified(request, v)) return reply.code(304).send();
  });

  // A validator belongs to the answer it was computed for: an error answer has none and is not cached.
  // Answers that depend on credentials stay out of shared caches, whoever set their Cache-Control.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 400 && reply.hasHeader('etag')) {
      reply.removeHeader('etag');
      reply.removeHeader('last-modified');
      reply.header('cache-control', 'no-store');
    }
    const cc = reply.getHeader('cache-control');
    if (typeof cc === 'string' && /\bpublic\b/.test(cc) && personal(request))
      reply.header('cache-control', cc.replace(/\bpublic\b/, 'private'));
    return payload;
  });
});
