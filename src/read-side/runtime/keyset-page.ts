import type { JsonObject } from '../../event-store/event-store.port.js';
import { decodeCursor, encodeCursor, queryFingerprint } from '../../shared/application/cursor.js';
import type { FieldCondition, ReadDocument, ReadStore, SortDirection } from '../read-store.port.js';

export interface KeysetQuery {
  readonly where: Readonly<Record<string, FieldCondition>>;
  readonly orderBy: { readonly field: string; readonly direction: SortDirection };
  /** Documents per page (the caller has checked it: 1..100 over HTTP). */
  readonly limit: number;
  /** The nextCursor of the previous page; it must belong to this very query (filters and sort). */
  readonly cursor: string | null;
}

export interface KeysetPage {
  readonly docs: readonly ReadDocument[];
  /** Opaque; null on the last page. */
  readonly nextCursor: string | null;
}

/**
 * QP-3 (docs/architecture.md#read-patterns): one page of an indexed, keyset-paginated find. Reads one
 * document more than the page to know whether another follows; the cursor carries the last document's sort
 * value and id, and a fingerprint of the query, so it continues only the query that issued it.
 */
export async function keysetPage(
  store: ReadStore,
  collection: string,
  query: KeysetQuery,
): Promise<KeysetPage> {
  const { where, orderBy, limit, cursor } = query;
  const fingerprint = queryFingerprint({ where, orderBy });
  const found = await store.find(collection, {
    where,
    orderBy,
    limit: limit + 1,
    ...(cursor !== null && { after: decodeCursor(cursor, fingerprint) }),
  });
  const docs = found.slice(0, limit);
  const last = docs[docs.length - 1];
  if (found.length <= limit || !last) return { docs, nextCursor: null };
  const value = orderBy.field === 'position' ? Number(last.position) : sortValue(last.data, orderBy.field);
  return { docs, nextCursor: encodeCursor({ value, id: last.id }, fingerprint) };
}

function sortValue(data: JsonObject, field: string): string | number {
  const value = data[field];
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new Error(`read model: sort field ${field} is not a string or a number`);
  }
  return value;
}
