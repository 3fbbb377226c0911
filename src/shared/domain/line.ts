import { DomainError } from './domain-error.js';

/**
 * Limits of a line of a cart or an order. An order's lines are its checked-out cart's, and both contexts
 * hold them to the same limits (so a cart never checks out into an order that would refuse its lines).
 */
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 999;
/**
 * An item name (a catalog product's, which carts copy): 1 to this many characters, counted in Unicode code
 * points (an emoji is one, however many UTF-16 units it takes) — what JSON Schema's `maxLength` counts too.
 */
export const MAX_ITEM_NAME_LENGTH = 200;

/** C0 and C1 control characters (NUL, tab, line feed, escape, DEL, …): never part of a name. */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f';
/** What JavaScript's `\s` matches besides control characters: spaces that show nothing. */
const SPACE = ' \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

/**
 * The characters of an item name: no control character, and at least one that is neither a space nor a control
 * character (a name of only NUL, or only spaces, is blank). Written with explicit ranges, not `\s`, so that the
 * OpenAPI document states the same rule in any regex dialect.
 */
export const ITEM_NAME_PATTERN = new RegExp(`^[${SPACE}]*[^${CONTROL}${SPACE}][^${CONTROL}]*$`);

/** A UTF-16 surrogate without its other half: not a character at all, and no UTF-8 encoder can write it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const ITEM_NAME_RULE = `1 to ${MAX_ITEM_NAME_LENGTH} characters (Unicode code points), at least one of them visible (not a space), no control characters and no lone UTF-16 surrogates`;

/** The length of a name as the rules count it: Unicode code points. */
export function nameLength(name: string): number {
  let length = 0;
  for (const _ of name) length++;
  return length;
}

/** Whether `name` may name an item: see ITEM_NAME_RULE. */
export function isItemName(name: string): boolean {
  const length = nameLength(name);
  return (
    length >= 1 &&
    length <= MAX_ITEM_NAME_LENGTH &&
    !LONE_SURROGATE.test(name) &&
    ITEM_NAME_PATTERN.test(name)
  );
}

/** Refuses an item name that breaks ITEM_NAME_RULE. */
export function assertItemName(name: string): void {
  if (!isItemName(name))
    throw new DomainError('INVALID_NAME', `An item name is ${ITEM_NAME_RULE}`, 'invalid');
}
