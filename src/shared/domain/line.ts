import { DomainError } from './domain-error.js';

/**
 * Limits of a line of a cart or an order. An order's lines are its checked-out cart's, and both contexts
 * hold them to the same limits (so a cart never checks out into an order that would refuse its lines).
 */
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 999;
/** An item name: 1 to this many characters, not blank. */
export const MAX_ITEM_NAME_LENGTH = 200;

/** Refuses an item name that is blank or longer than MAX_ITEM_NAME_LENGTH. */
export function assertItemName(name: string): void {
  if (name.trim().length === 0 || name.length > MAX_ITEM_NAME_LENGTH) {
    throw new DomainError(
      'INVALID_NAME',
      `An item name is 1 to ${MAX_ITEM_NAME_LENGTH} characters, not blank`,
      'invalid',
    );
  }
}
