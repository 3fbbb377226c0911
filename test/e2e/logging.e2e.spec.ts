import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { TEST_PAYMENT_WEBHOOK_SECRET } from '../support/secrets.js';
import { freePort, MAIN } from '../support/service-process.js';
import { ShopClient } from '../support/shop-client.js';

const SECRET = 'logging-e2e-secret-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-for-the-logging-test-0123456789';

interface Service {
  readonly url: string;
  readonly lines: () => Record<string, unknown>[];
  readonly raw: () => string;
  stop(): Promise<void>;
}

/** The built service as a real process, its stdout captured: what an operator's log shipper would see. */
async function start(env: Record<string, string>): Promise<Service> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-logs-'));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      AUTH_JWT_SECRET: SECRET,
      PAYMENT_WEBHOOK_SECRET: TEST_PAYMENT_WEBHOOK_SECRET,
      METRICS_TOKEN,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited: ${stderr}`);
    try {
      if ((await fetch(`${url}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`service did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    raw: () => stdout,
    lines: () =>
      stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const jwt = new JwtService({ secret: SECRET, signOptions: { expiresIn: '1h' } });

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('JSON logs (nestjs-pino): a line per request, correlation ids, nothing secret', () => {
  let service: Service;
  beforeAll(async () => {
    service = await start({ LOG_LEVEL: 'debug' });
  }, 30_000);
  afterAll(async () => {
    await service.stop();
  });

  it('every line is JSON; the request line has method, route pattern, status, duration and correlation id', async () => {
    const token = jwt.sign({ sub: `c-${randomUUID()}`, roles: ['shopper'] });
    const secretName = `Secret item ${randomUUID()}`;
    // The shop names its products: the operator's request and ItemAdded carry the name, no log line does.
    await new ShopClient(service.url, SECRET).listProduct('sku-1', 100, { name: secretName });
    const open = await fetch(`${service.url}/carts`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-correlation-id': 'corr-open-1',
      },
      body: JSON.stringify({ currency: 'EUR' }),
    });
    expect(open.status).toBe(201);
    const { id: cartId } = (await open.json()) as { id: string };
    const add = await fetch(`${service.url}/carts/${cartId}/items`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-correlation-id': 'corr-add-1',
      },
      body: JSON.stringify({ sku: 'sku-1', quantity: 1 }),
    });
    expect(add.status).toBe(200);
    expect(add.headers.get('x-correlation-id')).toBe('corr-add-1');
    // A request refused by the guard, with a token in it.
    const denied = await fetch(`${service.url}/metrics`, {
      headers: { authorization: `Bearer ${token}`, 'x-correlation-id': 'corr-denied-1' },
    });
    expect(denied.status).toBe(403);
    // The static scraper token.
    expect(
      (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }))
        .status,
    ).toBe(200);

    const requestLine = await waitFor('the add-item request line', () =>
      service.lines().find((l) => l.msg === 'request completed' && l.correlationId === 'corr-add-1'),
    );
    expect(requestLine).toMatchObject({
      level: 'info',
      method: 'POST',
      route: '/carts/:id/items',
      status: 200,
      correlationId: 'corr-add-1',
    });
    expect(typeof requestLine.durationMs).toBe('number');
    expect(typeof requestLine.time).toBe('string');
    const deniedLine = service.lines().find((l) => l.correlationId === 'corr-denied-1');
    expect(deniedLine).toMatchObject({ route: '/metrics', status: 403 });

    // The write path's line for the events the request caused carries the request's correlation id.
    const appended = await waitFor('the add-item append line', () =>
      service.lines().find((l) => l.msg === 'events appended' && l.command === 'AddItem'),
    );
    expect(appended).toMatchObject({
      level: 'debug',
      correlationId: 'corr-add-1',
      streamId: `cart-${cartId}`,
      revision: '1',
    });
    expect(appended.eventIds).toHaveLength(1);

    // Never a token, a secret or a body.
    const all = service.raw();
    expect(all).not.toContain(token);
    expect(all).not.toContain(METRICS_TOKEN);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(secretName);
    expect(all.toLowerCase()).not.toContain('bearer');
  }, 20_000);

  it('what a process manager logs for the events of a request carries that request’s correlation id', async () => {
    const token = jwt.sign({ sub: `c-${randomUUID()}`, roles: ['shopper'] });
    await new ShopClient(service.url, SECRET).listProduct('sku-2', 100, { name: 'A' });
    const headers = (correlationId: string) => ({
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-correlation-id': correlationId,
    });
    const open = await fetch(`${service.url}/carts`, {
      method: 'POST',
      headers: headers('corr-pm-open'),
      body: JSON.stringify({ currency: 'EUR' }),
    });
    const { id: cartId } = (await open.json()) as { id: string };
    await fetch(`${service.url}/carts/${cartId}/items`, {
      method: 'POST',
      headers: headers('corr-pm-add'),
      body: JSON.stringify({ sku: 'sku-2', quantity: 1 }),
    });
    const checkout = await fetch(`${service.url}/carts/${cartId}/checkout`, {
      method: 'POST',
      headers: headers('corr-pm-checkout'),
      body: '{}',
    });
    expect(checkout.status).toBe(200);
    const { orderId } = (await checkout.json()) as { orderId: string };
    // PlaceOrder runs in the checkout process manager (a consumer group), not in the request.
    const placed = await waitFor('the PlaceOrder append line', () =>
      service
        .lines()
        .find(
          (l) =>
            l.msg === 'events appended' && l.command === 'PlaceOrder' && l.streamId === `order-${orderId}`,
        ),
    );
    expect(placed.correlationId).toBe('corr-pm-checkout');
  }, 20_000);
});

describe('LOG_LEVEL', () => {
  it.each([
    ['silent', 0],
    ['warn', 0],
  ])(
    '%s: no request lines at all',
    async (level) => {
      const service = await start({ LOG_LEVEL: level });
      try {
        const token = jwt.sign({ sub: 'c-level', roles: ['shopper'] });
        const res = await fetch(`${service.url}/carts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ currency: 'EUR' }),
        });
        expect(res.status).toBe(201);
        await new Promise((r) => setTimeout(r, 200));
        expect(service.lines().filter((l) => l.msg === 'request completed')).toEqual([]);
        if (level === 'silent') expect(service.raw()).toBe('');
      } finally {
        await service.stop();
      }
    },
    30_000,
  );

  it('info: startup lines and one line per request, probes only at debug', async () => {
    const service = await start({ LOG_LEVEL: 'info' });
    try {
      await fetch(`${service.url}/health/ready`);
      await fetch(`${service.url}/no-such-route`, { headers: { 'x-correlation-id': 'corr-404' } });
      const line = await waitFor('the 404 line', () =>
        service.lines().find((l) => l.correlationId === 'corr-404'),
      );
      expect(line).toMatchObject({ route: '(unmatched)', status: 404, level: 'info' });
      expect(service.lines().some((l) => l.route === '/health/ready')).toBe(false);
      expect(service.lines().some((l) => l.context === 'Bootstrap')).toBe(true);
    } finally {
      await service.stop();
    }
  }, 30_000);
});
