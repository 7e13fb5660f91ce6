import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { discover } from '../../src/catalog/discover.js';
import type { Collection } from '../../src/catalog/collection.js';
import type { CollectionConfig } from '../../src/config/collection-schema.js';
import { testCatalogOption } from './catalog-db.js';
import { sharedDataRoot } from './data.js';

export const SHARED_DATA = sharedDataRoot;

export const silent = pino({ level: 'silent' });

export async function discoverRoots(
  roots: string[],
  configs: CollectionConfig[] = [],
): Promise<Map<string, Collection>> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'odas-test-cache-'));
  return discover({ dataRoots: roots, configs, log: silent, cacheDir, ...(await testCatalogOption()) });
}

/** The app over real data roots, driven through fastify.inject. */
export async function buildTestApp(
  roots: string[] = [SHARED_DATA],
  configs: CollectionConfig[] = [],
): Promise<FastifyInstance> {
  const collections = await discoverRoots(roots, configs);
  return buildApp({ collections });
}

export async function getJson<T = Record<string, unknown>>(
  app: FastifyInstance,
  url: string,
): Promise<{ status: number; body: T; headers: Record<string, unknown> }> {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: JSON.parse(res.body) as T, headers: res.headers };
}
