import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AccessPolicy } from '../api/access.js';

/**
 * Every route of a restricted collection (`:collectionId` in its path: descriptions, items, data,
 * STAC items and files) needs a credential that grants it: 401 with a Bearer challenge otherwise,
 * before any admission slot or read. Listings and search filter themselves (see visibleCollections).
 */
export const accessPlugin = fp(async (app: FastifyInstance, opts: { access: AccessPolicy }) => {
  app.addHook('onRequest', async (request) => {
    if (!opts.access.anyRestricted) return;
    const id = (request.params as Record<string, unknown> | undefined)?.['collectionId'];
    if (typeof id === 'string') opts.access.check(request, id);
  });
});
