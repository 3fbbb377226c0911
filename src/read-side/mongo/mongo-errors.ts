import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReadStoreUnavailableError } from '../read-store.port.js';

/** The server cannot be reached (refused, timed out, gone): nothing the request did wrong. */
export function isUnreachable(error: unknown): boolean {
  return (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError
  );
}

/** Runs a read store operation; an unreachable server becomes ReadStoreUnavailableError (a 503). */
export async function unlessUnreachable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isUnreachable(error)) {
      throw new ReadStoreUnavailableError(
        `MongoDB is unreachable: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** E11000: a unique index (`_id` included) already holds the key. */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** Two concurrent upserts of one `_id` can both miss and one then fails with E11000: the retry updates. */
export async function retryOnDuplicateKey<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isDuplicateKey(error)) return operation();
    throw error;
  }
}

/**
 * Runs an idempotent operation again when the server dropped the connection under it (up to `attempts` times,
 * waiting 100, 200, 400… ms): for schema work at start, where one dropped connection should not fail a start.
 * A server that stays unreachable still fails it after the last attempt.
 */
export async function retryWhenDropped<T>(operation: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || !(error instanceof MongoNetworkError)) throw error;
      await sleep(100 * 2 ** (attempt - 1));
    }
  }
}
