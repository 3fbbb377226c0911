import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConsumerGroups } from './consumer-groups.port.js';
import { EmbeddedEventStore } from './embedded/embedded-event-store.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import { EventStore } from './event-store.port.js';

/** The adapter chosen by configuration: one store, and the consumer groups on the same file or client. */
type EventStoreAdapter = EmbeddedEventStore | EsdbEventStore;
const EVENT_STORE_ADAPTER = Symbol('EventStoreAdapter');

/**
 * Closes the store when the app stops (after the write path has flushed its snapshots); the store stops its
 * consumer groups first.
 */
@Injectable()
class EventStoreLifecycle implements OnApplicationShutdown {
  constructor(private readonly events: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}

/** Binds the event store adapter chosen by configuration: its EventStore and its ConsumerGroups. */
@Global()
@Module({
  providers: [
    {
      provide: EVENT_STORE_ADAPTER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): EventStoreAdapter => {
        const logger = new Logger('EventStore');
        if (config.eventStore.kind === 'esdb') {
          logger.log('using EventStoreDB (EVENTSTORE_CONNECTION_STRING)');
          return new EsdbEventStore(config.eventStore.connectionString);
        }
        logger.log(`using the embedded store at ${config.eventStore.file}`);
        return new EmbeddedEventStore(config.eventStore.file);
      },
    },
    { provide: EventStore, useExisting: EVENT_STORE_ADAPTER },
    {
      provide: ConsumerGroups,
      inject: [EVENT_STORE_ADAPTER],
      useFactory: (adapter: EventStoreAdapter): ConsumerGroups => adapter.consumerGroups,
    },
    EventStoreLifecycle,
  ],
  exports: [EventStore, ConsumerGroups],
})
export class EventStoreModule {}
