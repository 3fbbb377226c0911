import esdb from '@eventstore/db-client';
import { ConfigError, loadConfig } from '../../src/config/app-config.js';
import { defaultDeadlineOf } from '../../src/event-store/esdb/esdb-event-store.js';

const { EventStoreDBClient } = esdb;

/** The configuration accepts exactly the connection strings the client parses (finding 14). */
describe('EVENTSTORE_CONNECTION_STRING', () => {
  const secrets = {
    AUTH_JWT_SECRET: 'a-secret-of-sufficient-length',
    PAYMENT_WEBHOOK_SECRET: 'a-payment-webhook-secret-of-sufficient-length',
  };
  const configured = (value: string) => () =>
    loadConfig({ ...secrets, EVENTSTORE_CONNECTION_STRING: value }).eventStore;
  /** Builds a client without connecting: the client parses the string in connectionString(). */
  const parsed = (value: string) => () => void EventStoreDBClient.connectionString(value);

  it.each(['esdb://localhost:2113?tls=false', 'esdb+discover://cluster.example:2113', 'esdb://a:1,b:2,c:3'])(
    'accepts %s, which the client parses',
    (value) => {
      expect(configured(value)()).toEqual({ kind: 'esdb', connectionString: value });
      expect(parsed(value)).not.toThrow();
    },
  );

  it.each(['kurrentdb://localhost:2113', 'kurrent+discover://x:2113', 'http://localhost:2113'])(
    'refuses %s at boot, which the client would refuse at start',
    (value) => {
      expect(configured(value)).toThrow(ConfigError);
      expect(configured(value)).toThrow(/esdb:\/\/ or esdb\+discover:\/\//);
      expect(parsed(value)).toThrow();
    },
  );

  it('the adapter takes its deadline from defaultDeadline, as the client does', () => {
    expect(defaultDeadlineOf('esdb://localhost:2113?tls=false&defaultDeadline=2500')).toBe(2500);
    expect(defaultDeadlineOf('esdb://localhost:2113?tls=false')).toBeUndefined();
  });
});
