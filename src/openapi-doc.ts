import { buildApp } from './app.js';

/** The OpenAPI document as the route schemas define it, independent of any data. */
export async function openapiDocument(): Promise<object> {
  const app = await buildApp({ collections: new Map() });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  return doc;
}
