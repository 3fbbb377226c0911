/**
 * The service as a process: what its start-up log says (where it listens, where the API docs and the admin
 * page are, how to get a token, which env file was read) and how it stops (SIGTERM, SIGINT).
 */
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { pino } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { envFileInUse } from '../config/env-file.js';

export interface ServiceUrls {
  readonly url: string;
  readonly docs: string;
  readonly admin: string;
}

/** The URLs to print for a server bound to `host:port` (a wildcard address is reached as localhost). */
export function serviceUrls(host: string, port: number): ServiceUrls {
  const wildcard = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  const shown = wildcard ? 'localhost' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const url = `http://${shown}:${port}`;
  return { url, docs: `${url}/docs`, admin: `${url}/admin/` };
}

/** How to get a token this service accepts (no secret in it, ever). */
export function tokenHint(config: Pick<AppConfig, 'auth'>): string {
  const mint = 'npm run -s token -- --role shopper --sub c-1';
  return config.auth.usingDevSecret
    ? `a token for trying the API: ${mint} (signed with the public development secret, which this service ` +
        'accepts; --role operator for the admin page and the CLI, --role auditor for the audit routes)'
    : `tokens are HS256 JWTs with sub, roles and exp, signed with AUTH_JWT_SECRET: ${mint} mints one where ` +
        'the same AUTH_JWT_SECRET is exported or in .env';
}

/** The start-up lines: where the service listens, its API docs and admin page, how to get a token. */
export function announce(app: INestApplication, config: AppConfig, log: pino.Logger): ServiceUrls {
  const server = app.getHttpServer() as Server;
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.http.port;
  const urls = serviceUrls(config.http.host, port);
  const envFile = envFileInUse();
  log.info(
    { context: 'Bootstrap', ...urls, ...(envFile ? { envFile } : {}) },
    `ordertrail listening on ${urls.url} — API docs ${urls.docs}, admin page ${urls.admin}` +
      (envFile ? ` (settings from ${envFile}, the environment overriding it)` : ''),
  );
  log.info({ context: 'Bootstrap' }, tokenHint(config));
  return urls;
}

/** How long a stop may take before the process exits anyway (Docker's default stop timeout is 10 s). */
export const STOP_DEADLINE_MS = 9_000;

/**
 * SIGTERM and SIGINT stop the service gracefully: the server stops accepting connections, requests in flight
 * finish, consumers and jobs stop, the stores close, the data directory is released — then exit 0. A signal
 * that comes again meanwhile (npm forwards Ctrl-C to a process that already got it from the terminal) changes
 * nothing; a stop that takes longer than STOP_DEADLINE_MS ends with exit 1.
 */
export function stopOnSignals(
  app: INestApplication,
  log: pino.Logger,
  exit: (code: number) => void = (code) => process.exit(code),
  deadlineMs: number = STOP_DEADLINE_MS,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    log.info({ context: 'Bootstrap', signal }, `${signal}: stopping`);
    const deadline = setTimeout(() => {
      log.error({ context: 'Bootstrap', signal }, `not stopped within ${deadlineMs} ms: exiting anyway`);
      exit(1);
    }, deadlineMs);
    deadline.unref();
    app.close().then(
      () => {
        clearTimeout(deadline);
        log.info({ context: 'Bootstrap', signal, durationMs: Date.now() - started }, 'stopped');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        log.error(
          {
            context: 'Bootstrap',
            signal,
            error: { message: error instanceof Error ? error.message : String(error) },
          },
          'stopping failed',
        );
        exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
