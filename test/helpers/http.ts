import type { FastifyInstance } from 'fastify';

/** The app listening on a free port of the loopback: tests drive it over real HTTP. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no TCP address');
  return `http://127.0.0.1:${addr.port}`;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export async function http(base: string, path: string, init?: RequestInit): Promise<HttpAnswer> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export async function httpJson<T = Record<string, unknown>>(
  base: string,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: T }> {
  const r = await http(base, path, init);
  if (r.status === 204) return { status: r.status, headers: r.headers, body: undefined as T };
  return { status: r.status, headers: r.headers, body: JSON.parse(r.text) as T };
}
