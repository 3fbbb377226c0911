import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

describe('Node, honestly', () => {
  it('every package of the lockfile admits every Node that engines admits, and the README names the lowest', async () => {
    // Fails (exit 1, listing the packages) when a dependency wants a newer Node than the README promises:
    // then `npm ci` on that Node would print EBADENGINE warnings that contradict the README.
    const { stdout } = await run(process.execPath, [resolve(ROOT, 'scripts/check-engines.mjs')]);
    expect(stdout).toMatch(/^engines\.node .+: admitted by all \d+ packages of the lockfile\n$/);
  });
});
