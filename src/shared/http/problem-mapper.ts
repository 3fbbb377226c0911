import { HttpException } from '@nestjs/common';
import { DomainError, type DomainErrorKind } from '../domain/index.js';
import { ApplicationError, type FailureKind } from '../application/errors.js';
import { HttpProblem } from './http-errors.js';
import { JSON_BODY_PROBLEMS } from './json-body.js';
import { problem, type ProblemDetails } from './problem.js';

const DOMAIN_STATUS: Readonly<Record<DomainErrorKind, number>> = {
  conflict: 409,
  invalid: 422,
  'not-found': 404,
};

const FAILURE_STATUS: Readonly<Record<FailureKind, number>> = {
  'invalid-request': 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 412,
  unprocessable: 422,
  'too-large': 413,
  unavailable: 503,
  'too-stale': 503,
};

/** What Fastify puts on the errors it raises itself (body parsing, limits, routing). */
interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function fastifyProblem(error: FastifyLikeError): ProblemDetails | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'BODY_TOO_LARGE', 'The request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return JSON_BODY_PROBLEMS.empty();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return problem(400, 'BAD_CONTENT_LENGTH', 'Content-Length does not match the body');
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return JSON_BODY_PROBLEMS.malformed();
  }
  const status = error.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500 && typeof error.code === 'string') {
    return problem(status, 'BAD_REQUEST', 'The request could not be processed');
  }
  return null;
}

/**
 * Maps any error to RFC 9457 problem details. Unknown errors become a bare 500 (never a stack trace);
 * `unexpected` tells the caller to log them.
 */
export function toProblem(error: unknown): { body: ProblemDetails; unexpected: boolean } {
  if (error instanceof HttpProblem) return { body: error.body, unexpected: false };
  if (error instanceof DomainError) {
    return {
      body: problem(DOMAIN_STATUS[error.kind], error.code, error.message, { ...error.details }),
      unexpected: false,
    };
  }
  if (error instanceof ApplicationError) {
    const status = FAILURE_STATUS[error.kind];
    return {
      body: problem(status, error.code, error.publicMessage, { ...error.details }),
      // A store that is down is worth a line in the log; the client's own mistakes are not, nor a read model
      // that trails by more than a client accepts (the metrics say how fresh read models are).
      unexpected: status >= 500 && error.kind !== 'too-stale',
    };
  }
  if (error instanceof HttpException) {
    // Fastify's own errors (body parsing, limits) arrive wrapped by Nest, with the original as the cause.
    if (typeof error.cause === 'object' && error.cause !== null) {
      const mapped = fastifyProblem(error.cause);
      if (mapped) return { body: mapped, unexpected: false };
    }
    const status = error.getStatus();
    if (status === 404) return { body: problem(404, 'ROUTE_NOT_FOUND', 'No such route'), unexpected: false };
    if (status === 429) {
      return { body: problem(429, 'TOO_MANY_REQUESTS', 'Too many requests; slow down'), unexpected: false };
    }
    if (status < 500) {
      return { body: problem(status, 'BAD_REQUEST', error.message), unexpected: false };
    }
  }
  if (typeof error === 'object' && error !== null) {
    const mapped = fastifyProblem(error);
    if (mapped) return { body: mapped, unexpected: false };
  }
  return { body: problem(500, 'INTERNAL_ERROR', 'An unexpected error occurred'), unexpected: true };
}
