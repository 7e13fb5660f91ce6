/** What the main thread asks of the encode worker: a grid answer in a text format, or an image (PNG, JPEG, WebP). */
import type { GridPayload } from '../grid/payload.js';
import type { GridFormat } from '../grid/registry.js';
import type { LossyFormat } from '../render/formats.js';
import type { IndexedImage } from '../render/png.js';

/** The grid formats encoded in the worker: text, ~100 ms of CPU per 2 MB on the main thread. */
export const OFFLOADED_FORMATS = ['covjson', 'csv', 'geojson'] as const satisfies readonly GridFormat[];
export type OffloadedFormat = (typeof OFFLOADED_FORMATS)[number];

export type EncodeJob =
  | { kind: 'grid'; format: OffloadedFormat; payload: Omit<GridPayload, 'read'> }
  | { kind: 'png'; image: IndexedImage }
  | { kind: 'lossy'; format: LossyFormat; image: IndexedImage; background?: [number, number, number] };
