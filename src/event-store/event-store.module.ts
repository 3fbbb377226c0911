import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConsumerGroups } from './consumer-groups.port.js';
import { EmbeddedEventStore } from './embedded/embedded-event-store.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import { UnsupportedServerError } from './esdb/esdb-server.js';
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

/**
 * Asks EventStoreDB its version before anything runs: one this service cannot work with (older than 23.10,
 * or too old for the consumer strategy) stops the start with a message that says why. A server out of reach
 * does not: the start goes on (health says so) and the check runs again before the first consumer group.
 */
async function checkServerAtStart(store: EsdbEventStore, logger: Logger): Promise<void> {
  try {
    const { version, known } = await store.checkServer();
    if (known) logger.log(`EventStoreDB ${version}`);
    else logger.warn(`EventStoreDB reports no version ("${version}"): it could not be checked`);
  } catch (error) {
    if (error instanceof UnsupportedServerError) {
      await store.close();
      throw error;
    }
    logger.warn(
      `could not ask EventStoreDB its version at start (${error instanceof Error ? error.message : String(error)}); asked again before the first consumer group`,
    );
  }
}

/** Binds the event store adapter chosen by configuration: its EventStore and its ConsumerGroups. */
@Global()
@Module({
  providers: [
    {
      provide: EVENT_STORE_ADAPTER,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<EventStoreAdapter> => {
        const logger = new Logger('EventStore');
        if (config.eventStore.kind === 'esdb') {
          logger.log('using EventStoreDB (EVENTSTORE_CONNECTION_STRING)');
          const store = new EsdbEventStore(config.eventStore.connectionString);
          await checkServerAtStart(store, logger);
          return store;
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
