import type { OrderCommand } from '../orders/domain/order.commands.js';

export const PROVIDER_EVENT_TYPES = ['payment.succeeded', 'payment.failed', 'refund.succeeded'] as const;
export type ProviderEventType = (typeof PROVIDER_EVENT_TYPES)[number];

/** What the payment provider reports about one of our orders (the webhook's body). */
export interface ProviderEvent {
  /** The provider's own id of this event: the same event delivered again has the same id. */
  readonly id: string;
  readonly type: ProviderEventType;
  readonly data: {
    readonly orderId: string;
    readonly paymentId: string;
    /** Integer minor units. */
    readonly amount: number;
    readonly currency: string;
    /** Why a payment failed (payment.failed only). */
    readonly failureReason?: string;
  };
}

/** The order command a provider event asks for. */
export function orderCommandOf(event: ProviderEvent): OrderCommand {
  const { paymentId, amount, currency, failureReason } = event.data;
  switch (event.type) {
    case 'payment.succeeded':
      return { type: 'RecordPayment', data: { paymentId, amount, currency } };
    case 'payment.failed':
      return { type: 'RecordPaymentFailure', data: { paymentId, reason: failureReason ?? 'not given' } };
    case 'refund.succeeded':
      return { type: 'RecordRefundSettlement', data: { paymentId, amount, currency } };
  }
}
