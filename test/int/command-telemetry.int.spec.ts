import { addItem } from '../support/cart-commands.js';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CartCommandHandler, RunCartCommand } from '../../src/carts/commands/cart-command.js';
import type { CartCommand } from '../../src/carts/domain/cart.commands.js';
import { AggregateStore } from '../../src/write-path/aggregate-store.js';
import { EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventToAppend,
  type ExpectedRevision,
} from '../../src/event-store/event-store.port.js';
import { AppMetrics, commandOutcome } from '../../src/operations/metrics/app-metrics.js';
import { SystemClock } from '../../src/shared/application/clock.js';
import type { CommandContext } from '../../src/shared/application/command-context.js';
import { CommandExecutor } from '../../src/write-path/command-executor.js';
import { CommandObserver, type CommandReport } from '../../src/write-path/command-observer.js';
import { DelegatingEventStore } from '../support/delegating-event-store.js';

/** Loses the next `races` appends to a stream: another writer appends first (a real event, really there). */
class RacingEventStore extends DelegatingEventStore {
  races = 0;

  override async append(
    streamId: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    if (this.races > 0 && streamId.startsWith('cart-')) {
      this.races--;
      const rival = await this.inner.append(
        streamId,
        [
          {
            id: randomUUID(),
            type: 'ItemAdded',
            data: { sku: `rival-${this.races}`, name: 'Rival', quantity: 1, unitPrice: 1 },
            metadata: { actor: 'c-1', schemaVersion: 1 },
          },
        ],
        'any',
      );
      throw new WrongExpectedRevisionError(streamId, expected, rival.nextExpectedRevision);
    }
    return this.inner.append(streamId, events, expected);
  }
}

const runCartCommand = (
  executor: CommandExecutor,
  cartId: string,
  context: CommandContext,
  command: CartCommand,
) => new CartCommandHandler(executor).execute(new RunCartCommand(cartId, command, context));

class RecordingObserver extends CommandObserver {
  readonly reports: CommandReport[] = [];
  commandEnded(report: CommandReport): void {
    this.reports.push(report);
  }
}

const open = (cartId: string) =>
  ({ type: 'OpenCart', data: { cartId, customerId: 'c-1', currency: 'EUR' } }) as const;

function context(key: string | null = null): CommandContext {
  return {
    actor: { id: 'c-1', roles: ['shopper'] },
    correlationId: 'corr-telemetry',
    causationId: randomUUID(),
    idempotencyKey: key,
    requestHash: 'hash-1',
    expectedRevision: null,
  };
}

/** One metric sample's value from the exposition text (labels in any order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('command telemetry of the write path', () => {
  let dir: string;
  let store: EmbeddedEventStore;
  let racing: RacingEventStore;
  let observer: RecordingObserver;

  const executor = (retries: number): CommandExecutor =>
    new CommandExecutor(
      new AggregateStore(racing, {
        snapshotEvery: 100,
        snapshotsKept: 2,
        idempotencyKeysPerStream: 10,
        cacheSize: 0,
      }),
      new SystemClock(),
      { retries },
      observer,
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-telemetry-'));
    store = new EmbeddedEventStore(join(dir, 'events.sqlite'));
    racing = new RacingEventStore(store);
    observer = new RecordingObserver();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports each command once: appended, replayed, conflict-retried, rejected — with its outcome', async () => {
    const cartId = randomUUID();
    const run = executor(3);
    await runCartCommand(run, cartId, context('open-1'), open(cartId));
    await runCartCommand(run, cartId, context('open-1'), open(cartId));
    racing.races = 2;
    const item = addItem('s-1', 'S', 1, 5);
    await runCartCommand(run, cartId, context(), item);
    await runCartCommand(run, cartId, context(), { type: 'AbandonCart', data: { reason: null } });
    await expect(runCartCommand(run, cartId, context(), item)).rejects.toMatchObject({ code: 'CART_CLOSED' });

    const [opened, replayed, retried, abandoned, rejected] = observer.reports;
    expect(observer.reports).toHaveLength(5);
    expect(opened).toMatchObject({ command: 'OpenCart', category: 'cart', appended: 1, conflicts: 0 });
    expect(opened!.eventIds).toHaveLength(1);
    expect(opened!.revision).toBe(0n);
    expect(replayed).toMatchObject({ command: 'OpenCart', replayed: true, appended: 0 });
    expect(retried).toMatchObject({ command: 'AddItem', appended: 1, conflicts: 2, revision: 3n });
    expect(abandoned).toMatchObject({ command: 'AbandonCart', appended: 1 });
    expect(rejected).toMatchObject({ command: 'AddItem', appended: 0 });
    expect(observer.reports.map(commandOutcome)).toEqual([
      'ok',
      'replayed',
      'conflict_retried',
      'ok',
      'rejected_409',
    ]);
    for (const report of observer.reports) {
      expect(report.seconds).toBeGreaterThan(0);
      expect(report.seconds).toBeLessThan(5);
    }
  });

  it('a command that keeps losing races ends in 409 and counts every lost race', async () => {
    const cartId = randomUUID();
    const run = executor(1);
    await runCartCommand(run, cartId, context(), open(cartId));
    racing.races = 5;
    const item = addItem('s-1', 'S', 1, 5);
    await expect(runCartCommand(run, cartId, context(), item)).rejects.toMatchObject({
      name: 'ConcurrencyConflictError',
    });
    const last = observer.reports.at(-1)!;
    expect(last.conflicts).toBe(2);
    expect(commandOutcome(last)).toBe('rejected_409');
  });

  it('an unexpected failure is "failed", not a rejection', async () => {
    const cartId = randomUUID();
    const run = executor(1);
    await store.close();
    await expect(runCartCommand(run, cartId, context(), open(cartId))).rejects.toBeDefined();
    expect(commandOutcome(observer.reports.at(-1)!)).toBe('failed');
    store = new EmbeddedEventStore(join(dir, 'events.sqlite')); // for afterEach
  });

  it('the metrics count what the reports say, under bounded labels only', async () => {
    const cartId = randomUUID();
    const run = executor(3);
    await runCartCommand(run, cartId, context('k'), open(cartId));
    await runCartCommand(run, cartId, context('k'), open(cartId));
    racing.races = 1;
    await runCartCommand(run, cartId, context(), addItem('s-1', 'S', 1, 5));
    const metrics = new AppMetrics();
    for (const report of observer.reports) metrics.command(report, commandOutcome(report));
    const text = await metrics.registry.metrics();

    const count = (command: string, outcome: string): number | undefined =>
      sample(text, 'ordertrail_command_duration_seconds_count', { command, outcome });
    expect(count('OpenCart', 'ok')).toBe(1);
    expect(count('OpenCart', 'replayed')).toBe(1);
    expect(count('AddItem', 'conflict_retried')).toBe(1);
    expect(sample(text, 'ordertrail_appends_total', { category: 'cart' })).toBe(2);
    expect(sample(text, 'ordertrail_events_appended_total', { category: 'cart' })).toBe(2);
    expect(sample(text, 'ordertrail_concurrency_conflicts_total', { category: 'cart' })).toBe(1);
    expect(sample(text, 'ordertrail_idempotent_replays_total', { command: 'OpenCart' })).toBe(1);
    // Stream ids, event ids and correlation ids never become label values.
    expect(text).not.toContain(cartId);
    expect(text).not.toContain('corr-telemetry');
  });
});
