/**
 * The rules both read store adapters apply before anything reaches a store: names, specs, queries and
 * writes are checked here, once, so SQL and MongoDB filters are only ever built from validated field names
 * and scalar values (never from a value that could become an operator).
 */
import type {
  CollectionSpec,
  DocumentWrite,
  FieldCondition,
  FindQuery,
  Scalar,
  ScanOptions,
  SortDirection,
} from './read-store.port.js';

/**
 * Names that end up in SQL text or MongoDB commands (tables, collections, index names, JSON paths) are
 * checked against these before use; values never are: they are always bound parameters or operands.
 * - Collection: lower-case, no `__` (the embedded store's side tables `<collection>__<field>` and index names
 *   use it), not `sqlite_*` nor one of the stores' own collections, at most 64 characters (MongoDB and
 *   FerretDB accept it too).
 * - Field: a plain top-level identifier (no `.` or `$`, so it can be neither a path nor an operator).
 */
export const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Collections the stores keep for themselves. */
export const META_COLLECTION = 'read_meta';
export const CATALOG_COLLECTION = 'read_collections';
const RESERVED_COLLECTIONS = new Set([META_COLLECTION, CATALOG_COLLECTION]);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** What a store records of a collection: its spec, so a store opened later (or another instance) knows its fields. */
export interface StoredSpec {
  readonly indexes: readonly (readonly string[])[];
  readonly multiValued: readonly string[];
}

export type PlannedCondition =
  | { readonly field: string; readonly kind: 'eq'; readonly value: Scalar }
  | { readonly field: string; readonly kind: 'has'; readonly value: Scalar }
  | { readonly field: string; readonly kind: 'range'; readonly gte?: Scalar; readonly lte?: Scalar };

export interface QueryPlan {
  readonly conditions: readonly PlannedCondition[];
  readonly sort: { readonly field: string; readonly direction: SortDirection };
  readonly limit: number;
  readonly after?: { readonly value: Scalar; readonly id: string };
}

export function validateCollectionName(name: unknown): asserts name is string {
  if (
    typeof name !== 'string' ||
    !COLLECTION_NAME.test(name) ||
    name.includes('__') ||
    name.startsWith('sqlite_') ||
    RESERVED_COLLECTIONS.has(name)
  ) {
    throw new Error(
      `read store: invalid collection name ${JSON.stringify(name)} (expected ^[a-z][a-z0-9_]*$, at most 64 characters, no "__", not reserved)`,
    );
  }
}

export function validateField(field: unknown): asserts field is string {
  if (typeof field !== 'string' || !FIELD_NAME.test(field)) {
    throw new Error(`read store: invalid field name ${JSON.stringify(field)} (expected a plain identifier)`);
  }
}

export function validateSpec(spec: CollectionSpec): StoredSpec {
  validateCollectionName(spec.name);
  const multiValued = [...(spec.multiValued ?? [])];
  for (const field of multiValued) {
    validateField(field);
    if (field === 'position') throw new Error('read store: "position" cannot be multi-valued');
  }
  const lowered = new Set(multiValued.map((f) => f.toLowerCase()));
  if (lowered.size !== multiValued.length) {
    // The embedded adapter's side tables ignore case; both adapters refuse the same specs.
    throw new Error('read store: multi-valued field names must differ by more than letter case');
  }
  const indexes = spec.indexes.map((fields) => {
    if (fields.length === 0) throw new Error('read store: an index needs at least one field');
    if (new Set(fields).size !== fields.length) throw new Error('read store: an index repeats a field');
    for (const field of fields) {
      validateField(field);
      if (multiValued.includes(field)) {
        throw new Error(`read store: "${field}" is multi-valued; it cannot also be in a compound index`);
      }
    }
    return [...fields];
  });
  return { indexes, multiValued };
}

export function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function scalar(value: unknown, what: string): Scalar {
  if (!isScalar(value)) {
    throw new Error(`read store: ${what} must be a string, a finite number or a boolean`);
  }
  return value;
}

export function validateQuery(spec: StoredSpec, query: FindQuery): QueryPlan {
  if (!isPlainObject(query) || !isPlainObject(query.where)) throw new Error('read store: malformed query');
  const indexed = new Set(spec.indexes.flat());
  const conditions: PlannedCondition[] = [];
  for (const [field, raw] of Object.entries(query.where as Record<string, unknown>)) {
    const multi = spec.multiValued.includes(field);
    if (!multi && !indexed.has(field) && field !== 'position') {
      throw new Error(`read store: "${field}" is not an indexed or multi-valued field of this collection`);
    }
    if (!isPlainObject(raw)) throw new Error(`read store: the condition on "${field}" must be an object`);
    const condition = raw as FieldCondition & Record<string, unknown>;
    const keys = Object.keys(condition).sort();
    const what = `the value compared with "${field}"`;
    if (keys.length === 1 && keys[0] === 'has') {
      if (!multi) throw new Error(`read store: "has" needs a multi-valued field; "${field}" is not one`);
      conditions.push({ field, kind: 'has', value: scalar(condition.has, what) });
      continue;
    }
    if (multi) throw new Error(`read store: "${field}" is multi-valued: only "has" applies to it`);
    if (keys.length === 1 && keys[0] === 'eq') {
      const value = scalar(condition.eq, what);
      if (field === 'position' && typeof value !== 'number') {
        throw new Error('read store: position compares with numbers only');
      }
      conditions.push({ field, kind: 'eq', value });
      continue;
    }
    if (keys.length > 0 && keys.every((k) => k === 'gte' || k === 'lte')) {
      const gte = condition.gte === undefined ? undefined : scalar(condition.gte, what);
      const lte = condition.lte === undefined ? undefined : scalar(condition.lte, what);
      const types = new Set([gte, lte].filter((v) => v !== undefined).map((v) => typeof v));
      if (types.size !== 1 || types.has('boolean')) {
        throw new Error(
          `read store: a range on "${field}" needs bounds that are both numbers or both strings`,
        );
      }
      if (field === 'position' && !types.has('number')) {
        throw new Error('read store: position compares with numbers only');
      }
      conditions.push({ field, kind: 'range', gte, lte });
      continue;
    }
    throw new Error(
      `read store: the condition on "${field}" must be exactly one of {eq}, {has}, {gte?, lte?} (got ${JSON.stringify(keys)})`,
    );
  }

  const orderBy = query.orderBy as unknown;
  if (!isPlainObject(orderBy)) throw new Error('read store: orderBy is required');
  const sortField = orderBy.field;
  if (typeof sortField !== 'string' || (!indexed.has(sortField) && sortField !== 'position')) {
    throw new Error(
      `read store: cannot sort on ${JSON.stringify(sortField)}: not an indexed field or position`,
    );
  }
  if (orderBy.direction !== 'asc' && orderBy.direction !== 'desc') {
    throw new Error('read store: orderBy.direction must be "asc" or "desc"');
  }
  const limit = validateLimit(query.limit);
  let after: QueryPlan['after'];
  if (query.after !== undefined) {
    const raw = query.after as unknown;
    if (!isPlainObject(raw) || typeof raw.id !== 'string') {
      throw new Error('read store: after must be {value, id} with a string id');
    }
    const value = scalar(raw.value, 'after.value');
    if (sortField === 'position' && typeof value !== 'number') {
      throw new Error('read store: after.value must be a number when sorting on position');
    }
    after = { value, id: raw.id };
  }
  return { conditions, sort: { field: sortField, direction: orderBy.direction }, limit, after };
}

function validateLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw new Error('read store: limit must be a non-negative integer');
  }
  return limit;
}

/** The options of a `scan`, checked (the collection name is checked where it is used). */
export function validateScan(options: ScanOptions): ScanOptions {
  const limit = validateLimit(options.limit);
  if (options.after !== undefined && typeof options.after !== 'string') {
    throw new Error('read store: scan after must be a string id');
  }
  return { after: options.after, limit };
}

/** Meta values are JSON objects (the null that means "delete" in compareAndSetMeta is not checked here). */
export function validateMetaValue(value: unknown): void {
  if (!isPlainObject(value)) throw new Error('read store: a meta value must be a JSON object');
}

/** A collection used before `ensureCollection` created it (here or on another instance). */
export function collectionNotFound(collection: string): Error {
  return new Error(`read store: collection "${collection}" does not exist (ensureCollection first)`);
}

export function int64(value: unknown, what: string): bigint {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) {
    throw new Error(`read store: ${what} must be a bigint in the int64 range`);
  }
  return value;
}

/** Checks a whole batch before anything is written. */
export function validateWrites(writes: readonly DocumentWrite[]): void {
  const ids = new Set<string>();
  for (const write of writes) {
    if (typeof write.id !== 'string' || write.id === '')
      throw new Error('read store: a write needs a string id');
    if (ids.has(write.id)) {
      // Unordered operations on one document would apply in an order nobody chose.
      throw new Error(`read store: id "${write.id}" appears twice in one batch`);
    }
    ids.add(write.id);
    if (write.expectedRevision !== null) int64(write.expectedRevision, 'expectedRevision');
    int64(write.revision, 'revision');
    int64(write.position, 'position');
    if (!isPlainObject(write.data)) throw new Error('read store: data must be a JSON object');
  }
}
