import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { providerEvent, type ProviderEventBody } from '../support/payments.js';
import { startService, type ServiceProcess } from '../support/service-process.js';
import { ShopClient } from '../support/shop-client.js';

const SECRET = 'payments-crash-secret-0123456789abcdef';

/** Event types of each order stream, read from the store itself once the service is gone. */
async function orderHistories(dataDir: string, orderIds: readonly string[]): Promise<Map<string, string[]>> {
  const store = new EmbeddedEventStore(join(dataDir, 'events.sqlite'));
  try {
    const histories = new Map<string, string[]>();
    for (const id of orderIds)
      histories.set(
        id,
        (await store.readStream(`order-${id}`)).map((e) => e.type),
      );
    return histories;
  } finally {
    await store.close();
  }
}

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('payments and refunds under kill -9', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const env = () => ({ AUTH_JWT_SECRET: SECRET, DATA_DIR: dataDir });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-pay-crash-'));
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await rm(dataDir, { recursive: true, force: true });
  }, 20_000);

  it('a webhook cut off between its append and its answer, retried by the provider, is applied once', async () => {
    service = await startService(env());
    const shop = new ShopClient(service.url, SECRET);
    const orders: { orderId: string; total: number }[] = [];
    for (let i = 0; i < 40; i++) orders.push(await shop.placeOrder());
    const events: ProviderEventBody[] = orders.map(({ orderId, total }) => providerEvent(orderId, total));

    // All at once, and the process dies while they are in flight: some appended, some answered, some neither.
    const inFlight = events.map((event) => shop.webhook(event).catch(() => null));
    await new Promise((r) => setTimeout(r, 15));
    await service.kill9();
    const answeredBeforeTheKill = (await Promise.all(inFlight)).filter((res) => res?.status === 200).length;
    // Not a vacuous run: the kill came while webhooks were still unanswered.
    expect(answeredBeforeTheKill).toBeLessThan(events.length);

    // The provider retries every event it has no 2xx for — here, all of them.
    service = await startService(env());
    const retry = new ShopClient(service.url, SECRET);
    const answers = await Promise.all(events.map((event) => retry.webhook(event)));
    expect(answers.map((a) => a.status)).toEqual(events.map(() => 200));
    await service.stop();
    service = undefined;

    const histories = await orderHistories(
      dataDir,
      orders.map((o) => o.orderId),
    );
    for (const history of histories.values()) expect(history).toEqual(['OrderPlaced', 'OrderPaid']);
  }, 60_000);

  it('kill -9 while cancelled orders are being refunded: after the restart, exactly one refund each', async () => {
    service = await startService(env());
    const shop = new ShopClient(service.url, SECRET);
    const orders: { orderId: string; total: number }[] = [];
    for (let i = 0; i < 40; i++) {
      const order = await shop.placeOrder();
      expect((await shop.pay(order.orderId, order.total)).status).toBe(200);
      orders.push(order);
    }
    // Cancel them all and die while the refund process is at work.
    const cancellations = orders.map(({ orderId }) => shop.cancel(orderId).catch(() => null));
    await new Promise((r) => setTimeout(r, 40));
    await service.kill9();
    const answered = (await Promise.all(cancellations)).filter((res) => res?.status === 200).length;

    // Cancellations that got no answer are sent again (the same request: a cancelled order refuses a second).
    service = await startService(env());
    const again = new ShopClient(service.url, SECRET);
    for (const { orderId } of orders) await again.cancel(orderId);
    await until(async () => {
      const histories = await Promise.all(
        orders.map(async ({ orderId }) => {
          const res = await again.send('GET', `/orders/${orderId}?consistency=strong`, again.operator);
          const { data } = (await res.json()) as { data: { refunded: number; paid: number } };
          return data.refunded === data.paid;
        }),
      );
      return histories.every(Boolean);
    }, 'every cancelled order refunded');
    await service.stop();
    service = undefined;

    const histories = await orderHistories(
      dataDir,
      orders.map((o) => o.orderId),
    );
    for (const history of histories.values()) {
      expect(history).toEqual(['OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderRefunded']);
    }
    // Not a vacuous run: the kill came while cancellations were still being answered.
    expect(answered).toBeLessThan(orders.length);
  }, 60_000);
});
