import {
  assertCurrency,
  assertMinorUnits,
  assertNever,
  MAX_QUANTITY,
  MIN_QUANTITY,
  type Decider,
} from '../../shared/domain/index.js';
import type { OrderCommand } from './order.commands.js';
import { OrderErrors } from './order.errors.js';
import type { OrderEvent, OrderLine, PaymentExceptionReason } from './order.events.js';
import type { OrderState } from './order.state.js';

export const initialOrderState: OrderState = {
  status: 'none',
  orderId: null,
  cartId: null,
  customerId: null,
  currency: null,
  lines: [],
  total: 0,
  paid: 0,
  refunded: 0,
  refundsSettled: 0,
  paymentId: null,
  paymentExceptions: [],
  failedPayments: 0,
  shipment: null,
  cancellationReason: null,
};

function assertExists(state: OrderState): void {
  if (state.status === 'none') throw OrderErrors.notFound();
}

/**
 * What the shop holds for the order and may not keep: everything paid and not refunded, less the total of an
 * order that goes ahead (paid, shipped or delivered). A cancelled order keeps nothing.
 */
export function refundDue(state: OrderState): number {
  const kept =
    state.status === 'paid' || state.status === 'shipped' || state.status === 'delivered'
      ? Math.min(state.total, state.paid)
      : 0;
  return Math.max(0, state.paid - state.refunded - kept);
}

export function decideOrder(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder': {
      if (state.status !== 'none') throw OrderErrors.alreadyPlaced();
      const { orderId, cartId, customerId, currency } = command.data;
      assertCurrency(currency);
      if (command.data.lines.length === 0) throw OrderErrors.empty();
      // The lines come from a checked-out cart, which already enforced these; checked again so that an order
      // can never be placed with lines the cart would have refused (e.g. a negative price offsetting a total).
      for (const { sku, quantity, unitPrice } of command.data.lines) {
        if (
          sku.length === 0 ||
          !Number.isInteger(quantity) ||
          quantity < MIN_QUANTITY ||
          quantity > MAX_QUANTITY
        )
          throw OrderErrors.invalidLine(sku);
        assertMinorUnits('unitPrice', unitPrice);
      }
      const lines: OrderLine[] = command.data.lines.map(({ sku, name, quantity, unitPrice }) => ({
        sku,
        name,
        quantity,
        unitPrice,
        lineTotal: quantity * unitPrice,
      }));
      const total = lines.reduce((sum, line) => sum + line.lineTotal, 0);
      assertMinorUnits('total', total);
      return [{ type: 'OrderPlaced', data: { orderId, cartId, customerId, lines, total, currency } }];
    }
    case 'RecordPayment': {
      assertExists(state);
      const { paymentId, amount, currency } = command.data;
      assertMinorUnits('amount', amount, { allowZero: false });
      const exception = (reason: PaymentExceptionReason): OrderEvent[] => [
        { type: 'PaymentExceptionRecorded', data: { paymentId, amount, currency, reason } },
      ];
      if (currency !== state.currency) return exception('currency-mismatch');
      // Money captured for a cancelled order is recorded as it is; the refund process gives it back.
      if (state.status === 'cancelled') return [{ type: 'OrderPaid', data: { paymentId, amount } }];
      if (state.status !== 'placed') return exception('already-paid');
      if (amount !== state.total) return exception('amount-mismatch');
      return [{ type: 'OrderPaid', data: { paymentId, amount } }];
    }
    case 'RecordPaymentFailure': {
      assertExists(state);
      return [{ type: 'PaymentFailed', data: { ...command.data } }];
    }
    case 'RecordRefundSettlement': {
      assertExists(state);
      const { paymentId, amount, currency } = command.data;
      assertMinorUnits('amount', amount, { allowZero: false });
      // Only what the shop refunded can be settled: anything else is for an operator, never silently counted.
      if (currency !== state.currency || state.refundsSettled + amount > state.refunded) {
        const reason: PaymentExceptionReason =
          currency !== state.currency ? 'currency-mismatch' : 'refund-not-made';
        return [{ type: 'PaymentExceptionRecorded', data: { paymentId, amount, currency, reason } }];
      }
      return [{ type: 'RefundSettled', data: { paymentId, amount } }];
    }
    case 'ShipOrder': {
      assertExists(state);
      if (state.status === 'cancelled') throw OrderErrors.cancelled();
      if (state.status === 'placed') throw OrderErrors.notPaid(state.status);
      if (state.status !== 'paid') throw OrderErrors.alreadyShipped(state.status);
      return [{ type: 'OrderShipped', data: { ...command.data } }];
    }
    case 'DeliverOrder': {
      assertExists(state);
      if (state.status === 'cancelled') throw OrderErrors.cancelled();
      if (state.status === 'delivered') throw OrderErrors.alreadyDelivered();
      if (state.status !== 'shipped') throw OrderErrors.notShipped(state.status);
      return [{ type: 'OrderDelivered', data: {} }];
    }
    case 'CancelOrder': {
      assertExists(state);
      if (state.status === 'cancelled') throw OrderErrors.cancelled();
      if (state.status === 'delivered') throw OrderErrors.alreadyDelivered();
      if (state.status === 'shipped') throw OrderErrors.alreadyShipped(state.status);
      return [{ type: 'OrderCancelled', data: { reason: command.data.reason } }];
    }
    case 'RefundOrder': {
      assertExists(state);
      if (state.paid === 0) throw OrderErrors.notPaid(state.status);
      assertMinorUnits('amount', command.data.amount, { allowZero: false });
      const refundable = state.paid - state.refunded;
      if (command.data.amount > refundable) throw OrderErrors.refundExceedsPaid(refundable);
      return [{ type: 'OrderRefunded', data: { amount: command.data.amount } }];
    }
    case 'RefundBalance': {
      assertExists(state);
      const due = refundDue(state);
      return due > 0 ? [{ type: 'OrderRefunded', data: { amount: due } }] : [];
    }
    default:
      return assertNever(command);
  }
}

export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced':
      return {
        ...state,
        status: 'placed',
        orderId: event.data.orderId,
        cartId: event.data.cartId,
        customerId: event.data.customerId,
        currency: event.data.currency,
        lines: event.data.lines,
        total: event.data.total,
      };
    case 'OrderPaid':
      return {
        ...state,
        status: state.status === 'placed' ? 'paid' : state.status,
        paid: state.paid + event.data.amount,
        paymentId: state.paymentId ?? event.data.paymentId,
      };
    case 'OrderShipped':
      return { ...state, status: 'shipped', shipment: { ...event.data } };
    case 'OrderDelivered':
      return { ...state, status: 'delivered' };
    case 'OrderCancelled':
      return { ...state, status: 'cancelled', cancellationReason: event.data.reason };
    case 'OrderRefunded':
      return { ...state, refunded: state.refunded + event.data.amount };
    case 'PaymentExceptionRecorded':
      return { ...state, paymentExceptions: [...state.paymentExceptions, { ...event.data }] };
    case 'PaymentFailed':
      return { ...state, failedPayments: state.failedPayments + 1 };
    case 'RefundSettled':
      return { ...state, refundsSettled: state.refundsSettled + event.data.amount };
    default:
      return assertNever(event);
  }
}

export const orderDecider: Decider<OrderCommand, OrderState, OrderEvent> = {
  decide: decideOrder,
  evolve: evolveOrder,
  initialState: initialOrderState,
};
