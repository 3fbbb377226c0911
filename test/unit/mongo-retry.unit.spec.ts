import { MongoNetworkError, MongoServerError } from 'mongodb';
import { retryWhenDropped } from '../../src/read-side/mongo/mongo-errors.js';

/** An operation that fails with the given errors, in order, then answers `done`; it counts its calls. */
function failing(...errors: Error[]): { calls: () => number; run: () => Promise<string> } {
  let calls = 0;
  return {
    calls: () => calls,
    run: () => {
      const error = errors[calls++];
      return error ? Promise.reject(error) : Promise.resolve('done');
    },
  };
}

describe('retryWhenDropped (schema work at start, e.g. FerretDB dropping a createIndexes connection)', () => {
  it('runs the operation again after a dropped connection, until it succeeds', async () => {
    const op = failing(
      new MongoNetworkError('connection 3 closed'),
      new MongoNetworkError('connection 4 closed'),
    );
    await expect(retryWhenDropped(op.run)).resolves.toBe('done');
    expect(op.calls()).toBe(3);
  });

  it('gives up after the last attempt, with the server’s error', async () => {
    const dropped = new MongoNetworkError('connection closed');
    const op = failing(dropped, dropped, dropped);
    await expect(retryWhenDropped(op.run, 3)).rejects.toBe(dropped);
    expect(op.calls()).toBe(3);
  });

  it('does not retry what the server refused', async () => {
    const refused = new MongoServerError({ message: 'bad index', code: 67 });
    const op = failing(refused);
    await expect(retryWhenDropped(op.run)).rejects.toBe(refused);
    expect(op.calls()).toBe(1);
  });
});
