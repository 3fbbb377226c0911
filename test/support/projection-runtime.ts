import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { type EmbeddedEventStore } from '../../src/event-store/embedded/embedded-event-store.js';
import type { EventStore } from '../../src/event-store/event-store.port.js';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import { MongoReadStore } from '../../src/read-side/mongo/mongo-read-store.js';
import { PROJECTIONS } from '../../src/projections.js';
import type { ReadDocument, ReadStore } from '../../src/read-side/read-store.port.js';
import { JobRunner, type JobRunnerOptions } from '../../src/read-side/runtime/jobs/job-runner.js';
import { JobStore } from '../../src/read-side/runtime/jobs/job-store.js';
import type { JobRecord } from '../../src/read-side/runtime/jobs/job.js';
import { ConsumerRegistry } from '../../src/read-side/runtime/consumer-registry.js';
import type { AnyProjection } from '../../src/read-side/runtime/projection.js';
import { ProjectionRunner } from '../../src/read-side/runtime/projection-runner.js';
import { ProjectionSupervisor } from '../../src/read-side/runtime/projection-supervisor.js';
import { ReadModelNotifier } from '../../src/read-side/runtime/read-model-notifier.js';
import { physicalCollection, LiveGenerations } from '../../src/read-side/runtime/live-generations.js';
import { withDatabase } from './read-store-env.js';

/** A read store of its own per call: a temp SQLite file, or a MongoDB database of its own (dropped after). */
export interface IsolatedReadStore {
  readonly store: ReadStore;
  /** Another instance on the same storage (a second service instance, or the same one after a restart). */
  reopen(): Promise<ReadStore>;
  cleanup(): Promise<void>;
}

export type IsolatedReadStoreFactory = readonly [
  name: string,
  open: (dir: string) => Promise<IsolatedReadStore>,
];

/** Embedded always; MongoDB (a database per call) when MONGODB_URI is set. */
export function isolatedReadStores(): IsolatedReadStoreFactory[] {
  const factories: IsolatedReadStoreFactory[] = [
    [
      'embedded',
      async (dir) => {
        const file = join(dir, 'read.sqlite');
        return {
          store: new EmbeddedReadStore(file),
          reopen: async () => new EmbeddedReadStore(file),
          cleanup: async () => {},
        };
      },
    ],
  ];
  const uri = process.env.MONGODB_URI;
  if (uri) {
    factories.push([
      'MongoDB',
      async () => {
        const database = `it_${randomUUID().slice(0, 8)}`;
        const scoped = withDatabase(uri, database);
        return {
          store: await MongoReadStore.connect(scoped),
          reopen: () => MongoReadStore.connect(scoped),
          cleanup: async () => {
            const client = new MongoClient(scoped);
            try {
              await client.db(database).dropDatabase();
            } finally {
              await client.close();
            }
          },
        };
      },
    ]);
  } else process.stdout.write('MongoDB runs of this suite skipped: MONGODB_URI is not set\n');
  return factories;
}

export interface Runtime {
  readonly events: EmbeddedEventStore;
  readonly store: ReadStore;
  readonly generations: LiveGenerations;
  readonly consumers: ConsumerRegistry;
  readonly supervisor: ProjectionSupervisor;
  readonly jobs: JobStore;
  readonly runner: JobRunner;
  /** Stops the job runner and the projections (no store is closed). */
  stop(): Promise<void>;
}

export const FAST_JOBS: JobRunnerOptions = {
  pageSize: 50,
  dropGraceMs: 200,
  leaseMs: 2000,
  exclusive: true,
  saveEveryMs: 50,
};

/** The service's read-side runtime, without Nest: projections on their groups and a job runner. */
export async function startRuntime(
  events: EmbeddedEventStore,
  store: ReadStore,
  options: {
    jobs?: Partial<JobRunnerOptions>;
    projections?: readonly AnyProjection[];
    heartbeatMs?: number;
  } = {},
): Promise<Runtime> {
  const generations = new LiveGenerations(store);
  const consumers = new ConsumerRegistry(events.consumerGroups, store, {
    heartbeatMs: options.heartbeatMs ?? 100,
  });
  const supervisor = new ProjectionSupervisor(
    options.projections ?? PROJECTIONS,
    events,
    store,
    generations,
    new ReadModelNotifier(),
    { batchSize: 100, maxRetries: 2 },
    consumers,
  );
  const jobs = new JobStore(store);
  const runner = new JobRunner(supervisor, events, store, generations, jobs, {
    ...FAST_JOBS,
    ...options.jobs,
  });
  await supervisor.start();
  await runner.start();
  return {
    events,
    store,
    generations,
    consumers,
    supervisor,
    jobs,
    runner,
    stop: async () => {
      await runner.stop();
      await supervisor.stop();
    },
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every document of a collection in id order, without `projectedAt` (a clean rebuild writes it later). */
export async function dumpCollection(
  store: ReadStore,
  name: string,
): Promise<Omit<ReadDocument, 'projectedAt'>[]> {
  const out: Omit<ReadDocument, 'projectedAt'>[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.scan(name, { limit: 1000, ...(after !== undefined && { after }) });
    out.push(...page.map(({ id, revision, position, data }) => ({ id, revision, position, data })));
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.id;
  }
}

/** The collections of a projection's live generation, dumped. */
export async function dumpLive(
  store: ReadStore,
  generations: LiveGenerations,
  projection: AnyProjection,
): Promise<{ documents: unknown[]; entries: unknown[] }> {
  const generation = await generations.freshLiveGeneration(projection.name);
  return dumpGeneration(store, projection, generation);
}

export async function dumpGeneration(
  store: ReadStore,
  projection: AnyProjection,
  generation: number,
): Promise<{ documents: unknown[]; entries: unknown[] }> {
  return {
    documents: await dumpCollection(store, physicalCollection(projection.documents.name, generation)),
    entries: projection.entries
      ? await dumpCollection(store, physicalCollection(projection.entries.name, generation))
      : [],
  };
}

/** What a clean, single pass over every event gives (in scratch collections, dropped afterwards). */
export async function cleanRebuild(
  events: EventStore,
  store: ReadStore,
  projection: AnyProjection,
): Promise<{ documents: unknown[]; entries: unknown[] }> {
  const tag = randomUUID().slice(0, 8);
  const documents = `${projection.documents.name}_clean${tag}`;
  await store.ensureCollection({ ...projection.documents, name: documents });
  let entries: string | undefined;
  if (projection.entries) {
    entries = `${projection.entries.name}_clean${tag}`;
    await store.ensureCollection({ ...projection.entries, name: entries });
  }
  const runner = new ProjectionRunner(
    projection,
    entries ? { documents, entries } : { documents },
    events,
    store,
  );
  const all = await events.readAll({ eventTypes: projection.eventTypes });
  for (let i = 0; i < all.length; i += 500) {
    await runner.handle(all.slice(i, i + 500).map((event) => ({ event, retryCount: 0 })));
  }
  const dump = {
    documents: await dumpCollection(store, documents),
    entries: entries ? await dumpCollection(store, entries) : [],
  };
  await store.dropCollection(documents);
  if (entries) await store.dropCollection(entries);
  return dump;
}

/**
 * Waits until a job has ended; answers it. The default wait is long because the slowest case is FerretDB on a
 * loaded 2-core machine (a few ms per command unloaded, 100 ms and more under load, several per page).
 */
export async function jobEnded(jobs: JobStore, id: string, ms = 120_000): Promise<JobRecord> {
  let job: JobRecord | null = null;
  try {
    await until(
      async () => {
        job = await jobs.get(id);
        return job !== null && job.state !== 'running';
      },
      `job ${id} to end`,
      ms,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; it is at ${JSON.stringify(job)}`, { cause: error });
  }
  return job!;
}

/** Waits until every projection group has settled everything up to the head. */
export async function caughtUp(
  events: EmbeddedEventStore,
  groups: readonly string[],
  ms = 30_000,
): Promise<void> {
  const head = await events.headPosition();
  await until(
    async () => {
      const infos = await Promise.all(groups.map((g) => events.consumerGroups.groupInfo(g)));
      return infos.every((i) => i.checkpoint !== null && i.checkpoint >= head);
    },
    'the projections to catch up',
    ms,
  );
}
