import { Long } from 'mongodb';
import type { Json, JsonObject } from '../../event-store/event-store.port.js';
import type { ReadDocument } from '../read-store.port.js';

/** What a read document looks like in MongoDB. */
export interface StoredDocument {
  _id: string;
  /** int64 (the driver writes bigint as Long; read back with `useBigInt64`). */
  revision: bigint;
  position: bigint;
  projectedAt: Date;
  data: JsonObject;
  /**
   * Id of the `write` batch that last wrote this document. Not part of the read model: an unordered
   * bulkWrite reports only a total of matched updates, so when some updates of a batch conflict this is how
   * the batch tells which of its updates applied (see MongoBatchWriter.write).
   */
  writeId: string;
}

/** Where a field of the port lives in a stored document: `position` is top-level, the rest under `data`. */
export function fieldPath(field: string): string {
  return field === 'position' ? 'position' : `data.${field}`;
}

export function toDocument(stored: StoredDocument): ReadDocument {
  return {
    id: stored._id,
    revision: toBigInt(stored.revision, 'revision'),
    position: toBigInt(stored.position, 'position'),
    projectedAt: stored.projectedAt,
    data: decodeObject(stored.data),
  };
}

/** int64 from the server as bigint: `useBigInt64` gives bigint; a Long or a small number is accepted too. */
function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (value instanceof Long) return value.toBigInt();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new Error(`read store: stored ${what} is not an integer`);
}

/**
 * The stored form of `data` (and meta values). FerretDB 1.x refuses arrays directly inside arrays and keys
 * that contain `.` or start with `$` (MongoDB accepts such keys on insert but not everywhere in updates), and
 * it loses the sign of -0. All are valid JSON, so they are escaped, reversibly, and only where they occur:
 * - a key is escaped when it contains `~`, `.` or a leading `$`: `~` → `~t`, `.` → `~d`, leading `$` → `~s`
 *   (every `~` of a stored key then starts an escape, so decoding is unambiguous);
 * - an array element that is itself an array is stored as `{"~a": [...]}` (no escaped key can be `~a`);
 * - -0 is stored as 0, as JSON (and so the embedded store) has it.
 * Index and multi-valued fields are plain identifiers, and top-level arrays stay arrays, so indexes,
 * filters and multikey membership work on the stored form unchanged.
 */
const NESTED_ARRAY = '~a';

export function encodeObject(object: JsonObject): JsonObject {
  const encoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) encoded[encodeKey(key)] = encodeValue(value, false);
  return encoded as JsonObject;
}

export function decodeObject(object: Record<string, unknown>): JsonObject {
  const decoded: JsonObject = {};
  for (const [key, value] of Object.entries(object)) decoded[decodeKey(key)] = decodeValue(value);
  return decoded;
}

function encodeKey(key: string): string {
  if (!/[~.]/.test(key) && !key.startsWith('$')) return key;
  const escaped = key.replace(/~/g, '~t').replace(/\./g, '~d');
  return escaped.startsWith('$') ? `~s${escaped.slice(1)}` : escaped;
}

function decodeKey(key: string): string {
  if (!key.includes('~')) return key;
  return key.replace(/~([tds])/g, (_, code: string) => (code === 't' ? '~' : code === 'd' ? '.' : '$'));
}

function encodeValue(value: Json, inArray: boolean): unknown {
  if (Array.isArray(value)) {
    const array = value.map((element) => encodeValue(element, true));
    return inArray ? { [NESTED_ARRAY]: array } : array;
  }
  if (value !== null && typeof value === 'object') return encodeObject(value);
  return Object.is(value, -0) ? 0 : value;
}

function decodeValue(value: unknown): Json {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === NESTED_ARRAY) {
      return decodeValue((value as Record<string, unknown>)[NESTED_ARRAY]);
    }
    return decodeObject(value as Record<string, unknown>);
  }
  return value as Json;
}
