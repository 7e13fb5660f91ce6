import type { Collection } from '../../catalog/collection.js';
import { isFeatureCollection } from '../../catalog/collection.js';
import { gridAnswer, type EdrAnswer } from './grid.js';
import { insituPayload } from './insitu.js';
import type { EdrQuery } from './query.js';

/**
 * The one entry point of an EDR query, free of HTTP: a parsed query on a collection → an answer
 * whose values are read as an encoder pulls them (benchmarks and tests call this directly).
 * `request` is the line recorded in outputs' history; `signal` stops every read.
 */
export function runEdrQuery(c: Collection, q: EdrQuery, request: string, signal?: AbortSignal): Promise<EdrAnswer> {
  return isFeatureCollection(c) ? insituPayload(c, q, request, signal) : gridAnswer(c, q, request, signal);
}
