/**
 * Application-level failures (not business rules). They carry no HTTP knowledge; the problem-details
 * filter maps each one to its status.
 */

/** The addressed resource does not exist, or the caller may not know that it exists. */
export class ResourceNotFoundError extends Error {
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource} ${id} was not found`);
    this.name = 'ResourceNotFoundError';
  }
}

/**
 * The resource exists, but not at the point asked for (time travel: a revision past its end, an instant
 * before its first event). `code` and `details` say which, e.g. REVISION_NOT_FOUND with `lastRevision`.
 */
export class PointNotFoundError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'PointNotFoundError';
  }
}

/** The client's If-Match revision is not the current one. */
export class PreconditionFailedError extends Error {
  constructor(
    readonly streamId: string,
    readonly currentRevision: bigint | null,
  ) {
    super(
      currentRevision === null
        ? `${streamId} does not exist`
        : `If-Match does not match the current revision ${currentRevision}`,
    );
    this.name = 'PreconditionFailedError';
  }
}

/** Concurrent appends kept winning even after re-running the command on fresh state. */
export class ConcurrencyConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly currentRevision: bigint | null,
  ) {
    super(`${streamId} kept changing concurrently; retry with the current revision`);
    this.name = 'ConcurrencyConflictError';
  }
}

/** The same Idempotency-Key was used before with a different request. */
export class IdempotencyKeyReusedError extends Error {
  constructor(readonly key: string) {
    super(`Idempotency-Key "${key}" was already used with a different request`);
    this.name = 'IdempotencyKeyReusedError';
  }
}

/** A query or command the caller phrased wrongly (a bad cursor, an empty range): a 400 naming the field. */
export class InvalidRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** The caller is known but may not ask this (e.g. a shopper filtering on another customer). */
export class AccessDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessDeniedError';
  }
}
