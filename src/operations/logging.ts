import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, type LoggerService } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Level } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { LogContext } from '../shared/application/log-context.js';
import { RecurringFailures } from '../shared/infrastructure/failure-log.js';

/**
 * The correlation id of the work in progress: a request (entered by a Fastify hook, see
 * http-observability.ts) or the handling of an event (LogContext). Every log line written meanwhile gets
 * it through the root logger's mixin — computed only for lines actually written, so a request that logs
 * nothing pays for no logger at all.
 */
const correlation = new AsyncLocalStorage<string>();

/** Runs `work` (and all it awaits) on behalf of `correlationId`. */
export function runCorrelated<T>(correlationId: string, work: () => T): T {
  return correlation.run(correlationId, work);
}

/**
 * Never logged, whatever a caller passes: credentials, secrets and bodies. Request lines are built from an
 * allow-list anyway (method, route, status, duration); this is the second line of defence for every other
 * log call.
 */
export const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'jwtSecret',
  '*.jwtSecret',
  'metricsToken',
  '*.metricsToken',
  'password',
  '*.password',
  'body',
  '*.body',
];

/** The root pino logger: JSON lines (level names, ISO time, correlation id) on stdout, or on `destination`. */
export function createRootLogger(level: string, destination?: DestinationStream): pino.Logger {
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: (fields: object) => {
        const id = correlation.getStore();
        // A fresh object: pino merges the line's own fields into it.
        return id === undefined || 'correlationId' in fields ? {} : { correlationId: id };
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * nestjs-pino settings: its Logger is the app's LoggerService (every Nest `Logger` line becomes a pino JSON
 * line) over the root logger above, handed to it as pino-http's `logger`. Its per-request middleware is not
 * mounted (`forRoutes: []`): on Fastify it runs through @fastify/middie and builds two child loggers and
 * three listeners per request, which cost ~60 µs of CPU per request (a quarter of an add-item command) —
 * the Fastify hooks in http-observability.ts give the same request context and request line for a fraction.
 * nestjs-pino keeps one root logger per process: the first app created in a process decides level and
 * destination.
 */
export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  return {
    pinoHttp: { logger: createRootLogger(config.logLevel, destination) },
    forRoutes: [],
  };
}

/** Routes polled all the time: their request lines are debug, so probes and scrapes do not drown the log. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

export interface RequestLine {
  readonly correlationId: string;
  readonly method: string;
  /** The route pattern (`/carts/:id/items`), never the raw URL. */
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
}

/**
 * Writes the one line of a finished request: info; debug for probes and scrapes; warn for a 503 (an expected
 * failure: a store down, a full disk — its cause is logged once per condition, see RecurringFailures); error
 * for any other 5xx (a bug, logged with its stack by the problem filter).
 */
export function logRequest(logger: pino.Logger, line: RequestLine): void {
  const level: Level =
    line.status === 503
      ? 'warn'
      : line.status >= 500
        ? 'error'
        : QUIET_ROUTES.has(line.route)
          ? 'debug'
          : 'info';
  if (!logger.isLevelEnabled(level)) return;
  logger[level](line, line.status >= 500 ? 'request failed' : 'request completed');
}

/** Log lines written while work runs on behalf of an event carry the correlation id of that event. */
@Injectable()
export class CorrelatedLogContext extends LogContext {
  run<T>(correlationId: string, work: () => T): T {
    return runCorrelated(correlationId, work);
  }
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * The log level before the configuration is read (a start-up that fails there still logs JSON): LOG_LEVEL
 * when it is a level, else `info`.
 */
export function levelFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  const level = env.LOG_LEVEL?.trim();
  return level && LEVELS.has(level) ? level : 'info';
}

/** A root logger on stderr: the one line of a start-up that fails (it may come before stdout is set up). */
export function createStartupErrorLogger(level: string): pino.Logger {
  return createRootLogger(level, pino.destination({ dest: 2, sync: true }));
}

/**
 * Nest's logger while the application is created, until nestjs-pino takes over (`app.useLogger`): the same
 * JSON lines (`context` as nestjs-pino writes it). The error that stops the start is logged once, by main.ts,
 * so Nest's own report of it (context `ExceptionHandler`, with a stack) is left out.
 */
export class BootLogger implements LoggerService {
  constructor(private readonly logger: pino.Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: readonly unknown[]): void {
    const last = params[params.length - 1];
    const context = typeof last === 'string' ? last : undefined;
    if (context === 'ExceptionHandler') return;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      this.logger[level](
        { ...fields, error: { type: message.name, message: message.message } },
        message.message,
      );
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...fields, ...message });
    } else {
      this.logger[level](fields, String(message));
    }
  }
}

/**
 * Process warnings (`process.emitWarning`: the consumer groups report a failing group this way, Node its
 * deprecations) become JSON lines instead of Node's plain text on stderr, each kind logged once while it
 * recurs (RecurringFailures: the consumer groups retry every few seconds while a store is down).
 */
export function logProcessWarnings(logger: pino.Logger): RecurringFailures {
  const warnings = new RecurringFailures((level, fields, message) =>
    logger[level]({ context: 'Process', ...fields }, message),
  );
  // Node's own listener prints the warning as text on stderr: this one replaces it.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    const code = (warning as { code?: unknown }).code;
    warnings.occurred(
      `${warning.name}: ${warning.message}`,
      '',
      { warning: warning.name, ...(typeof code === 'string' ? { code } : {}) },
      'warn',
    );
  });
  return warnings;
}
