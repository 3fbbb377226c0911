/**
 * Limits of a line of a cart or an order. An order's lines are its checked-out cart's, and both contexts
 * hold them to the same limits (so a cart never checks out into an order that would refuse its lines).
 */
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 999;
/** An item name: 1 to this many characters, not blank. */
export const MAX_ITEM_NAME_LENGTH = 200;
