import type { AuditView } from './audited-aggregates.js';

/**
 * Field-by-field difference between two views of one aggregate (a cart or an order at two revisions), and
 * its inverse `applyDiff`: applying `diffViews(a, b)` to `a` gives exactly `b` (a property test checks it on
 * generated histories). Pure: no I/O, no clock.
 */

/** One field whose value differs; objects (e.g. an order's shipment) are compared and reported whole. */
export interface FieldChange {
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface LineChange {
  readonly sku: string;
  /** Each differing field of the line: quantity, unitPrice, lineTotal, name. */
  readonly changes: readonly FieldChange[];
}

export interface LinesDiff {
  /** Lines of `to` whose sku `from` did not have, in `to`'s order. */
  readonly added: readonly AuditView['lines'][number][];
  /** Lines of `from` whose sku `to` does not have. */
  readonly removed: readonly AuditView['lines'][number][];
  readonly changed: readonly LineChange[];
  /**
   * The skus of `to` in order, present only when the order is not what removing, changing and appending the
   * added lines gives (a sku removed and added again moves to the end of a cart).
   */
  readonly order?: readonly string[];
}

export interface ViewDiff {
  /** Every top-level field but `lines` whose value differs (status, total, paid, shipment, …). */
  readonly fields: readonly FieldChange[];
  readonly lines: LinesDiff;
}

/** Deep equality of plain JSON values. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => Object.hasOwn(right, key) && sameJson(left[key], right[key]))
  );
}

function fieldChanges(from: object, to: object, skip: ReadonlySet<string>): FieldChange[] {
  const a = from as Record<string, unknown>;
  const b = to as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((field) => !skip.has(field));
  return fields
    .filter((field) => !sameJson(a[field], b[field]))
    .map((field) => ({ field, from: a[field] ?? null, to: b[field] ?? null }));
}

const LINES = new Set(['lines']);
const SKU = new Set(['sku']);

export function diffViews<View extends AuditView>(from: View, to: View): ViewDiff {
  const before = new Map(from.lines.map((line) => [line.sku, line]));
  const after = new Map(to.lines.map((line) => [line.sku, line]));
  const added = to.lines.filter((line) => !before.has(line.sku));
  const removed = from.lines.filter((line) => !after.has(line.sku));
  const changed: LineChange[] = [];
  for (const line of from.lines) {
    const next = after.get(line.sku);
    if (!next) continue;
    const changes = fieldChanges(line, next, SKU);
    if (changes.length > 0) changed.push({ sku: line.sku, changes });
  }
  const naive = [...from.lines.filter((line) => after.has(line.sku)), ...added].map((line) => line.sku);
  const order = to.lines.map((line) => line.sku);
  return {
    fields: fieldChanges(from, to, LINES),
    lines: { added, removed, changed, ...(sameJson(naive, order) ? {} : { order }) },
  };
}

/** The diff does not start from this view (applying it would not give the `to` view it was made for). */
export class DiffMismatchError extends Error {
  constructor(what: string) {
    super(`the diff does not apply: ${what}`);
    this.name = 'DiffMismatchError';
  }
}

function applyChanges<T extends object>(value: T, changes: readonly FieldChange[], where: string): T {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const { field, from, to } of changes) {
    if (!sameJson(out[field] ?? null, from))
      throw new DiffMismatchError(`${where}${field} is not ${JSON.stringify(from)}`);
    out[field] = to;
  }
  return out as T;
}

/**
 * `from` with `diff` applied: the `to` view the diff was made from. Checks every `from` value it replaces,
 * so a diff applied to another view fails loudly (DiffMismatchError) instead of producing a hybrid.
 */
export function applyDiff<View extends AuditView>(from: View, diff: ViewDiff): View {
  const removed = new Set(diff.lines.removed.map((line) => line.sku));
  const changed = new Map(diff.lines.changed.map((line) => [line.sku, line.changes]));
  const present = new Set(from.lines.map((line) => line.sku));
  for (const sku of [...removed, ...changed.keys()]) {
    if (!present.has(sku)) throw new DiffMismatchError(`line ${sku} is not there`);
  }
  for (const line of diff.lines.added) {
    if (present.has(line.sku)) throw new DiffMismatchError(`line ${line.sku} is already there`);
  }
  let lines = [
    ...from.lines
      .filter((line) => !removed.has(line.sku))
      .map((line) => {
        const changes = changed.get(line.sku);
        return changes ? applyChanges(line, changes, `line ${line.sku}: `) : line;
      }),
    ...diff.lines.added,
  ];
  const order = diff.lines.order;
  if (order) {
    const rank = new Map(order.map((sku, i) => [sku, i]));
    if (rank.size !== lines.length || lines.some((line) => !rank.has(line.sku))) {
      throw new DiffMismatchError('the line order names other skus');
    }
    lines = [...lines].sort((a, b) => rank.get(a.sku)! - rank.get(b.sku)!);
  }
  return { ...applyChanges(from, diff.fields, ''), lines };
}
