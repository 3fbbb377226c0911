import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { MAIN, startService, type ServiceProcess } from '../support/service-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Starts dist/main.js with exactly this environment and resolves with its exit code and stderr. */
function exitOf(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolveExit({ code, stderr }));
  });
}

describe('starting the service', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-startup-'));
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start in production without AUTH_JWT_SECRET, naming the variable', async () => {
    const { code, stderr } = await exitOf({ DATA_DIR: dataDir, PORT: '0' });
    expect(code).toBe(78);
    expect(stderr).toContain('AUTH_JWT_SECRET');
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a bad variable with a message naming it', async () => {
    const { code, stderr } = await exitOf({
      AUTH_JWT_SECRET: 'a-long-enough-secret-0123456789',
      DATA_DIR: dataDir,
      SNAPSHOT_EVERY: 'often',
    });
    expect(code).toBe(78);
    expect(stderr).toContain('SNAPSHOT_EVERY');
  });

  it('refuses a freshness budget for a projection it does not run, naming the variable and the projections', async () => {
    const { code, stderr } = await exitOf({
      AUTH_JWT_SECRET: 'a-long-enough-secret-0123456789',
      PAYMENT_WEBHOOK_SECRET: 'a-long-enough-webhook-secret-0123456789',
      DATA_DIR: dataDir,
      FRESHNESS_BUDGETS: 'carts=500,cart=1000',
    });
    expect(code).not.toBe(0);
    expect(stderr).toContain(
      'FRESHNESS_BUDGETS: cart is not a projection (the projections: carts, orders, order_search, order_timeline, products)',
    );
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('in development uses the dev secret, and `npm run token` prints a token it accepts', async () => {
    service = await startService({ NODE_ENV: 'development', DATA_DIR: dataDir });
    const { stdout } = await run(process.execPath, [
      join(ROOT, 'scripts/token.mjs'),
      '--role',
      'shopper',
      '--sub',
      'c-dev',
    ]);
    const token = stdout.trim();
    const opened = await fetch(`${service.url}/carts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'EUR' }),
    });
    expect(opened.status).toBe(201);
    const { id } = (await opened.json()) as { id: string };
    const read = await fetch(`${service.url}/carts/${id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { data: { customerId: string } }).data.customerId).toBe('c-dev');
  });

  it('the token script refuses unknown roles', async () => {
    await expect(
      run(process.execPath, [join(ROOT, 'scripts/token.mjs'), '--role', 'admin', '--sub', 'x']),
    ).rejects.toMatchObject({ code: 2 });
  });
});
