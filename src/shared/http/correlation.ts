import type { IncomingMessage } from 'node:http';
import { randomId } from '../application/ids.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The correlation id of a request: its `X-Correlation-Id` when valid, else a fresh UUID. Fastify calls it
 * once per request (`genReqId`), so it is also Fastify's request id.
 */
export function correlationIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-correlation-id'];
  return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomId();
}
