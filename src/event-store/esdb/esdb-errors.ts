import esdb from '@eventstore/db-client';
import { ApplicationError } from '../../shared/application/errors.js';
import {
  EventStoreUnavailableError,
  InvalidPositionError,
  WrongExpectedRevisionError,
  type ExpectedRevision,
} from '../event-store.port.js';

// The client is CommonJS: take its named exports from the default import.
const { ErrorType, isCommandError, convertToCommandError } = esdb;

type ClientErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** An append larger than the server takes at once (`MaxAppendSize`, 1 MiB by default): 413 over HTTP. */
export class AppendTooLargeError extends ApplicationError {
  constructor(streamId: string, options?: { cause?: unknown }) {
    super(
      'too-large',
      'APPEND_TOO_LARGE',
      `stream ${streamId}: EventStoreDB refused the append as larger than its maximum append size`,
      {},
      'The change is larger than the event store accepts at once',
      options,
    );
  }
}

/** The stream was deleted (tombstoned) on the server: it can never be written again. 409 over HTTP. */
export class DeletedStreamError extends ApplicationError {
  constructor(streamId: string, options?: { cause?: unknown }) {
    super(
      'conflict',
      'STREAM_DELETED',
      `stream ${streamId} is deleted in EventStoreDB`,
      {},
      undefined,
      options,
    );
  }
}

/** What the client call was about, for the error the port reports. */
export interface ErrorContext {
  /** The stream (or `$all`, a group) the call was about. */
  readonly streamId: string;
  /** The append's expectation: a wrong expected version is a conflict only for an append. */
  readonly expected?: ExpectedRevision;
  /** The position a read of `$all` started from: an invalid one is the caller's mistake. */
  readonly position?: bigint;
}

/**
 * Messages the server sends without a typed error. "Server Is Not Ready" / "Server Is Too Busy" come as
 * UNAVAILABLE on reads but, inside a batch append, as a bare status the client reports as an UnknownError
 * ("Could not recognize Server Is Not Ready"); "Server Is Busy" is the batch-append spelling.
 */
const SERVER_NOT_SERVING = /Server Is (Not Ready|Too Busy|Busy)|No leader info available/i;
/** A read of `$all` from a position that is not a record boundary (status INVALID_ARGUMENT, no type). */
const INVALID_POSITION = /invalid position/i;

/**
 * Client errors as the port's errors, shared by the store and its consumer groups:
 * - a wrong expected version (when an append expected one) → WrongExpectedRevisionError;
 * - a server out of reach, not ready, too busy, without a leader, a deadline or timeout →
 *   EventStoreUnavailableError (503); so is access denied, with a message that says which rights are missing
 *   (the service's configuration, not the caller, must change);
 * - a read from a position that is not a record boundary → InvalidPositionError (400);
 * - an append over the server's maximum size → AppendTooLargeError (413); a deleted stream →
 *   DeletedStreamError (409);
 * - anything else passes through as an Error (500).
 */
export function toPortError(raw: unknown, context: ErrorContext | string): Error {
  const { streamId, expected, position } = typeof context === 'string' ? { streamId: context } : context;
  // Already the port's (a deadline of our own, a refused position).
  if (raw instanceof ApplicationError || raw instanceof WrongExpectedRevisionError) return raw;
  // Some client paths (e.g. the server-features probe before an append) reject with the raw gRPC error.
  const error = raw instanceof Error ? convertToCommandError(raw) : raw;
  if (!(error instanceof Error)) return new Error(String(error));
  if (!isCommandError(error)) return error;
  switch (error.type) {
    case ErrorType.WRONG_EXPECTED_VERSION: {
      if (expected === undefined) return error;
      const actual = (error as unknown as { actualVersion: bigint | string }).actualVersion;
      return new WrongExpectedRevisionError(
        streamId,
        expected,
        typeof actual === 'bigint' ? actual : 'no_stream',
      );
    }
    case ErrorType.TIMEOUT:
    case ErrorType.UNAVAILABLE:
    case ErrorType.CANCELLED:
    case ErrorType.DEADLINE_EXCEEDED:
    case ErrorType.NOT_LEADER:
      return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${error.message}`, {
        cause: error,
      });
    case ErrorType.ACCESS_DENIED:
      return new EventStoreUnavailableError(
        `EventStoreDB denied access to ${streamId}: the user of EVENTSTORE_CONNECTION_STRING needs read and ` +
          'write rights on the streams, and admin rights for $all, $bc-* and the consumer groups (see docs/eventstoredb.md)',
        { cause: error },
      );
    case ErrorType.MAXIMUM_APPEND_SIZE_EXCEEDED:
      return new AppendTooLargeError(streamId, { cause: error });
    case ErrorType.STREAM_DELETED:
      return new DeletedStreamError(streamId, { cause: error });
    case ErrorType.UNKNOWN:
      if (SERVER_NOT_SERVING.test(error.message)) {
        return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${error.message}`, {
          cause: error,
        });
      }
      if (position !== undefined && INVALID_POSITION.test(error.message)) {
        return new InvalidPositionError(position, 'EventStoreDB has no record boundary there');
      }
      return error;
    default:
      return error;
  }
}

/** A client error of one of these types (e.g. a stream not found, which some reads answer as empty). */
export function isCommandErrorOf(error: unknown, ...types: readonly ClientErrorType[]): boolean {
  if (!isCommandError(error as Error)) return false;
  const type = (error as { type?: string }).type;
  return types.some((candidate) => candidate === type);
}
