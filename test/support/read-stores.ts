import { join } from 'node:path';
import { EmbeddedReadStore } from '../../src/read-side/embedded/embedded-read-store.js';
import { MongoReadStore } from '../../src/read-side/mongo/mongo-read-store.js';
import type { ReadStore } from '../../src/read-side/read-store.port.js';

export type ReadStoreFactory = readonly [name: string, open: (dir: string) => Promise<ReadStore>];

/** Every read store adapter the tests can reach: embedded always, MongoDB when MONGODB_URI is set. */
export function readStoreFactories(): ReadStoreFactory[] {
  const factories: ReadStoreFactory[] = [
    ['embedded', async (dir) => new EmbeddedReadStore(join(dir, 'read.sqlite'))],
  ];
  const uri = process.env.MONGODB_URI;
  if (uri) factories.push(['mongo', async () => MongoReadStore.connect(uri)]);
  else process.stdout.write('MongoDB runs of this suite skipped: MONGODB_URI is not set\n');
  return factories;
}
