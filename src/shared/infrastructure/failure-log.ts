import type { Logger } from '@nestjs/common';

/**
 * Logging an expected failure — a store that is down, a full disk — once per condition rather than once per
 * occurrence: a line when it starts, a summary while it lasts, and a line when it clears. A service that
 * answers 503 to every request for an hour writes a few dozen lines, not one (with a stack) per request.
 */

export type FailureLogLevel = 'error' | 'warn' | 'info';

/** Where the lines go: one call per line, its fields and its message (e.g. a pino or Nest logger). */
export type FailureLogWrite = (
  level: FailureLogLevel,
  fields: Record<string, unknown>,
  message: string,
) => void;

export interface RecurringFailureOptions {
  /** While a condition lasts, a summary line at most this often (ms). */
  readonly summaryEveryMs?: number;
  /** A condition that has not recurred for this long has cleared (ms). */
  readonly clearAfterMs?: number;
  /** The clock and the timer (tests); timers never keep the process alive. */
  readonly now?: () => number;
  readonly schedule?: (work: () => void, ms: number) => { cancel(): void };
}

/** A summary of an ongoing condition every minute. */
export const SUMMARY_EVERY_MS = 60_000;
/**
 * Cleared after 30 s without an occurrence: three times the longest retry back-off of the consumer groups
 * (10 s), so a store that stays down is one condition, not one per retry.
 */
export const CLEAR_AFTER_MS = 30_000;

interface Condition {
  readonly since: number;
  last: number;
  lastLine: number;
  total: number;
  /** Occurrences not reported by a line yet. */
  unreported: number;
  cause: string;
  timer: { cancel(): void } | null;
}

function defaultSchedule(work: () => void, ms: number): { cancel(): void } {
  const timer = setTimeout(work, ms);
  timer.unref();
  return { cancel: () => clearTimeout(timer) };
}

/**
 * Conditions by name (a problem code such as `EVENT_STORE_UNAVAILABLE`, or a warning's text). The first
 * occurrence is logged at `error` with its cause and the caller's fields; later ones are counted, and
 * summarised at `warn` at most every `summaryEveryMs`; once none has come for `clearAfterMs`, one `info`
 * line says that the condition cleared, how long it lasted and how many occurrences it had.
 */
export class RecurringFailures {
  private readonly conditions = new Map<string, Condition>();
  private readonly summaryEveryMs: number;
  private readonly clearAfterMs: number;
  private readonly now: () => number;
  private readonly schedule: (work: () => void, ms: number) => { cancel(): void };

  constructor(
    private readonly write: FailureLogWrite,
    options: RecurringFailureOptions = {},
  ) {
    this.summaryEveryMs = options.summaryEveryMs ?? SUMMARY_EVERY_MS;
    this.clearAfterMs = options.clearAfterMs ?? CLEAR_AFTER_MS;
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? defaultSchedule;
  }

  /**
   * One occurrence of `condition`. `cause` says what went wrong (no stack: it is the same every time);
   * `fields` describe this occurrence (its request, its correlation id) and are logged with the first one.
   */
  occurred(
    condition: string,
    cause: string,
    fields: Record<string, unknown> = {},
    level: FailureLogLevel = 'error',
  ): void {
    const now = this.now();
    const known = this.conditions.get(condition);
    if (known) {
      known.last = now;
      known.total += 1;
      known.unreported += 1;
      known.cause = cause;
      if (now - known.lastLine >= this.summaryEveryMs) this.summarise(condition, known, now);
      return;
    }
    const started: Condition = {
      since: now,
      last: now,
      lastLine: now,
      total: 1,
      unreported: 0,
      cause,
      timer: null,
    };
    this.conditions.set(condition, started);
    this.write(
      level,
      { ...fields, condition, state: 'started', ...(cause ? { cause } : {}) },
      `${cause ? `${condition}: ${cause}` : condition} (logged once while it lasts: a summary every ` +
        `${seconds(this.summaryEveryMs)}, a line when it clears)`,
    );
    this.arm(condition, started);
  }

  /** Whether a condition is ongoing (tests, diagnostics). */
  isOngoing(condition: string): boolean {
    return this.conditions.has(condition);
  }

  /** Forgets every condition without a line (the process stops). */
  close(): void {
    for (const condition of this.conditions.values()) condition.timer?.cancel();
    this.conditions.clear();
  }

  private summarise(name: string, condition: Condition, now: number): void {
    this.write(
      'warn',
      {
        condition: name,
        state: 'ongoing',
        occurrences: condition.unreported,
        total: condition.total,
        since: new Date(condition.since).toISOString(),
        ...(condition.cause ? { cause: condition.cause } : {}),
      },
      `${name} goes on: ${condition.unreported} more in the last ${seconds(now - condition.lastLine)} ` +
        `(${condition.total} since ${new Date(condition.since).toISOString()})` +
        (condition.cause ? `: ${condition.cause}` : ''),
    );
    condition.unreported = 0;
    condition.lastLine = now;
  }

  /** One timer per condition: the next summary or the clearing, whichever comes first. */
  private arm(name: string, condition: Condition): void {
    const due = Math.min(condition.last + this.clearAfterMs, condition.lastLine + this.summaryEveryMs);
    condition.timer = this.schedule(() => this.check(name, condition), Math.max(1, due - this.now()));
  }

  private check(name: string, condition: Condition): void {
    if (this.conditions.get(name) !== condition) return;
    const now = this.now();
    if (now - condition.last >= this.clearAfterMs) {
      this.conditions.delete(name);
      this.write(
        'info',
        {
          condition: name,
          state: 'cleared',
          total: condition.total,
          durationMs: condition.last - condition.since,
          since: new Date(condition.since).toISOString(),
        },
        `${name} cleared: none for ${seconds(this.clearAfterMs)} (${condition.total} in all, ` +
          `from ${new Date(condition.since).toISOString()} for ${seconds(condition.last - condition.since)})`,
      );
      return;
    }
    if (condition.unreported > 0 && now - condition.lastLine >= this.summaryEveryMs) {
      this.summarise(name, condition, now);
    }
    this.arm(name, condition);
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * What an error says, without a stack: its message and those of its causes (`the embedded event store could
 * not commit: database or disk is full (SQLITE_FULL)`).
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    if (current instanceof Error) {
      // A cause its error already quotes adds nothing; a cause's code (SQLITE_FULL, ECONNREFUSED) does.
      const own = current.message;
      const code = (current as { code?: unknown }).code;
      const message = depth > 0 && typeof code === 'string' && !own.includes(code) ? `${own} (${code})` : own;
      if (!parts.some((part) => part.includes(own))) parts.push(message);
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current));
      break;
    }
  }
  return parts.filter((part) => part !== '').join(': ');
}

/**
 * An unexpected error as a log field: type, message, code and stack, with the paths of the project made
 * relative (`dist/…`, `node_modules/…`): where the service is installed is nobody's business in a log.
 */
export function errorField(error: unknown, root: string = process.cwd()): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  const relative = (text: string): string =>
    text
      .split(`file://${root}/`)
      .join('')
      .split(`${root}/`)
      .join('')
      .replace(/(?:file:\/\/)?\/[^\s()]*\/node_modules\//g, 'node_modules/');
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(error.stack ? { stack: relative(error.stack) } : {}),
    ...(error.cause !== undefined ? { cause: describeError(error.cause) } : {}),
  };
}

const failuresByLogger = new WeakMap<Logger, RecurringFailures>();

/** The conditions a Nest logger has seen (one set per logger: the HTTP filter's, the health check's). */
export function recurringFailuresOf(logger: Logger): RecurringFailures {
  let failures = failuresByLogger.get(logger);
  if (!failures) {
    failures = new RecurringFailures((level, fields, message) =>
      level === 'info' ? logger.log(fields, message) : logger[level](fields, message),
    );
    failuresByLogger.set(logger, failures);
  }
  return failures;
}

/**
 * The log of a request answered with a 5xx. A 503 is an expected failure (a store down, a full disk): one
 * condition per problem code, logged once while it lasts (RecurringFailures). Anything else is a bug: one
 * line with the error and its stack (paths relative), on a line of its own — one JSON object, one `msg`.
 */
export function logFailedRequest(
  logger: Logger,
  error: unknown,
  answer: { readonly status: number; readonly code?: string },
  request: { readonly method: string; readonly url: string; readonly correlationId?: string },
): void {
  const fields = { method: request.method, url: request.url, correlationId: request.correlationId };
  if (answer.status === 503) {
    recurringFailuresOf(logger).occurred(answer.code ?? 'SERVICE_UNAVAILABLE', describeError(error), {
      status: answer.status,
      ...fields,
    });
    return;
  }
  logger.error({ error: errorField(error), ...fields }, 'request failed');
}
