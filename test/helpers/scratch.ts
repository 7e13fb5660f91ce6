import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { CollectionConfig } from '../../src/config/collection-schema.js';
import { discoverRoots, SHARED_DATA } from './app.js';
import { listen } from './http.js';

/** A server over files a test writes or copies (next to the shared data set), listening on the loopback. */
export interface ScratchServer {
  app: FastifyInstance;
  /** The test's temporary folder: the data root below it, and room for files the test writes itself. */
  scratch: string;
  /** The data root the test filled (`scratch`/data). */
  root: string;
  /** `http://127.0.0.1:port` */
  base: string;
  /** `127.0.0.1:port` (for dap4:// and other schemes). */
  hostPort: string;
  /** Close the server and remove the temporary folder. */
  close(): Promise<void>;
}

export interface ScratchOptions {
  /** Collection configs for the scratch root. */
  configs?: CollectionConfig[];
  /** Serve the shared data set's collections too (default true). */
  shared?: boolean;
}

/**
 * Fill a fresh data root (synthetic files, copies of real ones), index it (and the shared data set)
 * to the end, and serve both from one app on a free port.
 */
export async function serveScratch(
  prefix: string,
  fill: (root: string) => Promise<void>,
  opts: ScratchOptions = {},
): Promise<ScratchServer> {
  const scratch = await mkdtemp(join(tmpdir(), prefix));
  const root = join(scratch, 'data');
  await mkdir(root);
  await fill(root);
  const collections = new Map([
    ...(opts.shared === false ? [] : await discoverRoots([SHARED_DATA])),
    ...(await discoverRoots([root], opts.configs ?? [])),
  ]);
  const app = await buildApp({ collections });
  const base = await listen(app);
  return {
    app,
    scratch,
    root,
    base,
    hostPort: base.slice('http://'.length),
    close: async () => {
      await app.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
