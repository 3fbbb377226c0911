import { createHash } from 'node:crypto';
import { InvalidRequestError } from './errors.js';

/** Where a page ended: the sort value and id of its last item. */
export interface CursorPosition {
  readonly value: string | number;
  readonly id: string;
}

/** A fingerprint of the query a cursor belongs to: a cursor only continues the query that made it. */
export function queryFingerprint(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
}

/** Opaque to clients: base64url JSON. Not a secret, just not a contract. */
export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ v: position.value, i: position.id, q: fingerprint })).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string, fingerprint: string): CursorPosition {
  const invalid = (why: string) =>
    new InvalidRequestError('INVALID_CURSOR', `cursor is not valid here: ${why}`, 'cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor this service issued');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not a cursor this service issued');
  const { v, i, q } = parsed as Record<string, unknown>;
  if ((typeof v !== 'string' && typeof v !== 'number') || typeof i !== 'string' || typeof q !== 'string') {
    throw invalid('not a cursor this service issued');
  }
  if (q !== fingerprint) throw invalid('it belongs to a query with other filters or another sort');
  return { value: v, id: i };
}
