import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import {
  dropSchema,
  postgresHeldAppends,
  postgresUrl,
  probePostgres,
  uniqueSchema,
} from '../support/postgres.js';
import { describeEventStoreContract } from './event-store.contract.js';

/**
 * The port contract against PostgreSQL (15+), the server named by POSTGRES_URL (`eval "$(scripts/postgres.sh
 * start)"`, or the docker-compose service). The suite works in a schema of its own, dropped at the end.
 */
const url = postgresUrl;
const server = url ? await probePostgres(url) : null;

if (!url) {
  process.stdout.write('PostgreSQL event-store contract suite skipped: POSTGRES_URL is not set\n');
  describe('EventStore contract: PostgreSQL', () => {
    it.skip('needs POSTGRES_URL (e.g. from scripts/postgres.sh start)', () => undefined);
  });
} else if (server) {
  describe('EventStore contract: PostgreSQL', () => {
    it('reaches the server at POSTGRES_URL', () => {
      throw new Error(`POSTGRES_URL is set but the server does not answer: ${server.error}`);
    });
  });
} else {
  describeEventStoreContract(
    'PostgreSQL',
    async () => {
      const schema = uniqueSchema();
      const store = await PostgresEventStore.connect(url, { schema });
      return {
        store,
        heldAppends: postgresHeldAppends(url, schema),
        cleanup: async () => {
          await store.close();
          await dropSchema(url, schema);
        },
      };
    },
    { tellsDuplicates: true },
  );
}
