/** Errors of the h5wasm worker: the kinds the reader maps back to its error classes, HDF5's messages shortened. */
import type { SerializedError } from '../../../workers/pool.js';
import type { Hdf5ErrorCode } from '../worker-protocol.js';

export class Hdf5Fault extends Error {
  constructor(
    readonly code: Hdf5ErrorCode,
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'Hdf5Fault';
  }
}

/** The deepest frame of an HDF5-DIAG stack says what actually went wrong; the rest is call chain. */
export function summarizeHdf5Error(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (!text.includes('HDF5-DIAG')) return text;
  const frames = [...text.matchAll(/#\d+: [^\n]*? in [^\n(]*\(\): ([^\n]*)\n\s*major: ([^\n]*)\n\s*minor: ([^\n]*)/g)];
  const last = frames.at(-1);
  if (!last) return text.split('\n').slice(0, 2).join(' ').trim();
  const [, message = '', , minor = ''] = last;
  return `${message.trim()} (${minor.trim()})`;
}

/** A wasm trap or emscripten abort (WebAssembly.RuntimeError; the compile libs here do not type it). */
export function isWasmTrap(err: unknown): boolean {
  return err instanceof Error && err.name === 'RuntimeError';
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Hdf5Fault) return { name: err.name, message: err.message, code: err.code, data: err.data };
  if (err instanceof Error) return { name: err.name, message: summarizeHdf5Error(err) };
  return { name: 'Error', message: String(err) };
}
