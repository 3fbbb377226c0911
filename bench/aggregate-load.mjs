/**
 * Part 2 of `npm run bench`: aggregate load time against stream length, with and without snapshots.
 *
 * In-process, on the COMPILED modules in dist/ (run `npm run build` first): one embedded store file in a
 * temp dir; cart streams of 100, 10,000 and 100,000 events written straight through the event store in
 * batches (the last 100 events through AggregateStore.append, which writes the snapshot, then
 * flushSnapshots()); then many loads, each through a FRESH AggregateStore with cacheSize 0 (never a cache
 * hit). "Without snapshots" loads through a copy of the cart aggregate with another stateSchemaVersion,
 * so every snapshot is ignored and the whole stream is folded; both loads must give the same state.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importDist } from './common.mjs';

const SNAPSHOT_EVERY = 100;
const SKUS = ['sku-a', 'sku-b', 'sku-c', 'sku-d'];

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** The i-th event of a bench cart stream: opened, 4 items added, then quantity changes cycling 1..999. */
function cartEvent(cartId, i) {
  const metadata = {
    schemaVersion: 1,
    correlationId: randomUUID(),
    causationId: randomUUID(),
    actor: 'bench-shopper',
    idempotencyKey: null,
    occurredAt: new Date().toISOString(),
  };
  if (i === 0) {
    return { type: 'CartOpened', data: { cartId, customerId: 'bench-shopper', currency: 'EUR' }, metadata };
  }
  if (i <= SKUS.length) {
    const sku = SKUS[i - 1];
    return {
      type: 'ItemAdded',
      data: { sku, name: `Item ${sku}`, quantity: 1, unitPrice: 100 * i },
      metadata,
    };
  }
  return {
    type: 'ItemQuantityChanged',
    data: { sku: SKUS[i % SKUS.length], quantity: (i % 999) + 1 },
    metadata,
  };
}

/** JSON that survives bigints and Maps, to compare two folded states. */
function stable(value) {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Map) return [...v.entries()];
    if (v instanceof Set) return [...v.values()];
    return v;
  });
}

/**
 * @param {{ root: string, sizes?: number[], maxLoads?: number, minLoads?: number, budgetMs?: number,
 *           log?: (line: string) => void, onTempDir?: (dir: string) => void }} options
 */
export async function runAggregateLoadBench(options) {
  const { root, log = () => {} } = options;
  const sizes = options.sizes ?? [100, 10_000, 100_000];
  const maxLoads = options.maxLoads ?? 50;
  const minLoads = options.minLoads ?? 5;
  const budgetMs = options.budgetMs ?? 4000;

  const { EmbeddedEventStore } = await importDist(root, 'event-store/embedded/embedded-event-store.js');
  const { AggregateStore } = await importDist(root, 'write-path/aggregate-store.js');
  const { cartAggregate } = await importDist(root, 'carts/cart.aggregate.js');
  const ignoringSnapshots = { ...cartAggregate, stateSchemaVersion: 999 };

  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-bench-load-'));
  options.onTempDir?.(dir);
  const file = join(dir, 'events.sqlite');
  const events = new EmbeddedEventStore(file);
  if (typeof events.open === 'function') await events.open();
  if (typeof events.init === 'function') await events.init();

  const aggregateStore = (snapshotEvery) =>
    new AggregateStore(events, {
      snapshotEvery,
      snapshotsKept: 5,
      idempotencyKeysPerStream: 500,
      cacheSize: 0,
    });
  const snapshotStream = (cartId) => `${cartAggregate.category}snapshot-${cartId}`;
  const snapshotCount = async (cartId) => (await events.readStream(snapshotStream(cartId))).length;

  const rows = [];
  const notes = [];
  try {
    for (const size of sizes) {
      const cartId = randomUUID();
      const streamId = `${cartAggregate.category}-${cartId}`;

      // 1. The stream: all but the last SNAPSHOT_EVERY events straight into the store, in batches.
      const tail = Math.min(size, SNAPSHOT_EVERY);
      const raw = size - tail;
      const writeStarted = performance.now();
      for (let from = 0; from < raw; from += 1000) {
        const to = Math.min(raw, from + 1000);
        const batch = [];
        for (let i = from; i < to; i++) batch.push({ id: randomUUID(), ...cartEvent(cartId, i) });
        await events.append(streamId, batch, from === 0 ? 'no_stream' : BigInt(from - 1));
      }
      const rawMs = performance.now() - writeStarted;

      // 2. The last events through the aggregate store, which snapshots when an append crosses a multiple
      //    of snapshotEvery; flushSnapshots() waits for the off-critical-path snapshot write.
      const writer = aggregateStore(SNAPSHOT_EVERY);
      const current = await writer.load(cartAggregate, cartId);
      const pending = [];
      for (let i = raw; i < size; i++) {
        const { type, data, metadata } = cartEvent(cartId, i);
        pending.push({ id: randomUUID(), event: { type, data }, metadata });
      }
      await writer.append(cartAggregate, current, pending);
      await writer.flushSnapshots();
      const [snapshot] = await events.readStream(snapshotStream(cartId), {
        direction: 'backwards',
        limit: 1,
      });
      const snapshotsBefore = await snapshotCount(cartId);
      if (!snapshot)
        notes.push(
          `${size} events: NO snapshot was written (the "with snapshots" figure folds the whole stream)`,
        );
      const snapshotAt = snapshot ? describeSnapshot(snapshot) : 'none';
      const rawRate =
        raw > 0 ? `, ${raw} raw at ${Math.round((raw / Math.max(rawMs, 1)) * 1000)} events/s` : '';
      log(`aggregate load: ${size} events written${rawRate}; snapshot at ${snapshotAt}`);

      // 3. Loads: a fresh store each time (cacheSize 0), a few untimed to warm the JIT.
      const measure = async (type, snapshotEvery) => {
        const times = [];
        let last;
        for (let i = 0; i < 2; i++) last = await aggregateStore(snapshotEvery).load(type, cartId);
        const started = performance.now();
        while (
          times.length < maxLoads &&
          (times.length < minLoads || performance.now() - started < budgetMs)
        ) {
          const store = aggregateStore(snapshotEvery);
          const t0 = performance.now();
          last = await store.load(type, cartId);
          times.push(performance.now() - t0);
        }
        return { times, last };
      };
      const withSnapshots = await measure(cartAggregate, SNAPSHOT_EVERY);
      // snapshotEvery 1,000,000: this store must not write snapshots of its own while we measure.
      const without = await measure(ignoringSnapshots, 1_000_000);

      // 4. Sanity: both loads see the whole stream and fold to the same state; loading wrote no snapshot.
      const expectedRevision = BigInt(size - 1);
      for (const [label, loaded] of [
        ['with', withSnapshots.last],
        ['without', without.last],
      ]) {
        if (loaded.revision !== expectedRevision) {
          notes.push(
            `${size} events: load ${label} snapshots gave revision ${String(loaded.revision)}, expected ${expectedRevision}`,
          );
        }
      }
      if (stable(withSnapshots.last.state) !== stable(without.last.state)) {
        notes.push(`${size} events: the state loaded from the snapshot DIFFERS from the full fold`);
      }
      const snapshotsAfter = await snapshotCount(cartId);
      if (snapshotsAfter !== snapshotsBefore) {
        notes.push(
          `${size} events: loading wrote snapshots (${snapshotsBefore} → ${snapshotsAfter} in ${snapshotStream(cartId)})`,
        );
      }

      const row = {
        size,
        snapshotAt,
        with: summarize(withSnapshots.times),
        without: summarize(without.times),
      };
      log(
        `aggregate load: ${size} events: with snapshots p50 ${fmt(row.with.p50)} ms, without p50 ${fmt(row.without.p50)} ms`,
      );
      rows.push(row);
    }
  } finally {
    await events.close?.();
    await rm(dir, { recursive: true, force: true });
  }
  return { rows, notes };
}

function describeSnapshot(snapshot) {
  const data = snapshot.data ?? {};
  const at = data.revision ?? data.streamRevision ?? data.version ?? data.atRevision;
  return at === undefined ? `snapshot #${snapshot.revision}` : `revision ${at}`;
}

function summarize(times) {
  return {
    n: times.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
  };
}

export function fmt(ms) {
  if (!Number.isFinite(ms)) return '—';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}
