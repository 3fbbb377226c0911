import { DomainError, MAX_ITEM_NAME_LENGTH, MAX_QUANTITY, MIN_QUANTITY } from '../../shared/domain/index.js';

/** Stable error codes of the cart context; clients may branch on them. */
export const CartErrors = {
  notFound: () => new DomainError('CART_NOT_FOUND', 'The cart does not exist', 'not-found'),
  alreadyOpened: () => new DomainError('CART_ALREADY_OPENED', 'The cart is already open', 'conflict'),
  closed: (status: string) =>
    new DomainError('CART_CLOSED', `The cart is ${status} and can no longer change`, 'conflict', { status }),
  invalidQuantity: (sku: string, quantity: number) =>
    new DomainError(
      'INVALID_QUANTITY',
      `The quantity of ${sku} must be an integer from ${MIN_QUANTITY} to ${MAX_QUANTITY}, got ${quantity}`,
      'invalid',
      {
        sku,
        quantity,
      },
    ),
  tooManyLines: (max: number) =>
    new DomainError('TOO_MANY_LINES', `A cart holds at most ${max} different items`, 'conflict', { max }),
  itemNotInCart: (sku: string) =>
    new DomainError('ITEM_NOT_IN_CART', `The cart has no item ${sku}`, 'not-found', { sku }),
  priceMismatch: (sku: string, unitPrice: number) =>
    new DomainError(
      'ITEM_PRICE_MISMATCH',
      `${sku} is already in the cart at unit price ${unitPrice}; change its quantity or remove it first`,
      'conflict',
      { sku, unitPrice },
    ),
  empty: () => new DomainError('CART_EMPTY', 'An empty cart cannot be checked out', 'conflict'),
  invalidSku: (sku: string) =>
    new DomainError(
      'INVALID_SKU',
      'A sku is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"',
      'invalid',
      { sku },
    ),
  invalidName: () =>
    new DomainError(
      'INVALID_NAME',
      `An item name is 1 to ${MAX_ITEM_NAME_LENGTH} characters, not blank`,
      'invalid',
    ),
} as const;
