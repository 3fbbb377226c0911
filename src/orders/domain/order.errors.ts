import { DomainError, MAX_QUANTITY, MIN_QUANTITY } from '../../shared/domain/index.js';

/** Stable error codes of the order context; clients may branch on them. */
export const OrderErrors = {
  notFound: () => new DomainError('ORDER_NOT_FOUND', 'The order does not exist', 'not-found'),
  alreadyPlaced: () =>
    new DomainError('ORDER_ALREADY_PLACED', 'The order has already been placed', 'conflict'),
  invalidLine: (sku: string) =>
    new DomainError(
      'INVALID_ORDER_LINE',
      `Order line ${sku || '(no sku)'} needs a sku and a quantity from ${MIN_QUANTITY} to ${MAX_QUANTITY}`,
      'invalid',
      { sku },
    ),
  empty: () => new DomainError('ORDER_EMPTY', 'An order needs at least one line', 'invalid'),
  notPaid: (status: string) =>
    new DomainError('ORDER_NOT_PAID', `The order is ${status}: it has not been paid`, 'conflict', { status }),
  notShipped: (status: string) =>
    new DomainError('ORDER_NOT_SHIPPED', `The order is ${status}: it has not been shipped`, 'conflict', {
      status,
    }),
  alreadyShipped: (status: string) =>
    new DomainError('ORDER_ALREADY_SHIPPED', `The order is already ${status}`, 'conflict', { status }),
  alreadyDelivered: () =>
    new DomainError('ORDER_ALREADY_DELIVERED', 'The order has already been delivered', 'conflict'),
  cancelled: () => new DomainError('ORDER_CANCELLED', 'The order has been cancelled', 'conflict'),
  refundExceedsPaid: (maxRefundable: number) =>
    new DomainError('REFUND_EXCEEDS_PAID', `At most ${maxRefundable} can still be refunded`, 'conflict', {
      maxRefundable,
    }),
} as const;
