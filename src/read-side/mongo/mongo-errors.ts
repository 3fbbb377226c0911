import { MongoServerError } from 'mongodb';

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
