import esdb from '@eventstore/db-client';
import {
  EventStoreUnavailableError,
  WrongExpectedRevisionError,
  type ExpectedRevision,
} from '../event-store.port.js';

// The client is CommonJS: take its named exports from the default import.
const { ErrorType, isCommandError, convertToCommandError } = esdb;

type ClientErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * Client errors as the port's errors, shared by the store and its consumer groups: a wrong expected version
 * (when an append expected one) becomes WrongExpectedRevisionError, a server out of reach
 * EventStoreUnavailableError; anything else passes through as an Error.
 */
export function toPortError(raw: unknown, streamId: string, expected?: ExpectedRevision): Error {
  // Some client paths (e.g. the server-features probe before an append) reject with the raw gRPC error.
  const error = raw instanceof Error ? convertToCommandError(raw) : raw;
  if (error instanceof Error && isCommandError(error)) {
    if (error.type === ErrorType.WRONG_EXPECTED_VERSION && expected !== undefined) {
      const actual = (error as unknown as { actualVersion: bigint | string }).actualVersion;
      return new WrongExpectedRevisionError(
        streamId,
        expected,
        typeof actual === 'bigint' ? actual : 'no_stream',
      );
    }
    if (
      error.type === ErrorType.TIMEOUT ||
      error.type === ErrorType.UNAVAILABLE ||
      error.type === ErrorType.CANCELLED ||
      error.type === ErrorType.DEADLINE_EXCEEDED ||
      error.type === ErrorType.NOT_LEADER
    ) {
      return new EventStoreUnavailableError(`EventStoreDB is unavailable: ${error.message}`, {
        cause: error,
      });
    }
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** A client error of one of these types (e.g. a stream not found, which some reads answer as empty). */
export function isCommandErrorOf(error: unknown, ...types: readonly ClientErrorType[]): boolean {
  if (!isCommandError(error as Error)) return false;
  const type = (error as { type?: string }).type;
  return types.some((candidate) => candidate === type);
}
