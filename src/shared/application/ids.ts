import { createHash, randomUUID } from 'node:crypto';

/** Namespace for the name-based (v5) UUIDs ordertrail derives from idempotency keys. */
const NAMESPACE = Buffer.from('6f1c2b0e5a7d4c3e9b8a1f2d3c4b5a69', 'hex');

/** RFC 9562 UUIDv5: the same name always gives the same id, so a retried request lands on the same ids. */
export function uuidFromName(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function randomId(): string {
  return randomUUID();
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
