import {
  Global,
  type DynamicModule,
  Injectable,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConsumerGroups } from '../event-store/consumer-groups.port.js';
import { EventStore } from '../event-store/event-store.port.js';
import { EmbeddedReadStore } from './embedded/embedded-read-store.js';
import { MongoReadStore } from './mongo/mongo-read-store.js';
import { ReadStore } from './read-store.port.js';
import { ReadModelReader } from './runtime/read-model-reader.js';
import { JobRunner } from './runtime/jobs/job-runner.js';
import { JobStore } from './runtime/jobs/job-store.js';
import { ConsumerRegistry } from './runtime/consumer-registry.js';
import { FreshnessMonitor, resolveFreshnessBudgets } from './runtime/freshness.js';
import { ProjectionSupervisor } from './runtime/projection-supervisor.js';
import type { AnyProjection } from './runtime/projection.js';
import { ReadModelNotifier } from './runtime/read-model-notifier.js';
import { LiveGenerations } from './runtime/live-generations.js';
import { ReadModelStaleness } from './runtime/staleness.js';
import { ConsistencySampler } from './runtime/consistency-sampler.js';

/**
 * Starts the projections once the app is up, then resumes the rebuild/verify jobs a crash left running, then
 * the consistency sampler; on shutdown stops the sampler, the jobs (they stay running in the store, to be
 * resumed) and the projections (batches in flight settled) before the stores close.
 */
@Injectable()
class ReadSideLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    private readonly supervisor: ProjectionSupervisor,
    private readonly jobs: JobRunner,
    private readonly store: ReadStore,
    private readonly sampler: ConsistencySampler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.supervisor.start();
    await this.jobs.start();
    this.sampler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sampler.stop();
    await this.jobs.stop();
    await this.supervisor.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/** The projections the read side runs: handed over by the app module, so the runtime knows no context. */
export const PROJECTIONS = Symbol('PROJECTIONS');

/**
 * The composition root of the read side: binds the read store adapter chosen by configuration and runs the
 * projections it is given.
 */
@Global()
@Module({})
export class ReadSideModule {
  static forRoot(projections: readonly AnyProjection[]): DynamicModule {
    return {
      module: ReadSideModule,
      global: true,
      providers: [
        { provide: PROJECTIONS, useValue: projections },
        {
          provide: ReadStore,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig): Promise<ReadStore> => {
            const logger = new Logger('ReadStore');
            if (config.readStore.kind === 'mongo') {
              logger.log('using MongoDB (MONGODB_URI)');
              return MongoReadStore.connect(config.readStore.uri);
            }
            logger.log(`using the embedded read store at ${config.readStore.file}`);
            return new EmbeddedReadStore(config.readStore.file);
          },
        },
        { provide: ReadModelNotifier, useValue: new ReadModelNotifier() },
        {
          provide: FreshnessMonitor,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) =>
            new FreshnessMonitor(resolveFreshnessBudgets(projections, config.readSide.freshnessBudgets)),
        },
        {
          provide: ReadModelStaleness,
          inject: [EventStore, ConsumerGroups],
          useFactory: (events: EventStore, groups: ConsumerGroups) => new ReadModelStaleness(events, groups),
        },
        {
          provide: LiveGenerations,
          inject: [ReadStore],
          useFactory: (store: ReadStore) => new LiveGenerations(store),
        },
        {
          provide: ConsumerRegistry,
          inject: [ConsumerGroups, ReadStore, APP_CONFIG],
          useFactory: (groups: ConsumerGroups, store: ReadStore, config: AppConfig) =>
            new ConsumerRegistry(groups, store, { heartbeatMs: config.readSide.heartbeatMs }),
        },
        {
          provide: ProjectionSupervisor,
          inject: [
            PROJECTIONS,
            EventStore,
            ReadStore,
            LiveGenerations,
            ReadModelNotifier,
            ConsumerRegistry,
            APP_CONFIG,
            FreshnessMonitor,
          ],
          useFactory: (
            projections: readonly AnyProjection[],
            events: EventStore,
            store: ReadStore,
            generations: LiveGenerations,
            notifier: ReadModelNotifier,
            consumers: ConsumerRegistry,
            config: AppConfig,
            freshness: FreshnessMonitor,
          ) =>
            new ProjectionSupervisor(
              projections,
              events,
              store,
              generations,
              notifier,
              {
                batchSize: config.readSide.batchSize,
                maxRetries: config.readSide.maxRetries,
                documentCacheSize: config.readSide.documentCacheSize,
              },
              consumers,
              freshness,
            ),
        },
        { provide: JobStore, inject: [ReadStore], useFactory: (store: ReadStore) => new JobStore(store) },
        {
          provide: JobRunner,
          inject: [ProjectionSupervisor, EventStore, ReadStore, LiveGenerations, JobStore, APP_CONFIG],
          useFactory: (
            supervisor: ProjectionSupervisor,
            events: EventStore,
            store: ReadStore,
            generations: LiveGenerations,
            jobs: JobStore,
            config: AppConfig,
          ) =>
            new JobRunner(supervisor, events, store, generations, jobs, {
              pageSize: config.projectionJobs.pageSize,
              pageDelayMs: config.projectionJobs.pageDelayMs,
              dropGraceMs: config.projectionJobs.dropGraceMs,
              leaseMs: config.projectionJobs.leaseMs,
              // The embedded read store is one process's file: a job running at start-up is a crash's orphan.
              exclusive: config.readStore.kind === 'embedded',
            }),
        },
        {
          provide: ConsistencySampler,
          inject: [PROJECTIONS, EventStore, ReadStore, LiveGenerations, JobStore, APP_CONFIG],
          useFactory: (
            projections: readonly AnyProjection[],
            events: EventStore,
            store: ReadStore,
            generations: LiveGenerations,
            jobs: JobStore,
            config: AppConfig,
          ) =>
            new ConsistencySampler(projections, events, store, generations, jobs, {
              samplesPerSecond: config.readSide.consistencySamplesPerSecond,
            }),
        },
        {
          provide: ReadModelReader,
          inject: [
            LiveGenerations,
            ReadStore,
            ReadModelNotifier,
            APP_CONFIG,
            ReadModelStaleness,
            FreshnessMonitor,
          ],
          useFactory: (
            generations: LiveGenerations,
            store: ReadStore,
            notifier: ReadModelNotifier,
            config: AppConfig,
            staleness: ReadModelStaleness,
            freshness: FreshnessMonitor,
          ) =>
            new ReadModelReader(
              generations,
              store,
              notifier,
              config.readSide.readWaitMs,
              staleness,
              freshness.budgets,
            ),
        },
        ReadSideLifecycle,
      ],
      exports: [
        PROJECTIONS,
        ReadStore,
        LiveGenerations,
        ReadModelNotifier,
        FreshnessMonitor,
        ConsumerRegistry,
        ProjectionSupervisor,
        JobStore,
        JobRunner,
        ReadModelReader,
        ConsistencySampler,
      ],
    };
  }
}
