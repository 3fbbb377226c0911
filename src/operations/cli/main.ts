#!/usr/bin/env node
/**
 * The `ordertrail-ops` executable (package.json `bin`, and `npm run -s ops -- <command>`): runs one command
 * line against a running service and exits with its code. See cli.ts.
 */
import { runCli } from './cli.js';

const onInterrupt = (listener: () => void): (() => void) => {
  process.on('SIGINT', listener);
  return () => process.off('SIGINT', listener);
};

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onInterrupt,
  });
} catch (error) {
  process.stderr.write(
    `ordertrail-ops: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
