import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cartAggregate } from '../../src/carts/cart.aggregate.js';
import { CartCommandHandler, RunCartCommand } from '../../src/carts/commands/cart-command.js';
import type { CartCommand } from '../../src/carts/domain/cart.commands.js';
import { DomainError } from '../../src/shared/domain/index.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import { SystemClock } from '../../src/shared/application/clock.js';
import type { CommandContext } from '../../src/shared/application/command-context.js';
import { PreconditionFailedError } from '../../src/shared/application/errors.js';
import { AggregateStore } from '../../src/write-path/aggregate-store.js';
import { CommandExecutor } from '../../src/write-path/command-executor.js';
import { DelegatingEventStore } from '../support/delegating-event-store.js';
import { addItem, offersAsInCart } from '../support/cart-commands.js';

/**
 * Two instances of the write path on one event store, each with its own aggregate cache (what several service
 * instances are). An append decided on a cache that is behind fails its revision check and is decided again;
 * what appends nothing — a 412, a domain refusal, "nothing to change" — must not be decided on a state
 * another instance has moved past either.
 */
describe('decisions on a write path whose cache is behind the store', () => {
  let dir: string;
  let events: EmbeddedEventStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-stale-'));
    events = new EmbeddedEventStore(join(dir, 'events.sqlite'));
  });
  afterEach(async () => {
    await events.close();
    await rm(dir, { recursive: true, force: true });
  });

  const instance = () => {
    // Counts the stream-revision reads: the price of checking a cached state.
    let revisionReads = 0;
    const counted = new DelegatingEventStore(events);
    counted.streamRevision = (streamId) => {
      revisionReads++;
      return events.streamRevision(streamId);
    };
    const aggregates = new AggregateStore(counted, {
      snapshotEvery: 100,
      snapshotsKept: 2,
      idempotencyKeysPerStream: 10,
      cacheSize: 100,
    });
    const handler = new CartCommandHandler(
      new CommandExecutor(aggregates, new SystemClock(), { retries: 3 }),
    );
    const run = (cartId: string, command: CartCommand, expectedRevision: bigint | null = null) =>
      handler.execute(new RunCartCommand(cartId, command, context(expectedRevision)));
    return { run, aggregates, revisionReads: () => revisionReads };
  };
  const context = (expectedRevision: bigint | null): CommandContext => ({
    actor: { id: 'c-1', roles: ['shopper'] },
    correlationId: 'corr',
    causationId: randomUUID(),
    idempotencyKey: null,
    requestHash: 'hash',
    expectedRevision,
  });

  /** A cart opened by A, with B's cache holding it at revision 0, then moved on by A. */
  async function cartBehindOnB() {
    const a = instance();
    const b = instance();
    const cartId = randomUUID();
    await a.run(cartId, { type: 'OpenCart', data: { cartId, customerId: 'c-1', currency: 'EUR' } });
    expect((await b.aggregates.load(cartAggregate, cartId)).revision).toBe(0n);
    await a.run(cartId, addItem('tea', 'Tea', 2, 450));
    return { a, b, cartId };
  }

  it('If-Match with a revision read elsewhere is taken, not refused with the cached revision', async () => {
    const { b, cartId } = await cartBehindOnB();
    const outcome = await b.run(cartId, addItem('tea', 'Tea', 1, 450), 1n);
    expect(outcome).toMatchObject({ revision: 2n, replayed: false });
    expect(outcome.state.lines).toMatchObject([{ sku: 'tea', quantity: 3 }]);
  });

  it('a stale If-Match is still 412, naming the revision of the store, not of the cache', async () => {
    const { a, b, cartId } = await cartBehindOnB();
    await a.run(cartId, addItem('tea', 'Tea', 1, 450));
    const refused = b.run(cartId, addItem('tea', 'Tea', 1, 450), 1n);
    await expect(refused).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(refused).rejects.toMatchObject({ currentRevision: 2n });
    expect(await events.streamRevision(`cart-${cartId}`)).toBe(2n);
  });

  it('a line another instance added can be changed here', async () => {
    const { b, cartId } = await cartBehindOnB();
    const changed = await b.run(cartId, { type: 'ChangeItemQuantity', data: { sku: 'tea', quantity: 5 } });
    expect(changed.revision).toBe(2n);
    expect(changed.state.lines).toMatchObject([{ sku: 'tea', quantity: 5 }]);
  });

  it('a cart another instance filled can be checked out here', async () => {
    const { a, b, cartId } = await cartBehindOnB();
    const { state } = await a.aggregates.load(cartAggregate, cartId);
    const outcome = await b.run(cartId, {
      type: 'CheckOutCart',
      data: { orderId: randomUUID(), offers: offersAsInCart(state) },
    });
    expect(outcome.revision).toBe(2n);
    expect(outcome.state.status).toBe('checked-out');
  });

  it('"nothing to change" answers the revision of the store', async () => {
    const { a, b, cartId } = await cartBehindOnB();
    const { state } = await a.aggregates.load(cartAggregate, cartId);
    const outcome = await b.run(cartId, { type: 'RepriceCart', data: { offers: offersAsInCart(state) } });
    expect(outcome).toMatchObject({ revision: 1n, position: null, replayed: false });
  });

  it('a refusal that stands costs one revision read when cached, none when just read', async () => {
    const { a, b, cartId } = await cartBehindOnB();
    const remove = { type: 'RemoveItem', data: { sku: 'coffee' } } as const;
    const before = b.revisionReads();
    await expect(b.run(cartId, remove)).rejects.toBeInstanceOf(DomainError);
    // Behind: one read to find out, then decided again on the fresh state (which refuses as well).
    expect(b.revisionReads() - before).toBe(1);
    const cached = b.revisionReads();
    await expect(b.run(cartId, remove)).rejects.toBeInstanceOf(DomainError);
    expect(b.revisionReads() - cached).toBe(1);
    // A cache miss reads the stream itself: no extra read.
    const fresh = instance();
    await expect(fresh.run(cartId, remove)).rejects.toBeInstanceOf(DomainError);
    expect(fresh.revisionReads()).toBe(0);
    expect(await events.streamRevision(`cart-${cartId}`)).toBe(1n);
    expect(a.revisionReads()).toBe(0);
  });
});
