/**
 * Application-level failures (not business rules: those are DomainErrors). Each has a kind, a stable code
 * and the details a client needs; none carries HTTP knowledge — the problem-details mapper turns each kind
 * into one status.
 */
export type FailureKind =
  | 'invalid-request'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed'
  | 'unprocessable'
  /** More than a store accepts at once (EventStoreDB: an append over its maximum size). */
  | 'too-large'
  | 'unavailable'
  /** A read model staler than the caller accepts (max-stale): the answer is refused, nothing is broken. */
  | 'too-stale';

export class ApplicationError extends Error {
  constructor(
    readonly kind: FailureKind,
    /** Stable and documented (e.g. `CART_NOT_FOUND`); clients may branch on it. */
    readonly code: string,
    message: string,
    /** Extra members of the answer (e.g. `currentRevision`); JSON values only. */
    readonly details: Readonly<Record<string, unknown>> = {},
    /** What the client is told; the message itself may hold what only the logs should see. */
    readonly publicMessage: string = message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The addressed resource does not exist, or the caller may not know that it exists. */
export class ResourceNotFoundError extends ApplicationError {
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super('not-found', `${resource.toUpperCase()}_NOT_FOUND`, `${resource} ${id} was not found`);
  }
}

/**
 * The resource exists, but not at the point asked for (time travel: a revision past its end, an instant
 * before its first event). `code` and `details` say which, e.g. REVISION_NOT_FOUND with `lastRevision`.
 */
export class PointNotFoundError extends ApplicationError {
  constructor(code: string, message: string, details: Readonly<Record<string, unknown>> = {}) {
    super('not-found', code, message, details);
  }
}

function revisionNumber(revision: bigint | null): number | null {
  return revision === null ? null : Number(revision);
}

/** The client's If-Match revision is not the current one. */
export class PreconditionFailedError extends ApplicationError {
  constructor(
    readonly streamId: string,
    readonly currentRevision: bigint | null,
  ) {
    super(
      'precondition-failed',
      'REVISION_MISMATCH',
      currentRevision === null
        ? `${streamId} does not exist`
        : `If-Match does not match the current revision ${currentRevision}`,
      { currentRevision: revisionNumber(currentRevision) },
    );
  }
}

/** Concurrent appends kept winning even after re-running the command on fresh state. */
export class ConcurrencyConflictError extends ApplicationError {
  constructor(
    readonly streamId: string,
    readonly currentRevision: bigint | null,
  ) {
    super(
      'conflict',
      'CONCURRENT_MODIFICATION',
      `${streamId} kept changing concurrently; retry with the current revision`,
      { currentRevision: revisionNumber(currentRevision) },
    );
  }
}

/** The same Idempotency-Key was used before with a different request. */
export class IdempotencyKeyReusedError extends ApplicationError {
  constructor(readonly key: string) {
    super(
      'unprocessable',
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key "${key}" was already used with a different request`,
    );
  }
}

/** A query or command the caller phrased wrongly (a bad cursor, an empty range): a 400 naming the field. */
export class InvalidRequestError extends ApplicationError {
  constructor(
    code: string,
    message: string,
    readonly field: string,
  ) {
    super('invalid-request', code, message, { errors: [{ field, message }] });
  }
}

/** The caller is known but may not ask this (e.g. a shopper filtering on another customer). */
export class AccessDeniedError extends ApplicationError {
  constructor(message: string) {
    super('forbidden', 'FORBIDDEN', message);
  }
}
