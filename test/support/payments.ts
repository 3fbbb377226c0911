import { randomUUID } from 'node:crypto';
import type TestAgent from 'supertest/lib/agent.js';
import { signatureHeader } from '../../src/payments/webhook-signature.js';
import { TEST_PAYMENT_WEBHOOK_SECRET } from './secrets.js';

export interface ProviderEventBody {
  readonly id: string;
  readonly type: 'payment.succeeded' | 'payment.failed' | 'refund.succeeded';
  readonly data: {
    readonly orderId: string;
    readonly paymentId: string;
    readonly amount: number;
    readonly currency: string;
    readonly failureReason?: string;
  };
}

/** A provider event for the order (a fresh event id unless given). */
export function providerEvent(
  orderId: string,
  amount: number,
  options: Partial<Omit<ProviderEventBody, 'data'>> & Partial<ProviderEventBody['data']> = {},
): ProviderEventBody {
  const { id, type, ...data } = options;
  return {
    id: id ?? `evt_${randomUUID()}`,
    type: type ?? 'payment.succeeded',
    data: { orderId, paymentId: `pi_${orderId.slice(0, 8)}`, amount, currency: 'EUR', ...data },
  };
}

/**
 * Sends the webhook as the payment provider would: the raw JSON body signed with the shared secret at `at`
 * (unix seconds, default now). Answers the supertest request, so `.expect(…)` chains.
 */
export function sendWebhook(
  http: TestAgent,
  body: ProviderEventBody | string,
  options: { secret?: string; at?: number; signature?: string | null } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const at = options.at ?? Math.floor(Date.now() / 1000);
  const request = http.post('/webhooks/payments').set('content-type', 'application/json');
  const signature =
    options.signature === undefined
      ? signatureHeader(options.secret ?? TEST_PAYMENT_WEBHOOK_SECRET, at, raw)
      : options.signature;
  if (signature !== null) void request.set('payment-signature', signature);
  return request.send(raw);
}

/** The order paid in full through the provider's webhook (the only way a shopper's payment arrives). */
export function payOrder(
  http: TestAgent,
  orderId: string,
  amount: number,
  options: Partial<ProviderEventBody['data']> & { id?: string } = {},
) {
  return sendWebhook(http, providerEvent(orderId, amount, options));
}
