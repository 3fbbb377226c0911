import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startService, type ServiceProcess } from '../support/service-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const TOUR = resolve(ROOT, 'scripts/tour.sh');

/** Runs a command to its end, whatever its exit code. */
function runToEnd(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the README tour, as printed, against the started service', () => {
  it('the README shows scripts/tour.sh, line for line', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## A five-minute tour'));
    const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1];
    const script = readFileSync(TOUR, 'utf8');
    expect(block).toBeDefined();
    expect(script.slice(script.indexOf('\nBASE_URL=') + 1)).toBe(block);
  });

  describe('bash scripts/tour.sh', () => {
    let dataDir: string;
    let service: ServiceProcess;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'ordertrail-tour-'));
      // What `npm run start:dev` starts: development, public dev secrets, the demo catalog.
      service = await startService({
        NODE_ENV: 'development',
        DATA_DIR: dataDir,
        PAYMENT_WEBHOOK_SECRET: '',
      });
    }, 30_000);
    afterAll(async () => {
      await service.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('runs to the end (exit 0), every step answered as the README says', async () => {
      const { code, stdout, stderr } = await runToEnd('bash', [TOUR], {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? tmpdir(),
        BASE_URL: service.url,
        npm_config_update_notifier: 'false',
      });
      expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
      const steps = stderr
        .split('\n')
        .filter((line) => line.includes(' → '))
        .map((line) => line.replace(uuid, ':id').replace(/asOf=\S+/, 'asOf=…'));
      expect(steps).toEqual([
        'POST /carts → 201',
        'GET /catalog/products?limit=3 → 200',
        'POST /carts/:id/items → 200',
        'POST /carts/:id/items → 200',
        'GET /carts/:id?minRevision=2 → 200',
        'POST /carts/:id/checkout → 200',
        'GET /orders/:id?consistency=strong → 200',
        'GET /orders/:id/timeline → 200',
        'GET /orders/:id/state?atRevision=0 → 200',
        'GET /carts/:id/state?asOf=… → 200',
        'GET /orders/:id/diff?from=0&to=1 → 200',
        'POST /carts → 201',
        'POST /carts/:id/items → 200',
        'POST /carts/:id/checkout → 200',
        'POST /orders/:id/cancellation → 200',
        'GET /orders/:id?minRevision=3 → 200',
      ]);
      // The token came from the development secret, and said so (stdout kept it clean for $(…)).
      expect(stderr).toContain('signed with the public development secret');
      // What the comments of the README promise.
      expect(stdout).toContain('"total":4270');
      expect(stdout).toMatch(
        /payment\.succeeded of 42\.70 EUR applied \(event evt_dev_[\w-]+, order revision 1\)/,
      );
      expect(stdout).toContain('"status":"paid"');
      expect(stdout).toMatch(/"status":"cancelled".*"refunded":6900/);
    }, 120_000);
  });
});
