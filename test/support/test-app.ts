import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/app-config.js';
import { EventStore, type RecordedEvent } from '../../src/event-store/event-store.port.js';

import { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET } from './secrets.js';

export { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET };

export type Role = 'shopper' | 'operator' | 'auditor';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly http: TestAgent;
  readonly dataDir: string;
  readonly events: EventStore;
  /** `Bearer <jwt>` for the given subject and roles. */
  bearer(sub: string, ...roles: Role[]): string;
  readStream(streamId: string): Promise<RecordedEvent[]>;
  close(): Promise<void>;
}

/** The whole Nest app over real HTTP on a fresh embedded store in a temp directory. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const ownDir = env.DATA_DIR === undefined;
  const dataDir = env.DATA_DIR ?? (await mkdtemp(join(tmpdir(), 'ordertrail-e2e-')));
  const config = loadConfig({
    NODE_ENV: 'test',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_PAYMENT_WEBHOOK_SECRET,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await createApp(config);
  await app.getHttpAdapter().getInstance().ready();
  const jwt = new JwtService({ secret: TEST_JWT_SECRET, signOptions: { expiresIn: '1h' } });
  const events = app.get(EventStore);
  return {
    app,
    http: request(app.getHttpServer()),
    dataDir,
    events,
    bearer: (sub, ...roles) => `Bearer ${jwt.sign({ sub, roles })}`,
    readStream: (streamId) => events.readStream(streamId),
    close: async () => {
      await app.close();
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
