import { DomainError, type DomainErrorKind } from '../../shared/domain/index.js';
import { MAX_PRODUCT_PRICES, MAX_WITHDRAWAL_REASON_LENGTH } from './product.commands.js';

/** Stable error codes of the catalog context; clients may branch on them. */
export const ProductErrors = {
  notFound: () => new DomainError('PRODUCT_NOT_FOUND', 'The product does not exist', 'not-found'),
  alreadyListed: () =>
    new DomainError(
      'PRODUCT_ALREADY_LISTED',
      'The product is already listed; change its prices or withdraw it',
      'conflict',
    ),
  withdrawn: () =>
    new DomainError('PRODUCT_WITHDRAWN', 'The product is withdrawn; list it again first', 'conflict'),
  priceRequired: () =>
    new DomainError('PRICE_REQUIRED', 'Give at least one price (a currency and an amount)', 'invalid'),
  /** `invalid` when the request names too many by itself, `conflict` when it would add too many. */
  tooManyPrices: (kind: DomainErrorKind) =>
    new DomainError(
      'TOO_MANY_PRICES',
      `A product has prices in at most ${MAX_PRODUCT_PRICES} currencies`,
      kind,
      { max: MAX_PRODUCT_PRICES },
    ),
  lastPrice: () =>
    new DomainError(
      'LAST_PRICE',
      'A listed product keeps at least one price; withdraw it instead of removing them all',
      'conflict',
    ),
  invalidReason: () =>
    new DomainError(
      'INVALID_REASON',
      `A reason is 1 to ${MAX_WITHDRAWAL_REASON_LENGTH} characters, not blank`,
      'invalid',
    ),
} as const;
