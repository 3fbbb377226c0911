import { JwtService } from '@nestjs/jwt';
import { signatureHeader } from '../../src/payments/webhook-signature.js';
import { providerEvent, type ProviderEventBody } from './payments.js';
import { TEST_PAYMENT_WEBHOOK_SECRET } from './secrets.js';

/**
 * A shop's clients over plain HTTP (fetch), for tests that run the service as a real process: a shopper, an
 * operator and the payment provider.
 */
export class ShopClient {
  readonly shopper: Record<string, string>;
  readonly operator: Record<string, string>;

  constructor(
    readonly url: string,
    jwtSecret: string,
    customer = 'shop-client-customer',
  ) {
    const jwt = new JwtService({ secret: jwtSecret, signOptions: { expiresIn: '1h' } });
    const json = { 'content-type': 'application/json' };
    this.shopper = { ...json, authorization: `Bearer ${jwt.sign({ sub: customer, roles: ['shopper'] })}` };
    this.operator = {
      ...json,
      authorization: `Bearer ${jwt.sign({ sub: 'shop-operator', roles: ['operator'] })}`,
    };
  }

  async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  private async ok<T>(res: Response, what: string): Promise<T> {
    if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async openCart(): Promise<string> {
    const res = await this.send('POST', '/carts', this.shopper, { currency: 'EUR' });
    return (await this.ok<{ id: string }>(res, 'open cart')).id;
  }

  /** Lists a product in the catalog (an operator's request); one already listed is left as it is. */
  async listProduct(
    sku: string,
    unitPrice: number,
    { currency = 'EUR', name = sku }: { currency?: string; name?: string } = {},
  ): Promise<void> {
    const res = await this.send('POST', '/catalog/products', this.operator, {
      sku,
      name,
      prices: { [currency]: unitPrice },
    });
    if (res.status === 409) return;
    await this.ok(res, `list ${sku}`);
  }

  addItem(cartId: string, sku: string, quantity = 1): Promise<Response> {
    return this.send('POST', `/carts/${cartId}/items`, this.shopper, { sku, quantity });
  }

  /** A cart with one line, checked out: its order (placed by the process manager) and total. */
  async placeOrder(unitPrice = 250, quantity = 2): Promise<{ orderId: string; total: number }> {
    const sku = `sku-${unitPrice}`;
    await this.listProduct(sku, unitPrice);
    const cartId = await this.openCart();
    await this.ok(await this.addItem(cartId, sku, quantity), 'add item');
    const res = await this.send('POST', `/carts/${cartId}/checkout`, this.shopper, {});
    const { orderId } = await this.ok<{ orderId: string }>(res, 'checkout');
    return { orderId, total: unitPrice * quantity };
  }

  /** The payment provider's signed webhook. */
  webhook(event: ProviderEventBody): Promise<Response> {
    const raw = JSON.stringify(event);
    const signature = signatureHeader(TEST_PAYMENT_WEBHOOK_SECRET, Math.floor(Date.now() / 1000), raw);
    return fetch(`${this.url}/webhooks/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'payment-signature': signature },
      body: raw,
    });
  }

  pay(orderId: string, amount: number, id?: string): Promise<Response> {
    return this.webhook(providerEvent(orderId, amount, id === undefined ? {} : { id }));
  }

  cancel(orderId: string): Promise<Response> {
    return this.send('POST', `/orders/${orderId}/cancellation`, this.shopper, { reason: 'changed my mind' });
  }
}
