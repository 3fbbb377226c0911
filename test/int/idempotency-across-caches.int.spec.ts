import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cartAggregate } from '../../src/carts/cart.aggregate.js';
import { CartCommandHandler, RunCartCommand } from '../../src/carts/commands/cart-command.js';
import type { CartCommand } from '../../src/carts/domain/cart.commands.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { SystemClock } from '../../src/shared/application/clock.js';
import type { CommandContext } from '../../src/shared/application/command-context.js';
import { AggregateStore } from '../../src/write-path/aggregate-store.js';
import { CommandExecutor } from '../../src/write-path/command-executor.js';
import { addItem } from '../support/cart-commands.js';

/**
 * Two instances of the write path on one event store, each with its own aggregate cache (what several service
 * instances are). A keyed retry that reaches the instance whose cache has not seen the first try must still
 * be answered as a replay, with nothing appended.
 */
describe('an idempotent retry reaching a write path whose cache is behind', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-idem-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  const instance = () => {
    const aggregates = new AggregateStore(events, {
      snapshotEvery: 100,
      snapshotsKept: 2,
      idempotencyKeysPerStream: 10,
      cacheSize: 100,
    });
    const handler = new CartCommandHandler(
      new CommandExecutor(aggregates, new SystemClock(), { retries: 3 }),
    );
    const run = (cartId: string, command: CartCommand, key: string | null) =>
      handler.execute(new RunCartCommand(cartId, command, context(key)));
    return { run, aggregates };
  };
  const context = (key: string | null): CommandContext => ({
    actor: { id: 'c-1', roles: ['shopper'] },
    correlationId: 'corr',
    causationId: randomUUID(),
    idempotencyKey: key,
    requestHash: `hash-of-${key}`,
    expectedRevision: null,
  });

  it('answers replayed, appends nothing, and keeps the cart as the first try left it', async () => {
    const a = instance();
    const b = instance();
    const cartId = randomUUID();
    await a.run(cartId, { type: 'OpenCart', data: { cartId, customerId: 'c-1', currency: 'EUR' } }, 'open');
    // B's cache now holds the cart at revision 0, and will not hear of A's next append.
    expect((await b.aggregates.load(cartAggregate, cartId)).revision).toBe(0n);
    const item = addItem('tea', 'Tea', 2, 450);
    const first = await a.run(cartId, item, 'add-tea');
    expect(first).toMatchObject({ revision: 1n, replayed: false });

    const retried = await b.run(cartId, item, 'add-tea');
    expect(retried).toMatchObject({ revision: 1n, replayed: true, position: null });
    const stream = await events.readStream(`cart-${cartId}`);
    expect(stream.map((e) => e.type)).toEqual(['CartOpened', 'ItemAdded']);
  });
});
