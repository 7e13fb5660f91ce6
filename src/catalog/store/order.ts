/**
 * `sortby` (OGC API - Features sorting, STAC sort) as an ORDER BY over `items i`: core names map to
 * columns, any other sortable to its JSON property (the dialect's accessor). Ties keep file order.
 */
import { InvalidParameterValue } from '../../core/errors.js';
import type { JsonType, SortField } from './types.js';
import { SQLITE, type SqlDialect } from './where.js';

export function orderBy(
  sortby: readonly SortField[],
  types: Record<string, JsonType>,
  opts: { dialect?: SqlDialect; sortablesHref?: string } = {},
): string {
  const dialect = opts.dialect ?? SQLITE;
  const parts = sortby.map((s) => {
    const n = s.field.replace(/^properties\./, '');
    const d = s.direction === 'asc' ? 'ASC' : 'DESC';
    if (n === 'id') return `i.id ${d}`;
    if (n === 'datetime' || n === 'start_datetime') return `i.sk ${d}`;
    if (n === 'end_datetime') return `i.e ${d}`;
    if (!(n in types)) {
      throw new InvalidParameterValue(
        'sortby',
        `cannot sort by '${s.field}': not a sortable property (see ${opts.sortablesHref ?? 'the queryables'}): id, datetime, ${Object.keys(
          types,
        )
          .filter((k) => k !== 'datetime')
          .join(', ')}`,
      );
    }
    return `${dialect.property(n, types[n])} ${d}`;
  });
  return `${parts.join(', ')}, i.rowid ASC`;
}
