import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { writeHistory, type History } from './event-history.js';
import { until } from './projection-runtime.js';
import { startTestApp, type TestApp } from './test-app.js';

const ROOT = resolve(import.meta.dirname ?? process.cwd(), '../..');
/** The built CLI: what package.json's `bin` and `npm run ops` run. */
export const OPS_BIN = resolve(ROOT, 'dist/operations/cli/main.js');

/** Job settings that make a rebuild of a few hundred events last about two seconds: long enough to watch. */
export const WATCHABLE_JOBS = {
  REBUILD_PAGE_SIZE: '10',
  REBUILD_PAGE_DELAY_MS: '60',
  REBUILD_DROP_GRACE_MS: '200',
  PROJECTION_HEARTBEAT_MS: '100',
  PROJECTION_MAX_RETRIES: '0',
};

/** What the operators' tools (admin API, CLI, admin page) list: every projection, then the process managers. */
export const ADMIN_LISTED = [
  'carts',
  'orders',
  'order_search',
  'order_timeline',
  'products',
  'refund-on-cancellation',
  'place-order-on-checkout',
];

export interface ServedApp extends TestApp {
  /** `http://127.0.0.1:<port>`: the app listening on a real port (for the CLI and the browser). */
  readonly url: string;
  readonly history: History;
  /** Resolves once every projection has caught up with the store. */
  caughtUp(): Promise<void>;
}

/** The whole app on a fresh embedded store, listening on a free port, with a realistic history written. */
export async function startServedApp(
  env: Record<string, string> = {},
  history: { carts?: number; steps?: number; seed?: number } = {},
): Promise<ServedApp> {
  const t = await startTestApp({ ...WATCHABLE_JOBS, ...env });
  try {
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const written = await writeHistory(t.events, { carts: 60, steps: 12, seed: 11, ...history });
    const operator = t.bearer('ops', 'operator');
    const caughtUp = () =>
      until(
        async () => {
          const res = await t.http.get('/admin/projections').set('authorization', operator);
          return (
            res.status === 200 && (res.body.items as { lagEvents: number }[]).every((p) => p.lagEvents === 0)
          );
        },
        'every projection to catch up',
        30_000,
      );
    await caughtUp();
    return { ...t, url: `http://127.0.0.1:${port}`, history: written, caughtUp };
  } catch (error) {
    await t.close();
    throw error;
  }
}

export interface OpsRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface OpsOptions {
  /** ORDERTRAIL_URL, ORDERTRAIL_TOKEN, AUTH_JWT_SECRET, … (nothing else of this process's env is passed). */
  readonly env?: Record<string, string>;
  /** Called with the output so far on every chunk (e.g. to send Ctrl-C once a progress line shows). */
  readonly onOutput?: (stdout: string, child: ReturnType<typeof spawn>) => void;
  readonly timeoutMs?: number;
}

/**
 * Runs the built `ordertrail-ops` as its own process, asynchronously (the app it talks to may be in this
 * process: a synchronous spawn would block it), and collects its output and exit code.
 */
export function runOps(args: readonly string[], options: OpsOptions = {}): Promise<OpsRun> {
  if (!existsSync(OPS_BIN)) throw new Error(`${OPS_BIN} is missing: run "npm run build" first`);
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [OPS_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onOutput?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}
