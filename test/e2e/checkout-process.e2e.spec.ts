import { eventually } from '../support/eventually.js';
import { payOrder } from '../support/payments.js';
import { randomUUID } from 'node:crypto';
import { PlaceOrderOnCheckout } from '../../src/checkout/place-order-on-checkout.process-manager.js';
import { addItem, openCart } from '../support/cart-fixtures.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('the checkout process manager', () => {
  let t: TestApp;
  let shopper: string;
  beforeAll(async () => {
    t = await startTestApp();
    shopper = t.bearer('c-pm', 'shopper');
  });
  afterAll(async () => {
    await t.close();
  });

  it('places exactly one order however often CartCheckedOut is delivered', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'tea', quantity: 2, unitPrice: 450 });
    const checkout = await t.http.post(`/carts/${cartId}/checkout`).set('authorization', shopper).expect(200);
    const orderId: string = checkout.body.orderId;
    expect(checkout.body.orderPlaced).toBe(true);

    const checkedOut = (await t.readStream(`cart-${cartId}`)).find((e) => e.type === 'CartCheckedOut')!;
    const manager = t.app.get(PlaceOrderOnCheckout);
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, i) => manager.handle({ event: checkedOut, retryCount: i })),
    );
    expect(outcomes).toEqual(Array.from({ length: 5 }, () => ({ action: 'ack' })));
    expect(await manager.handle({ event: checkedOut, retryCount: 9 })).toEqual({ action: 'ack' });

    const orderEvents = await t.readStream(`order-${orderId}`);
    expect(orderEvents.map((e) => e.type)).toEqual(['OrderPlaced']);
    expect(orderEvents[0]!.data).toMatchObject({ orderId, cartId, customerId: 'c-pm', total: 900 });
    // The order's metadata ties it to the checkout that caused it.
    expect(orderEvents[0]!.metadata).toMatchObject({
      causationId: checkedOut.id,
      correlationId: checkedOut.metadata.correlationId,
      command: 'PlaceOrder',
    });
  });

  it('heals a crash between the checkout and the placing: the order appears from the event alone', async () => {
    const cartId = await openCart(t, shopper);
    await addItem(t, shopper, cartId, { sku: 'cup', quantity: 1, unitPrice: 1200 });
    const [opened] = await t.readStream(`cart-${cartId}`);
    // What a service that died right after appending the checkout leaves behind: the event, no order.
    const orderId = randomUUID();
    await t.events.append(
      `cart-${cartId}`,
      [
        {
          id: randomUUID(),
          type: 'CartCheckedOut',
          data: { orderId },
          metadata: { ...opened!.metadata, schemaVersion: 1, command: 'CheckOutCart' },
        },
      ],
      1n,
    );
    const orderEvents = await eventually(
      () => t.readStream(`order-${orderId}`),
      (events) => events.length > 0,
    );
    expect(orderEvents.map((e) => e.type)).toEqual(['OrderPlaced']);
    expect(orderEvents[0]!.data).toMatchObject({ cartId, customerId: 'c-pm', total: 1200 });
    await payOrder(t.http, orderId, 1200).expect(200);
  });
});
