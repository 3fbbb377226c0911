import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { TEST_JWT_SECRET, TEST_PAYMENT_WEBHOOK_SECRET } from '../support/secrets.js';
import { freePort } from '../support/service-process.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * A project directory of its own: the real package.json (its scripts are what is tested) with the built
 * service, the scripts and node_modules linked in, so that a `.env` can be put there without touching the
 * repository's.
 */
async function projectCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-npm-'));
  await copyFile(join(ROOT, 'package.json'), join(dir, 'package.json'));
  for (const name of ['dist', 'node_modules', 'scripts', 'public']) {
    await symlink(join(ROOT, name), join(dir, name));
  }
  return dir;
}

/** npm as a user runs it; the build (prestart) is skipped: the tests' own build is there already. */
function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    npm_config_ignore_scripts: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    ...extra,
  };
}

interface Started {
  readonly npm: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The JSON lines of stdout so far (npm's own banner lines are skipped). */
  lines(): Record<string, unknown>[];
  stderr(): string;
  /** The listening line: its url, docs, admin, envFile — and the pid of the service's node process. */
  readonly listening: Record<string, unknown>;
}

async function npmStart(cwd: string, script: string, env: NodeJS.ProcessEnv): Promise<Started> {
  // Its own process group, as in a terminal: a Ctrl-C goes to the whole group.
  const npm = spawn('npm', ['run', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  npm.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    npm.once('exit', (code, signal) => done({ code, signal })),
  );
  const lines = (): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const listening = lines().find((l) => l.context === 'Bootstrap' && typeof l.url === 'string');
    // The last start-up line says how to get a token.
    const ready = lines().some((l) => String(l.msg).includes('npm run -s token'));
    if (listening && ready) return { npm, exited, lines, listening, stderr: () => stderr };
    if (npm.exitCode !== null || Date.now() > deadline) {
      if (npm.exitCode === null) process.kill(-npm.pid!, 'SIGKILL');
      throw new Error(`npm run ${script} did not start:\n${stdout}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe('start and stop like a service: npm start, npm run start:dev, .env', () => {
  let dir: string;
  let started: Started | undefined;
  beforeEach(async () => {
    dir = await projectCopy();
  });
  afterEach(async () => {
    const pid = started?.listening.pid;
    if (started && started.npm.exitCode === null) process.kill(-started.npm.pid!, 'SIGKILL');
    if (typeof pid === 'number' && alive(pid)) process.kill(pid, 'SIGKILL');
    started = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('npm start reads .env; npm run -s token signs with its secret and says so; SIGTERM to npm stops node', async () => {
    const port = await freePort();
    await writeFile(
      join(dir, '.env'),
      [
        '# what a user copies from .env.example and fills in',
        'NODE_ENV=production',
        'HOST=127.0.0.1',
        `PORT=${port}`,
        `DATA_DIR=${join(dir, 'data')}`,
        `AUTH_JWT_SECRET=${TEST_JWT_SECRET}`,
        `PAYMENT_WEBHOOK_SECRET=${TEST_PAYMENT_WEBHOOK_SECRET}`,
        'LOG_LEVEL=info',
        '',
      ].join('\n'),
    );
    started = await npmStart(dir, 'start', npmEnv());
    const base = `http://127.0.0.1:${port}`;
    expect(started.listening).toMatchObject({
      url: base,
      docs: `${base}/docs`,
      admin: `${base}/admin/`,
      envFile: join(dir, '.env'),
    });
    expect(String(started.listening.msg)).toContain(`API docs ${base}/docs, admin page ${base}/admin/`);
    const hint = started.lines().find((l) => String(l.msg).includes('npm run -s token'));
    expect(String(hint?.msg)).toContain('signed with AUTH_JWT_SECRET');

    const minted = await run('npm', ['run', '-s', 'token', '--', '--role', 'shopper', '--sub', 'c-env'], {
      cwd: dir,
      env: npmEnv(),
    });
    expect(minted.stderr).toContain(`signed with AUTH_JWT_SECRET from ${join(dir, '.env')}`);
    const opened = await fetch(`${base}/carts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${minted.stdout.trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currency: 'EUR' }),
    });
    expect(opened.status).toBe(201);

    const pid = started.listening.pid as number;
    process.kill(started.npm.pid!, 'SIGTERM');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(await gone(pid)).toBe(true);
    expect(started.lines().map((l) => l.msg)).toEqual(
      expect.arrayContaining(['SIGTERM: stopping', 'stopped']),
    );
  }, 60_000);

  it('npm run start:dev (npm → npm → node): SIGTERM to the outer npm leaves no node behind', async () => {
    const port = await freePort();
    started = await npmStart(
      dir,
      'start:dev',
      npmEnv({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info' }),
    );
    expect(started.listening.url).toBe(`http://127.0.0.1:${port}`);
    expect(started.listening).not.toHaveProperty('envFile');
    const hint = started.lines().find((l) => String(l.msg).includes('npm run -s token'));
    expect(String(hint?.msg)).toContain('public development secret');
    const pid = started.listening.pid as number;
    process.kill(started.npm.pid!, 'SIGTERM');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(await gone(pid)).toBe(true);
    // No .env: nothing said about it (Node's --env-file-if-exists would print a plain-text line on stderr).
    expect(started.stderr()).toBe('');
  }, 60_000);

  it('npm run start:dev: Ctrl-C (SIGINT to the whole process group) stops everything, exit 0', async () => {
    const port = await freePort();
    started = await npmStart(
      dir,
      'start:dev',
      npmEnv({ HOST: '127.0.0.1', PORT: String(port), DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info' }),
    );
    const pid = started.listening.pid as number;
    process.kill(-started.npm.pid!, 'SIGINT');
    expect(await started.exited).toEqual({ code: 0, signal: null });
    expect(await gone(pid)).toBe(true);
    // One stop, however many times the signal arrived (the terminal's, then npm's forwarded ones).
    expect(started.lines().filter((l) => l.msg === 'stopped')).toHaveLength(1);
  }, 60_000);
});
