import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EventStore } from '../event-store/event-store.port.js';
import { Clock, SystemClock } from '../shared/application/clock.js';
import { AggregateStore } from './aggregate-store.js';
import { CommandExecutor } from './command-executor.js';
import { CommandObserver } from './command-observer.js';

/** Waits for the snapshots being written, so that none is cut off when the event store closes. */
@Injectable()
class WritePathLifecycle implements OnApplicationShutdown {
  constructor(private readonly aggregates: AggregateStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.aggregates.flushSnapshots().catch(() => undefined);
  }
}

/**
 * The write path every command takes: the aggregate store (snapshot + tail, cache, idempotency memory) and
 * the command executor (authorize, decide, append with the expected revision, re-decide on a lost race).
 * The app module imports it after EventStoreModule: Nest shuts modules down in reverse order, so the
 * snapshots are flushed before the store closes.
 */
@Global()
@Module({
  providers: [
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
    WritePathLifecycle,
  ],
  exports: [AggregateStore, CommandExecutor, Clock],
})
export class WritePathModule {}
