import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { EmbeddedEventStore } from './embedded/embedded-event-store.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import { EventStore } from './event-store.port.js';

/** Closes the store when the app stops (after the write path has flushed its snapshots). */
@Injectable()
class EventStoreLifecycle implements OnApplicationShutdown {
  constructor(private readonly events: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}

/** Binds the event store adapter chosen by configuration. */
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
    EventStoreLifecycle,
  ],
  exports: [EventStore],
})
export class EventStoreModule {}
