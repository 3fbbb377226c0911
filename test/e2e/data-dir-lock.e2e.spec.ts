import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET } from '../support/secrets.js';
import { freePort, MAIN, startService, type ServiceProcess } from '../support/service-process.js';

/** Starts dist/main.js on `dataDir` and resolves with its exit code and stderr once it exits. */
function exitOf(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return freePort().then(
    (port) =>
      new Promise((resolveExit) => {
        const child = spawn(process.execPath, [MAIN], {
          env: {
            PATH: process.env.PATH ?? '',
            NODE_ENV: 'test',
            AUTH_JWT_SECRET: TEST_JWT_SECRET,
            PAYMENT_WEBHOOK_SECRET: TEST_PAYMENT_WEBHOOK_SECRET,
            DATA_DIR: dataDir,
            HOST: '127.0.0.1',
            PORT: String(port),
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolveExit({ code, stderr });
        });
      }),
  );
}

describe('one process per data directory (embedded stores)', () => {
  let dataDir: string;
  let first: ServiceProcess | undefined;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-lock-'));
  });
  afterEach(async () => {
    await first?.stop();
    first = undefined;
    await rm(dataDir, { recursive: true, force: true });
  }, 20_000);

  it('a second service on the same DATA_DIR is refused at start, naming the directory and the holder', async () => {
    first = await startService({ AUTH_JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir });
    const { code, stderr } = await exitOf(dataDir);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`DATA_DIR ${dataDir}`);
    expect(stderr).toContain(`pid ${first.child.pid}`);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    // The first one is untouched by the attempt.
    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
  }, 30_000);

  it('the lock dies with its holder: after kill -9, the next service starts on the directory', async () => {
    first = await startService({ AUTH_JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir });
    await first.kill9();
    first = await startService({ AUTH_JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir });
    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
  }, 30_000);

  it('a clean stop frees the directory too', async () => {
    first = await startService({ AUTH_JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir });
    await first.stop();
    first = await startService({ AUTH_JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir });
    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
  }, 30_000);
});
