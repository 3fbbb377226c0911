import { DomainError, ITEM_NAME_RULE, MAX_QUANTITY, MIN_QUANTITY } from '../../shared/domain/index.js';

/** A line whose price in the catalog is not the one in the cart (`currentPrice` null: no longer sold). */
export interface PriceChange {
  readonly sku: string;
  readonly unitPrice: number;
  readonly currentPrice: number | null;
  /** Why it cannot be sold any more (`withdrawn`, `not-listed`, `not-priced`), when it cannot. */
  readonly reason: string | null;
}

/** Why the catalog does not sell a sku, in words (the `reason` of a CatalogOffer that is not available). */
const NOT_SOLD_BECAUSE: Readonly<Record<string, string>> = {
  'not-listed': 'the catalog does not list it',
  withdrawn: 'it has been withdrawn from the catalog',
  'not-priced': "the catalog has no price for it in this cart's currency",
};

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
  notAvailable: (sku: string, reason: string) =>
    new DomainError(
      'PRODUCT_NOT_AVAILABLE',
      `${sku} cannot be sold: ${NOT_SOLD_BECAUSE[reason] ?? reason}`,
      'invalid',
      { sku, reason },
    ),
  priceChanged: (sku: string, unitPrice: number, currentPrice: number) =>
    new DomainError(
      'PRICE_CHANGED',
      `${sku} is in the cart at unit price ${unitPrice}, but the catalog now asks ${currentPrice}: take the new prices (POST /carts/{id}/reprice) first`,
      'conflict',
      { sku, unitPrice, currentPrice },
    ),
  pricesChanged: (changes: readonly PriceChange[]) =>
    new DomainError(
      'PRICES_CHANGED',
      'The catalog changed since these items were added: review the cart, take the new prices (POST /carts/{id}/reprice) or remove what is no longer sold, then check out again',
      'conflict',
      { changes: changes.map((change) => ({ ...change })) },
    ),
  notAvailableAnyMore: (changes: readonly PriceChange[]) =>
    new DomainError(
      'PRODUCTS_NOT_AVAILABLE',
      'Some items are no longer sold in this currency: remove them, then take the new prices',
      'invalid',
      { changes: changes.map((change) => ({ ...change })) },
    ),
  changedMeanwhile: () =>
    new DomainError(
      'CART_CHANGED',
      'The cart changed while the catalog was asked for its prices; send the request again',
      'conflict',
    ),
  empty: () => new DomainError('CART_EMPTY', 'An empty cart cannot be checked out', 'conflict'),
  invalidSku: (sku: string) =>
    new DomainError(
      'INVALID_SKU',
      'A sku is 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"',
      'invalid',
      { sku },
    ),
  invalidName: () => new DomainError('INVALID_NAME', `An item name is ${ITEM_NAME_RULE}`, 'invalid'),
} as const;
