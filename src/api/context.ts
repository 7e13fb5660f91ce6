import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Collection } from '../catalog/collection.js';
import type { IndexStatus } from '../catalog/indexer.js';
import type { StacService } from '../stac/service.js';
import type { AccessPolicy } from './access.js';
import { NotFound } from '../core/errors.js';
import type { CollectionDescriber } from './common/collection-doc.js';
import { FORMATS, type FormatName } from './negotiate.js';

/** What every API plugin needs: the collections, how to build absolute links, and the conformance list. */
export interface ApiContext {
  collections: Map<string, Collection>;
  title: string;
  description: string;
  /** Fixed public base URL (behind a proxy); otherwise taken from each request. */
  baseUrl?: string;
  conformance: string[];
  /** Each registered API's additions to a collection description (links, members). */
  describers: CollectionDescriber[];
  /** The STAC item index and static catalogs (built at start by the server; on first use otherwise). */
  stac?: StacService;
  /** The background indexer's progress, when there is one. */
  progress?: () => IndexStatus;
  /** Restricted collections and who may read them (none: everything is public). */
  access?: AccessPolicy;
}

/** The collections this request may see: restricted ones only with a credential that grants them. */
export function visibleCollections(ctx: ApiContext, request: FastifyRequest): Collection[] {
  const all = [...ctx.collections.values()];
  const access = ctx.access;
  return access?.anyRestricted ? all.filter((c) => access.visible(request, c.id)) : all;
}

/** May this request see collection `id` (listings, search)? */
export function isVisible(ctx: ApiContext, request: FastifyRequest, id: string): boolean {
  return ctx.access?.visible(request, id) ?? true;
}

export function baseUrl(ctx: ApiContext, request: FastifyRequest): string {
  if (ctx.baseUrl) return ctx.baseUrl.replace(/\/$/, '');
  return `${request.protocol}://${request.host}`;
}

export function getCollection(ctx: ApiContext, id: string): Collection {
  const c = ctx.collections.get(id);
  if (!c) {
    const known = [...ctx.collections.keys()].filter((k) => !ctx.access?.restricted(k));
    throw new NotFound(
      `No collection '${id}'. Collections: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`,
    );
  }
  return c;
}

/** Send pre-serialised JSON (or any text) with its media type: route serializers never touch it. */
export function sendText(reply: FastifyReply, format: FormatName | string, body: string): FastifyReply {
  const type = format in FORMATS ? FORMATS[format as FormatName].mediaType : format;
  return reply.type(type).send(body);
}
