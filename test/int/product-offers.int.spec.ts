import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregateProductOffers } from '../../src/catalog/application/aggregate-product-offers.js';
import { ProductCommandHandler, RunProductCommand } from '../../src/catalog/commands/product-command.js';
import type { ProductCommand } from '../../src/catalog/domain/product.commands.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { ReadStreamOptions, RecordedEvent } from '../../src/event-store/event-store.port.js';
import { SystemClock } from '../../src/shared/application/clock.js';
import type { Actor, CommandContext } from '../../src/shared/application/command-context.js';
import { ResourceNotFoundError } from '../../src/shared/application/errors.js';
import { randomId } from '../../src/shared/application/ids.js';
import { AggregateStore } from '../../src/write-path/aggregate-store.js';
import { CommandExecutor } from '../../src/write-path/command-executor.js';
import { DelegatingEventStore } from '../support/delegating-event-store.js';

/** A real embedded store that counts stream reads and revision lookups (to see what the offers read, and what they do not). */
class CountingEventStore extends DelegatingEventStore {
  reads = 0;
  override readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    this.reads++;
    return this.inner.readStream(streamId, options);
  }
  override streamRevision(streamId: string): Promise<bigint | 'no_stream'> {
    this.reads++;
    return this.inner.streamRevision(streamId);
  }
}

const operator: Actor = { id: 'op-1', roles: ['operator'] };

function context(actor: Actor = operator): CommandContext {
  return {
    actor,
    correlationId: randomId(),
    causationId: randomId(),
    idempotencyKey: null,
    requestHash: 'h',
    expectedRevision: null,
  };
}

describe('ProductOffers on a real embedded event store', () => {
  let dir: string;
  let embedded: EmbeddedEventStore;
  let events: CountingEventStore;
  let offers: AggregateProductOffers;
  /** The offers' own write path (its aggregate cache is the one the offers read). */
  let products: ProductCommandHandler;
  /** Another writer with a cache of its own, as another instance of the service would be. */
  let elsewhere: ProductCommandHandler;

  const handler = (aggregates: AggregateStore) =>
    new ProductCommandHandler(new CommandExecutor(aggregates, new SystemClock(), { retries: 3 }));
  const run = (on: ProductCommandHandler, sku: string, command: ProductCommand, actor?: Actor) =>
    on.execute(new RunProductCommand(sku, command, context(actor)));
  const options = { snapshotEvery: 100, snapshotsKept: 0, idempotencyKeysPerStream: 10, cacheSize: 100 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-offers-'));
    embedded = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    events = new CountingEventStore(embedded);
    const aggregates = new AggregateStore(events, options);
    offers = new AggregateProductOffers(aggregates);
    products = handler(aggregates);
    elsewhere = handler(new AggregateStore(events, options));
    await run(products, 'beans-1kg', {
      type: 'ListProduct',
      data: { sku: 'beans-1kg', name: 'Espresso beans, 1 kg', prices: { EUR: 1890, USD: 2090 } },
    });
  });
  afterAll(async () => {
    await embedded.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a listed product priced in the currency: available, with its name and unit price', async () => {
    expect(await offers.offer('beans-1kg', 'EUR')).toEqual({
      sku: 'beans-1kg',
      available: true,
      name: 'Espresso beans, 1 kg',
      unitPrice: 1890,
    });
    expect(await offers.offer('beans-1kg', 'USD')).toMatchObject({ available: true, unitPrice: 2090 });
  });

  it('no price in that currency: not-priced (whatever the currency string)', async () => {
    for (const currency of ['GBP', 'eur', '', '__proto__', 'constructor', 'toString']) {
      expect(await offers.offer('beans-1kg', currency)).toEqual({
        sku: 'beans-1kg',
        available: false,
        reason: 'not-priced',
      });
    }
  });

  it('a sku never listed: not-listed; a malformed sku: not-listed without reading the store', async () => {
    expect(await offers.offer('no-such-sku', 'EUR')).toEqual({
      sku: 'no-such-sku',
      available: false,
      reason: 'not-listed',
    });
    // Skus are case-sensitive.
    expect(await offers.offer('BEANS-1KG', 'EUR')).toMatchObject({ available: false, reason: 'not-listed' });
    const before = events.reads;
    for (const sku of ['', 'a b', 'x'.repeat(65), '../beans-1kg', 'beans-1kg\n']) {
      expect(await offers.offer(sku, 'EUR')).toEqual({ sku, available: false, reason: 'not-listed' });
    }
    expect(events.reads).toBe(before);
  });

  it('is strongly consistent: a price changed by another writer is offered at once', async () => {
    expect(await offers.offer('beans-1kg', 'EUR')).toMatchObject({ unitPrice: 1890 });
    await run(elsewhere, 'beans-1kg', { type: 'ChangeProductPrices', data: { prices: { EUR: 1790 } } });
    expect(await offers.offer('beans-1kg', 'EUR')).toMatchObject({ available: true, unitPrice: 1790 });
    await run(elsewhere, 'beans-1kg', { type: 'ChangeProductPrices', data: { prices: { USD: null } } });
    expect(await offers.offer('beans-1kg', 'USD')).toMatchObject({ available: false, reason: 'not-priced' });
  });

  it('withdrawn: withdrawn in every currency; listed again: available at its new prices', async () => {
    await run(elsewhere, 'beans-1kg', { type: 'WithdrawProduct', data: { reason: 'new roast' } });
    for (const currency of ['EUR', 'GBP']) {
      expect(await offers.offer('beans-1kg', currency)).toEqual({
        sku: 'beans-1kg',
        available: false,
        reason: 'withdrawn',
      });
    }
    await run(products, 'beans-1kg', {
      type: 'ListProduct',
      data: { sku: 'beans-1kg', name: 'Espresso beans, new roast', prices: { GBP: 1600 } },
    });
    expect(await offers.offer('beans-1kg', 'GBP')).toEqual({
      sku: 'beans-1kg',
      available: true,
      name: 'Espresso beans, new roast',
      unitPrice: 1600,
    });
    expect(await offers.offer('beans-1kg', 'EUR')).toMatchObject({ available: false, reason: 'not-priced' });
  });

  it('only an operator lists or changes a product: anyone else is told it does not exist, and nothing is written', async () => {
    const shopper: Actor = { id: 'c-1', roles: ['shopper'] };
    const auditor: Actor = { id: 'a-1', roles: ['auditor'] };
    for (const actor of [shopper, auditor]) {
      await expect(
        run(
          products,
          'sneaky',
          { type: 'ListProduct', data: { sku: 'sneaky', name: 'Sneaky', prices: { EUR: 1 } } },
          actor,
        ),
      ).rejects.toBeInstanceOf(ResourceNotFoundError);
      await expect(
        run(products, 'beans-1kg', { type: 'ChangeProductPrices', data: { prices: { GBP: 1 } } }, actor),
      ).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
    }
    expect(await embedded.streamRevision('product-sneaky')).toBe('no_stream');
    expect(await offers.offer('sneaky', 'EUR')).toMatchObject({ available: false, reason: 'not-listed' });
    expect(await offers.offer('beans-1kg', 'GBP')).toMatchObject({ unitPrice: 1600 });
  });
});
