import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET } from '../support/secrets.js';
import { freePort, jsonLines, MAIN, startService, type ServiceProcess } from '../support/service-process.js';

/** Starts dist/main.js with this environment (as `uid` when given) and resolves once it exits. */
function exitOf(
  env: Record<string, string>,
  uid?: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit({ code, stdout, stderr });
    });
  });
}

/** One JSON object per line, each with one `msg` (pino writes a second one if a caller passes `msg` too). */
function expectJsonLines(text: string): Record<string, unknown>[] {
  for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
    expect(line.match(/(?<!\\)"msg":/g)?.length ?? 0).toBeLessThanOrEqual(1);
  }
  return jsonLines(text);
}

const SERVICE = {
  NODE_ENV: 'test',
  AUTH_JWT_SECRET: TEST_JWT_SECRET,
  PAYMENT_WEBHOOK_SECRET: TEST_PAYMENT_WEBHOOK_SECRET,
};

describe('operations: what the service logs when things go wrong', () => {
  let dir: string;
  let service: ServiceProcess | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ordertrail-oplogs-'));
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await rm(dir, { recursive: true, force: true });
  }, 20_000);

  it('a store that is down: each condition logged once, consumer-group warnings as JSON, no stack', async () => {
    // An EventStoreDB nobody listens on: every write is 503, every consumer group retries and warns.
    const closedPort = await freePort();
    service = await startService({
      ...SERVICE,
      DATA_DIR: dir,
      LOG_LEVEL: 'info',
      EVENTSTORE_CONNECTION_STRING: `esdb://127.0.0.1:${closedPort}?tls=false`,
    });
    const token = new JwtService({ secret: TEST_JWT_SECRET, signOptions: { expiresIn: '1h' } }).sign({
      sub: 'c-down',
      roles: ['shopper'],
    });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${service.url}/carts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ currency: 'EUR' }),
      });
      expect(res.status).toBe(503);
    }
    await new Promise((r) => setTimeout(r, 3000)); // the groups retry meanwhile

    const lines = expectJsonLines(service.stdout());
    expect(service.stderr()).toBe(''); // no plain-text warning from Node
    const failures = lines.filter((l) => l.condition === 'EVENT_STORE_UNAVAILABLE');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'error', state: 'started', method: 'POST', url: '/carts' });
    expect(String(failures[0]!.cause)).toContain('EventStoreDB is unavailable');
    // The request lines remain, one per request, as warnings (an expected failure, not a bug).
    const requests = lines.filter((l) => l.route === '/carts' && l.status === 503);
    expect(requests).toHaveLength(20);
    expect(new Set(requests.map((l) => l.level))).toEqual(new Set(['warn']));
    // Every consumer group's warning once, as JSON.
    const warnings = lines.filter((l) => l.warning === 'ConsumerGroupWarning');
    expect(warnings.length).toBeGreaterThanOrEqual(5);
    const perGroup = new Map<string, number>();
    for (const w of warnings) {
      const group = /consumer group (\S+):/.exec(String(w.condition))?.[1] ?? '?';
      perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
    }
    expect([...perGroup.values()].every((n) => n === 1)).toBe(true);
    expect(warnings.every((w) => w.context === 'Process' && w.level === 'warn')).toBe(true);
    // No stack, no absolute path of the installation anywhere.
    expect(service.stdout()).not.toMatch(/\\n\s+at /);
    expect(service.stdout()).not.toContain(process.cwd());
  }, 40_000);

  it('a configuration error is one JSON line on stderr naming the variable (exit 78)', async () => {
    const { code, stdout, stderr } = await exitOf({ DATA_DIR: dir, SNAPSHOT_EVERY: 'often' });
    expect(code).toBe(78);
    expect(stdout).toBe('');
    const [line, ...more] = expectJsonLines(stderr);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'fatal', context: 'Config', exitCode: 78 });
    expect(String(line!.msg)).toContain('SNAPSHOT_EVERY="often"');
    expect(String(line!.msg)).toContain('AUTH_JWT_SECRET is required');
    expect(line!.problems).toEqual(expect.arrayContaining([expect.stringContaining('SNAPSHOT_EVERY')]));
  }, 30_000);

  it('a read-only DATA_DIR: the message names the directory and the cause', async () => {
    // Permissions bind every user but root: as root, the service runs as nobody (65534).
    const runAs = process.getuid?.() === 0 ? 65534 : undefined;
    await chmod(dir, 0o755);
    const readOnly = join(dir, 'data');
    await mkdir(readOnly, { mode: 0o555 });
    await chmod(readOnly, 0o555);
    const { code, stderr } = await exitOf({ ...SERVICE, DATA_DIR: readOnly }, runAs);
    expect(code).toBe(1);
    const lines = expectJsonLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'fatal', context: 'Bootstrap' });
    const msg = String(lines[0]!.msg);
    expect(msg).toContain(`DATA_DIR ${readOnly} cannot be used`);
    expect(msg).toContain('is not writable by this process');
    expect(msg).toContain('EACCES');
    expect(stderr).not.toContain('unable to open database file');
  }, 30_000);

  it('a store file that cannot be opened is named, with why (here: a directory in its place)', async () => {
    await mkdir(join(dir, 'events.sqlite'));
    const { code, stderr } = await exitOf({ ...SERVICE, DATA_DIR: dir });
    expect(code).toBe(1);
    const [line, ...more] = expectJsonLines(stderr);
    expect(more).toEqual([]);
    expect(String(line!.msg)).toContain(`${join(dir, 'events.sqlite')} is a directory`);
    expect(stderr).not.toMatch(/\\n\s+at /);
  }, 30_000);
});
