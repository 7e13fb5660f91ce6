import type { GeoJsonGeometry } from '../geometry.js';

/**
 * CQL2 filters as a tree, whichever encoding (text or JSON) they came in. Only what the declared
 * conformance classes need: basic CQL2, advanced comparisons (LIKE, BETWEEN, IN), S_INTERSECTS,
 * the temporal functions, with property references on the left and literals on the right.
 */
export type Cql2Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  /** Epoch milliseconds; an instant from TIMESTAMP(...) or a day from DATE(...). */
  | { kind: 'instant'; start: number; end: number }
  /** Open ends are ±Infinity. */
  | { kind: 'interval'; start: number; end: number }
  | { kind: 'geometry'; value: GeoJsonGeometry };

export interface Cql2Property {
  kind: 'property';
  name: string;
}

export type ComparisonOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export const TEMPORAL_OPS = [
  't_after',
  't_before',
  't_contains',
  't_disjoint',
  't_during',
  't_equals',
  't_finishedby',
  't_finishes',
  't_intersects',
  't_meets',
  't_metby',
  't_overlappedby',
  't_overlaps',
  't_startedby',
  't_starts',
] as const;
export type TemporalOp = (typeof TEMPORAL_OPS)[number];

export type Cql2Node =
  | { op: 'and' | 'or'; args: Cql2Node[] }
  | { op: 'not'; arg: Cql2Node }
  | { op: 'compare'; cmp: ComparisonOp; property: Cql2Property; value: Cql2Literal }
  | { op: 'like'; property: Cql2Property; pattern: string }
  | { op: 'between'; property: Cql2Property; low: Cql2Literal; high: Cql2Literal }
  | { op: 'in'; property: Cql2Property; values: Cql2Literal[] }
  | { op: 'isNull'; property: Cql2Property }
  | { op: 's_intersects'; property: Cql2Property; geometry: GeoJsonGeometry }
  | { op: TemporalOp; property: Cql2Property; value: Cql2Literal & { kind: 'instant' | 'interval' } }
  | { op: 'literal'; value: boolean };

/** The parameter every CQL2 error names. */
export const FILTER = 'filter';
