import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThreadedReadStore } from '../../src/read-side/embedded/threaded-read-store.js';
import { describeReadStoreContract } from './read-store.contract.js';

// The embedded read store as the service runs it: on a thread of its own (the build's worker module).
describeReadStoreContract('embedded SQLite on its own thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ordertrail-threaded-read-contract-'));
  const file = join(dir, 'read.sqlite');
  const store = await ThreadedReadStore.open(file, { countStatements: true });
  return {
    store,
    another: () => ThreadedReadStore.open(file),
    queriesRun: () => store.statementsRun(),
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
