import { createHmac, randomUUID } from 'node:crypto';
import { EXIT, positiveInteger, UsageError, writeJson, type ServiceCommand } from '../command.js';
import { DEV_PAYMENT_WEBHOOK_SECRET, signDevToken, signingSecret } from '../dev-token.js';
import { money } from '../format.js';

interface OrderRead {
  readonly data: { readonly total: number; readonly currency: string; readonly status: string };
}

interface WebhookAnswer {
  readonly orderId: string;
  readonly revision: number;
  readonly replayed: boolean;
}

const CURRENCY = /^[A-Z]{3}$/;

/**
 * What a payment provider does when a shopper has paid: a `payment.succeeded` webhook signed with the shared
 * secret (PAYMENT_WEBHOOK_SECRET, else the public development one) — the same HMAC the service checks
 * (payments/webhook-signature.ts, repeated here so that the CLI loads none of the service).
 */
export const payCommand: ServiceCommand = {
  usage: 'pay <orderId> [--amount minor-units] [--currency ISO-4217]',
  summary: 'pay an order as the payment provider would (a webhook signed with PAYMENT_WEBHOOK_SECRET)',
  args: ['orderId'],
  options: ['amount', 'currency'],
  async run({ client, args, values, io, json }) {
    const orderId = args[0]!;
    let amount = positiveInteger(values.amount, 'amount', 1_000_000_000_000);
    let currency = values.currency;
    if (currency !== undefined && !CURRENCY.test(currency)) {
      throw new UsageError('--currency must be an ISO 4217 code in capitals, e.g. EUR');
    }
    if (amount === undefined || currency === undefined) {
      // The order says what is due. Without a token, a short-lived operator dev token reads it.
      const reader = client.hasToken
        ? client
        : client.withToken(
            signDevToken(
              { sub: 'payment-provider-dev', roles: ['operator'], ttlSeconds: 300 },
              signingSecret(io.env).secret,
            ),
          );
      const order = (await reader.get<OrderRead>(`/orders/${encodeURIComponent(orderId)}?consistency=strong`))
        .body;
      amount ??= order.data.total;
      currency ??= order.data.currency;
    }
    const event = {
      id: `evt_dev_${randomUUID()}`,
      type: 'payment.succeeded',
      data: { orderId, paymentId: `pi_dev_${randomUUID().slice(0, 8)}`, amount, currency },
    };
    const raw = JSON.stringify(event);
    const secret = io.env.PAYMENT_WEBHOOK_SECRET || DEV_PAYMENT_WEBHOOK_SECRET;
    const t = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');
    const answer = await client.request<WebhookAnswer>('POST', '/webhooks/payments', raw, {
      'content-type': 'application/json',
      'payment-signature': `t=${t},v1=${signature}`,
    });
    if (json) writeJson(io, { event, answer: answer.body });
    else {
      io.stdout.write(
        `order ${orderId}: payment.succeeded of ${money(amount, currency)} applied (event ${event.id}, ` +
          `order revision ${answer.body.revision})\n`,
      );
    }
    return EXIT.ok;
  },
};
