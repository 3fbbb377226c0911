import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Clock, SystemClock } from '../shared/application/clock.js';
import { CommandExecutor } from '../shared/application/command-executor.js';
import { CommandObserver } from '../shared/application/command-observer.js';
import { AggregateStore } from './aggregate-store.js';
import { EmbeddedEventStore } from './embedded/embedded-event-store.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import { EventStore } from './event-store.port.js';

/** Flushes pending snapshots and closes the store when the app stops. */
@Injectable()
class EventStoreLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly aggregates: AggregateStore,
    private readonly events: EventStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.aggregates.flushSnapshots().catch(() => undefined);
    await this.events.close();
  }
}

/** The composition root of the write side: binds the event store adapter chosen by configuration. */
@Global()
@Module({
  providers: [
    {
      provide: EventStore,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): EventStore => {
        const logger = new Logger('EventStore');
        if (config.eventStore.kind === 'esdb') {
          logger.log('using EventStoreDB (EVENTSTORE_CONNECTION_STRING)');
          return new EsdbEventStore(config.eventStore.connectionString);
        }
        logger.log(`using the embedded store at ${config.eventStore.file}`);
        return new EmbeddedEventStore(config.eventStore.file);
      },
    },
    {
      provide: AggregateStore,
      inject: [EventStore, APP_CONFIG],
      useFactory: (events: EventStore, config: AppConfig) =>
        new AggregateStore(events, {
          snapshotEvery: config.aggregates.snapshotEvery,
          snapshotsKept: config.aggregates.snapshotsKept,
          idempotencyKeysPerStream: config.aggregates.idempotencyKeysPerStream,
          cacheSize: config.aggregates.cacheSize,
        }),
    },
    { provide: Clock, useClass: SystemClock },
    {
      provide: CommandExecutor,
      // The observer (metrics) is bound by the operations module when it is part of the app.
      inject: [AggregateStore, Clock, APP_CONFIG, { token: CommandObserver, optional: true }],
      useFactory: (
        aggregates: AggregateStore,
        clock: Clock,
        config: AppConfig,
        observer: CommandObserver | undefined,
      ) =>
        new CommandExecutor(
          aggregates,
          clock,
          { retries: config.aggregates.commandRetries },
          observer ?? null,
        ),
    },
    EventStoreLifecycle,
  ],
  exports: [EventStore, AggregateStore, CommandExecutor, Clock],
})
export class EventStoreModule {}
