/**
 * Field-by-field difference between two views of one aggregate (a cart, an order or a product at two
 * revisions), and its inverse `applyDiff`: applying `diffViews(a, b)` to `a` gives exactly `b` (a property
 * test checks it on generated histories). Views with `lines` (carts, orders) get them matched by sku; a view
 * without (a product) is diffed field by field only. Pure: no I/O, no clock.
 */

/** A line of a view: matched by its sku. */
export interface Line {
  readonly sku: string;
}

/** A view with lines keyed by sku (a cart's, an order's). */
export interface LinedView {
  readonly lines: readonly Line[];
}

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
  readonly added: readonly Line[];
  /** Lines of `from` whose sku `to` does not have. */
  readonly removed: readonly Line[];
  readonly changed: readonly LineChange[];
  /**
   * The skus of `to` in order, present only when the order is not what removing, changing and appending the
   * added lines gives (a sku removed and added again moves to the end of a cart).
   */
  readonly order?: readonly string[];
}

export interface FieldsDiff {
  /** Every top-level field but `lines` whose value differs (status, total, paid, shipment, prices, …). */
  readonly fields: readonly FieldChange[];
}

/** The diff of two views with lines. */
export interface ViewDiff extends FieldsDiff {
  readonly lines: LinesDiff;
}

/** The diff of any two views: `lines` only when they have lines. */
export interface AnyViewDiff extends FieldsDiff {
  readonly lines?: LinesDiff;
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

/** A view's lines, or null for a view without any (a product). */
function linesOf(view: object): readonly Line[] | null {
  const lines = (view as { lines?: unknown }).lines;
  return Array.isArray(lines) ? (lines as Line[]) : null;
}

function diffLines(from: readonly Line[], to: readonly Line[]): LinesDiff {
  const before = new Map(from.map((line) => [line.sku, line]));
  const after = new Map(to.map((line) => [line.sku, line]));
  const added = to.filter((line) => !before.has(line.sku));
  const removed = from.filter((line) => !after.has(line.sku));
  const changed: LineChange[] = [];
  for (const line of from) {
    const next = after.get(line.sku);
    if (!next) continue;
    const changes = fieldChanges(line, next, SKU);
    if (changes.length > 0) changed.push({ sku: line.sku, changes });
  }
  const naive = [...from.filter((line) => after.has(line.sku)), ...added].map((line) => line.sku);
  const order = to.map((line) => line.sku);
  return { added, removed, changed, ...(sameJson(naive, order) ? {} : { order }) };
}

export function diffViews(from: LinedView, to: LinedView): ViewDiff;
export function diffViews(from: object, to: object): AnyViewDiff;
export function diffViews(from: object, to: object): AnyViewDiff {
  const before = linesOf(from);
  const after = linesOf(to);
  const fields = fieldChanges(from, to, LINES);
  if (before === null && after === null) return { fields };
  return { fields, lines: diffLines(before ?? [], after ?? []) };
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
export function applyDiff<View extends LinedView>(from: View, diff: ViewDiff): View;
export function applyDiff<View extends object>(from: View, diff: AnyViewDiff): View;
export function applyDiff(from: object, diff: AnyViewDiff): object {
  if (diff.lines === undefined) return applyChanges(from, diff.fields, '');
  const lines = applyLines(linesOf(from) ?? [], diff.lines);
  return { ...applyChanges(from, diff.fields, ''), lines };
}

function applyLines(from: readonly Line[], diff: LinesDiff): Line[] {
  const removed = new Set(diff.removed.map((line) => line.sku));
  const changed = new Map(diff.changed.map((line) => [line.sku, line.changes]));
  const present = new Set(from.map((line) => line.sku));
  for (const sku of [...removed, ...changed.keys()]) {
    if (!present.has(sku)) throw new DiffMismatchError(`line ${sku} is not there`);
  }
  for (const line of diff.added) {
    if (present.has(line.sku)) throw new DiffMismatchError(`line ${line.sku} is already there`);
  }
  let lines = [
    ...from
      .filter((line) => !removed.has(line.sku))
      .map((line) => {
        const changes = changed.get(line.sku);
        return changes ? applyChanges(line, changes, `line ${line.sku}: `) : line;
      }),
    ...diff.added,
  ];
  const order = diff.order;
  if (order) {
    const rank = new Map(order.map((sku, i) => [sku, i]));
    if (rank.size !== lines.length || lines.some((line) => !rank.has(line.sku))) {
      throw new DiffMismatchError('the line order names other skus');
    }
    lines = [...lines].sort((a, b) => rank.get(a.sku)! - rank.get(b.sku)!);
  }
  return lines;
}
