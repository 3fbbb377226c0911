import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { ConsumerGroups } from './consumer-groups.port.js';
import { EmbeddedEventStore } from './embedded/embedded-event-store.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import { UnsupportedServerError } from './esdb/esdb-server.js';
import { EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';

/** The adapter chosen by configuration: one store, and the consumer groups on the same file, client or pool. */
type EventStoreAdapter = EmbeddedEventStore | EsdbEventStore | PostgresEventStore;
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
        const { eventStore } = config;
        if (eventStore.kind === 'esdb') {
          logger.log('using EventStoreDB (EVENTSTORE_CONNECTION_STRING)');
          const store = new EsdbEventStore(eventStore.connectionString);
          await checkServerAtStart(store, logger);
          return store;
        }
        if (eventStore.kind === 'postgres') {
          logger.log(
            `using PostgreSQL at ${serverOf(eventStore.url)}, schema ${eventStore.schema}, as instance ${config.instanceId} (POSTGRES_URL)`,
          );
          if (config.readStore.kind === 'embedded') {
            logger.warn(
              "the read models are in this instance's own embedded read store: run a single instance, or set MONGODB_URI so that several instances share one",
            );
          }
          // Creates or migrates the schema first; a server that cannot be reached stops the start here.
          return PostgresEventStore.connect(eventStore.url, {
            schema: eventStore.schema,
            instanceId: config.instanceId,
            leaseMs: config.readSide.leaseMs,
            pollMs: config.readSide.heartbeatMs,
            onError: (group, error) =>
              logger.warn(`${group}: ${error instanceof Error ? error.message : String(error)}`),
          });
        }
        logger.log(`using the embedded store at ${eventStore.file}`);
        return new EmbeddedEventStore(eventStore.file, { instanceId: config.instanceId });
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

/** `host:port/database` of a postgres:// URL: what the log may show (never the user or password). */
function serverOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host || 'localhost'}${parsed.pathname}`;
  } catch {
    return '(the configured server)';
  }
}
