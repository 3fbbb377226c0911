/**
 * Part 3 of `npm run bench`: projection throughput, in-process on the COMPILED modules in dist/.
 *
 * One embedded event store holds 100k events (10k carts × 5 events, 10k orders × 5 events). Every
 * projection runs on a consumer group of its own exactly as the service runs it (ProjectionRunner behind
 * subscribeToGroup), into fresh collections of each read store (embedded; MongoDB when MONGODB_URI is set),
 * and the clock stops when every group's checkpoint has reached the head. "One by one" is the same with
 * batchSize 1, on a 10k-event history of the same shape (1k events on MongoDB: FerretDB takes tens of ms per
 * one-event batch, so 10k would take ten minutes and tell nothing more).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importDist } from './common.mjs';

const meta = () => ({ schemaVersion: 1, actor: 'bench', correlationId: randomUUID() });
const event = (type, data) => ({ id: randomUUID(), type, data, metadata: meta() });

/** 10 events per cart+order pair: the cart's 5, then its order's 5. */
function pairEvents(cartId, orderId, n) {
  const lines = [1, 2, 3].map((i) => ({
    sku: `sku-${(n + i) % 50}`,
    name: `Item ${i}`,
    quantity: i,
    unitPrice: 100 * i,
  }));
  const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0);
  return {
    cart: [
      event('CartOpened', { cartId, customerId: `customer-${n % 500}`, currency: 'EUR' }),
      ...lines.map(({ sku, name, quantity, unitPrice }) =>
        event('ItemAdded', { sku, name, quantity, unitPrice }),
      ),
      event('CartCheckedOut', { orderId }),
    ],
    order: [
      event('OrderPlaced', {
        orderId,
        cartId,
        customerId: `customer-${n % 500}`,
        currency: 'EUR',
        total,
        lines: lines.map((l) => ({ ...l, lineTotal: l.quantity * l.unitPrice })),
      }),
      event('OrderPaid', { paymentId: `pay-${n}`, amount: total }),
      event('OrderShipped', { carrier: 'DHL', trackingNumber: `T-${n}` }),
      event('OrderDelivered', {}),
      event('OrderRefunded', { amount: 100 }),
    ],
  };
}

export async function writeEvents(events, pairs) {
  for (let from = 0; from < pairs; from += 500) {
    const appends = [];
    for (let n = from; n < Math.min(pairs, from + 500); n++) {
      const cartId = randomUUID();
      const orderId = randomUUID();
      const { cart, order } = pairEvents(cartId, orderId, n);
      appends.push(events.append(`cart-${cartId}`, cart, 'no_stream'));
      appends.push(events.append(`order-${orderId}`, order, 'no_stream'));
    }
    await Promise.all(appends);
  }
}

/** Runs every projection on fresh groups and collections; resolves with the elapsed ms and events applied. */
async function projectAll(dist, events, store, batchSize) {
  const { PROJECTIONS } = dist.projections;
  const { ProjectionRunner } = dist.runner;
  const run = randomUUID().slice(0, 8);
  const head = await events.headPosition();
  const groups = [];
  let delivered = 0;
  for (const projection of PROJECTIONS) {
    const documents = `${projection.documents.name}_b${run}`;
    await store.ensureCollection({ ...projection.documents, name: documents });
    let entries;
    if (projection.entries) {
      entries = `${projection.entries.name}_b${run}`;
      await store.ensureCollection({ ...projection.entries, name: entries });
    }
    groups.push({
      projection,
      runner: new ProjectionRunner(
        projection,
        entries ? { documents, entries } : { documents },
        events,
        store,
      ),
    });
    delivered += (await events.readAll({ eventTypes: projection.eventTypes })).length;
  }
  const started = performance.now();
  const subscriptions = groups.map(({ projection, runner }) => {
    const group = `bench-${projection.name}-${run}`;
    return {
      group,
      subscription: events.consumerGroups.subscribeToGroup(
        { group, eventTypes: projection.eventTypes, maxRetries: 3, batchSize },
        (batch) => runner.handle(batch),
      ),
    };
  });
  for (;;) {
    const infos = await Promise.all(subscriptions.map(({ group }) => events.consumerGroups.groupInfo(group)));
    if (infos.every((info) => info.checkpoint !== null && info.checkpoint >= head)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - started;
  await Promise.all(subscriptions.map(({ subscription }) => subscription.stop()));
  const parked = (
    await Promise.all(subscriptions.map(({ group }) => events.consumerGroups.groupInfo(group)))
  ).reduce((s, i) => s + i.parkedCount, 0);
  return { ms, delivered, parked };
}

export async function runProjectionBench({
  root,
  log = () => {},
  onTempDir = () => {},
  mongoUri = process.env.MONGODB_URI,
}) {
  const dist = {
    store: await importDist(root, 'event-store/embedded/embedded-event-store.js'),
    embeddedRead: await importDist(root, 'read-side/embedded/embedded-read-store.js'),
    mongoRead: await importDist(root, 'read-side/mongo/mongo-read-store.js'),
    projections: await importDist(root, 'projections.js'),
    runner: await importDist(root, 'read-side/runtime/projection-runner.js'),
  };
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-bench-proj-'));
  onTempDir(dir);
  const big = new dist.store.EmbeddedEventStore(join(dir, 'events-100k.sqlite'));
  const small = new dist.store.EmbeddedEventStore(join(dir, 'events-10k.sqlite'));
  const tiny = new dist.store.EmbeddedEventStore(join(dir, 'events-1k.sqlite'));
  log('projection: writing 100k + 10k + 1k events');
  await writeEvents(big, 10_000);
  await writeEvents(small, 1_000);
  await writeEvents(tiny, 100);
  const stores = [
    [
      'embedded (SQLite)',
      async () => new dist.embeddedRead.EmbeddedReadStore(join(dir, 'read.sqlite')),
      small,
    ],
  ];
  if (mongoUri)
    stores.push([
      `MongoDB wire (${mongoUri.replace(/\/\/[^@]*@/, '//')})`,
      () => dist.mongoRead.MongoReadStore.connect(mongoUri),
      tiny,
    ]);
  const rows = [];
  try {
    for (const [name, open, singleHistory] of stores) {
      const store = await open();
      try {
        log(`projection: ${name}, batched`);
        const batched = await projectAll(dist, big, store, 500);
        log(`projection: ${name}, one by one`);
        const single = await projectAll(dist, singleHistory, store, 1);
        rows.push({ name, batched, single });
      } finally {
        await store.close();
      }
    }
  } finally {
    await big.close();
    await small.close();
    await tiny.close();
  }
  return { rows, mongo: Boolean(mongoUri) };
}

export function projectionTable({ rows, mongo }) {
  const out = [
    '### Projection throughput (all four projections, each on its own consumer group, from position 0)',
    '',
    '| read store | 100k events projected (s) | events applied | batched events/s (batch 500) | one-by-one events/s (batch 1) | speed-up | parked |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { name, batched, single } of rows) {
    const b = batched.delivered / (batched.ms / 1000);
    const s = single.delivered / (single.ms / 1000);
    out.push(
      `| ${name} | ${(batched.ms / 1000).toFixed(2)} | ${batched.delivered} | ${Math.round(b)} | ${Math.round(s)} | ${(b / s).toFixed(1)}× | ${batched.parked + single.parked} |`,
    );
  }
  out.push(
    '',
    '"Events applied" counts each event once per projection that subscribes to its type (the 100k events feed 4 projections). ' +
      'One by one: a 10k-event history (1k on MongoDB). ' +
      (mongo
        ? ''
        : 'MongoDB row skipped: MONGODB_URI is not set (`.ci/run` and `scripts/ferretdb.sh start` give one).'),
  );
  return out.join('\n');
}
