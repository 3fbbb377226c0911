import { canonicalJson } from '../application/canonical-json.js';
import { createHash } from 'node:crypto';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../application/command-context.js';
import { randomId } from '../application/ids.js';
import { HttpProblem } from './http-errors.js';

/** 1 to 255 visible ASCII characters (no space): what the OpenAPI document states too. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const STRONG_ETAG = /^"(\d{1,18})"$/;
/** `*`, or one strong ETag of a revision: what `If-Match` may say (the OpenAPI pattern). */
export const IF_MATCH_PATTERN = '^(?:[*]|"[0-9]{1,18}")$';

/** Parses `If-Match: "<revision>"`. `*` means "whatever is current" (no check). */
export function parseIfMatch(header: string | string[] | undefined): bigint | null {
  if (header === undefined) return null;
  const value = (Array.isArray(header) ? header.join(',') : header).trim();
  if (value === '*') return null;
  const match = STRONG_ETAG.exec(value);
  if (!match) {
    throw HttpProblem.badRequest(
      'INVALID_IF_MATCH',
      'If-Match must be one strong ETag of this resource, e.g. If-Match: "3"',
      { field: 'If-Match' },
    );
  }
  return BigInt(match[1]!);
}

function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
    throw HttpProblem.badRequest(
      'INVALID_IDEMPOTENCY_KEY',
      'Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)',
      { field: 'Idempotency-Key' },
    );
  }
  return header;
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n`)
    .update(canonicalJson(body ?? null))
    .digest('base64url');
}

/** Builds the CommandContext of a mutating request (actor, correlation, idempotency, If-Match). */
export const CommandCtx = createParamDecorator((_: unknown, context: ExecutionContext): CommandContext => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const actor = request.actor;
  if (!actor) throw HttpProblem.unauthorized('Missing Authorization: Bearer <token>');
  const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key']);
  return {
    actor,
    correlationId: request.correlationId,
    causationId: randomId(),
    idempotencyKey,
    // Compared only under a key: a request without one is not hashed (it was ~3 % of add-item's CPU).
    requestHash:
      idempotencyKey === null
        ? ''
        : requestHash(request.method, request.url.split('?', 1)[0] ?? request.url, request.body),
    expectedRevision: parseIfMatch(request.headers['if-match']),
  };
});

/** The authenticated actor of a request. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (!request.actor) throw HttpProblem.unauthorized('Missing Authorization: Bearer <token>');
  return request.actor;
});
