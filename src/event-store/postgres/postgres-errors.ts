import { EventStoreUnavailableError } from '../event-store.port.js';

/**
 * SQLSTATE classes that mean "the server cannot do it now", not "the request is wrong": 08 connection
 * exception, 53 insufficient resources (too many connections, disk full), 57 operator intervention (shutdown,
 * a cancelled statement), 58 system error.
 */
const UNAVAILABLE_CLASSES = /^(08|53|57|58)/;

/** Node's errors for a server that cannot be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** What node-postgres says when a connection or the pool is gone (it sets no code). */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'Client has encountered a connection error',
];

/** The SQLSTATE (or Node error code) of an error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The name of the constraint a unique violation (23505) broke, if any. */
export function violatedConstraint(error: unknown): string | undefined {
  if (errorCode(error) !== '23505') return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/** A failure of the server or of the way to it: retry later (503), not a bug and not a refusal. */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof EventStoreUnavailableError) return true;
  const code = errorCode(error);
  if (code !== undefined && (UNAVAILABLE_CLASSES.test(code) || NETWORK_CODES.has(code))) return true;
  const message = error instanceof Error ? error.message : '';
  return DRIVER_MESSAGES.some((text) => message.includes(text));
}

/** The port's error for an unavailable server; anything else (a bug, a refusal) is left as it is. */
export function toPortError(error: unknown, doing: string): unknown {
  if (error instanceof EventStoreUnavailableError || !isUnavailable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new EventStoreUnavailableError(`PostgreSQL could not ${doing}: ${reason}`, { cause: error });
}
