import { hostname } from 'node:os';
import {
  ConfigError,
  DEV_JWT_SECRET,
  DEV_PAYMENT_WEBHOOK_SECRET,
  loadConfig,
} from '../../src/config/app-config.js';

describe('configuration', () => {
  const secret = {
    AUTH_JWT_SECRET: 'a-secret-of-sufficient-length',
    PAYMENT_WEBHOOK_SECRET: 'a-payment-webhook-secret-of-sufficient-length',
  };

  it('defaults to the embedded store under ./data', () => {
    const config = loadConfig(secret);
    expect(config.eventStore).toEqual({ kind: 'embedded', file: './data/events.sqlite' });
    expect(config.http).toEqual({ port: 3000, host: '0.0.0.0', bodyLimitBytes: 65536 });
    expect(config.aggregates.snapshotEvery).toBe(100);
    expect(config.nodeEnv).toBe('production');
  });

  it('refuses to start without AUTH_JWT_SECRET unless NODE_ENV=development', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test' })).toThrow(/AUTH_JWT_SECRET is required/);
    const dev = loadConfig({ NODE_ENV: 'development' });
    expect(dev.auth).toEqual({ jwtSecret: DEV_JWT_SECRET, usingDevSecret: true });
  });

  it('names every bad variable', () => {
    try {
      loadConfig({
        ...secret,
        PORT: 'eighty',
        SNAPSHOT_EVERY: '0',
        EVENTSTORE_CONNECTION_STRING: 'http://x',
        NODE_ENV: 'prod',
      });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'SNAPSHOT_EVERY', 'EVENTSTORE_CONNECTION_STRING', 'NODE_ENV'])
        expect(text).toContain(name);
    }
  });

  it('selects EventStoreDB by connection string and parses numbers', () => {
    const config = loadConfig({
      ...secret,
      EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
      PORT: '8080',
      DATA_DIR: '/tmp/x/',
      SNAPSHOT_EVERY: '50',
    });
    expect(config.eventStore).toEqual({ kind: 'esdb', connectionString: 'esdb://localhost:2113?tls=false' });
    expect(config.http.port).toBe(8080);
    expect(config.aggregates.snapshotEvery).toBe(50);
    expect(config.dataDir).toBe('/tmp/x'); // trailing slash dropped
  });

  it('selects PostgreSQL by POSTGRES_URL, in the ordertrail schema, as instance <hostname>:<pid> with 10 s leases', () => {
    const config = loadConfig({ ...secret, POSTGRES_URL: 'postgres://app:pw@db:5432/shop' });
    expect(config.eventStore).toEqual({
      kind: 'postgres',
      url: 'postgres://app:pw@db:5432/shop',
      schema: 'ordertrail',
    });
    expect(config.instanceId).toBe(`${hostname()}:${process.pid}`);
    expect(config.readSide.leaseMs).toBe(10_000);
    const named = loadConfig({
      ...secret,
      POSTGRES_URL: 'postgresql://db/shop',
      POSTGRES_SCHEMA: 'shop_events',
      INSTANCE_ID: 'web-2',
      PROJECTION_LEASE_MS: '4000',
    });
    expect(named.eventStore).toEqual({
      kind: 'postgres',
      url: 'postgresql://db/shop',
      schema: 'shop_events',
    });
    expect(named.instanceId).toBe('web-2');
    expect(named.readSide.leaseMs).toBe(4000);
  });

  it('refuses EVENTSTORE_CONNECTION_STRING and POSTGRES_URL together: they are mutually exclusive', () => {
    expect(() =>
      loadConfig({
        ...secret,
        EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false',
        POSTGRES_URL: 'postgres://localhost/shop',
      }),
    ).toThrow(/EVENTSTORE_CONNECTION_STRING and POSTGRES_URL both select an event store.*mutually exclusive/);
  });

  it('names a bad POSTGRES_URL (without showing it), POSTGRES_SCHEMA, INSTANCE_ID or PROJECTION_LEASE_MS', () => {
    try {
      loadConfig({
        ...secret,
        POSTGRES_URL: 'mysql://app:very-secret@db/shop',
        POSTGRES_SCHEMA: 'Shop-Events',
        INSTANCE_ID: 'has spaces',
        PROJECTION_LEASE_MS: '500',
      });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const name of ['POSTGRES_URL', 'POSTGRES_SCHEMA', 'INSTANCE_ID', 'PROJECTION_LEASE_MS'])
        expect(text).toContain(name);
      expect(text).not.toContain('very-secret');
    }
  });

  it('rejects a short secret', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET/);
  });

  it('refuses to start without PAYMENT_WEBHOOK_SECRET (32+ characters) unless NODE_ENV=development', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: secret.AUTH_JWT_SECRET })).toThrow(
      /PAYMENT_WEBHOOK_SECRET is required/,
    );
    expect(() => loadConfig({ ...secret, PAYMENT_WEBHOOK_SECRET: 'x'.repeat(31) })).toThrow(
      /PAYMENT_WEBHOOK_SECRET="?\(hidden\)"?/,
    );
    expect(loadConfig(secret).payments).toEqual({
      webhookSecret: secret.PAYMENT_WEBHOOK_SECRET,
      usingDevSecret: false,
    });
    expect(loadConfig({ NODE_ENV: 'development' }).payments).toEqual({
      webhookSecret: DEV_PAYMENT_WEBHOOK_SECRET,
      usingDevSecret: true,
    });
  });
});
