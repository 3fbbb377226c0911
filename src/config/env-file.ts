/**
 * The `.env` file. The npm scripts (`start`, `start:dev`, `token`, `ops`, `pay`) run Node with
 * `--env-file=.env` when the project directory has one (`$([ -f .env ] && echo --env-file=.env)`: Node's
 * `--env-file-if-exists` would print a line of plain text on stderr when there is none). Node reads the file
 * before any code runs, and a variable already in the environment wins over the file's. `node dist/main.js`
 * (Docker, systemd, the tests) reads only the environment. This module only tells which file was read, and
 * where a value came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/** The env file Node was started with (`--env-file=…`, `--env-file-if-exists=…`), when it exists; else null. */
export function envFileInUse(
  execArgv: readonly string[] = process.execArgv,
  cwd: string = process.cwd(),
): string | null {
  for (let i = 0; i < execArgv.length; i++) {
    const match = /^--env-file(?:-if-exists)?(?:=(.*))?$/.exec(execArgv[i]!);
    if (!match) continue;
    const file = match[1] ?? execArgv[i + 1];
    if (file && existsSync(resolve(cwd, file))) return resolve(cwd, file);
  }
  return null;
}

/**
 * Where `name`'s value came from: the env file Node read (its value there is the one in effect: the
 * environment did not override it), or the environment; null when it is unset or empty.
 */
export function sourceOf(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
  cwd: string = process.cwd(),
): { readonly kind: 'file'; readonly file: string } | { readonly kind: 'environment' } | null {
  const value = env[name];
  if (value === undefined || value === '') return null;
  const file = envFileInUse(execArgv, cwd);
  if (file) {
    try {
      if (parseEnv(readFileSync(file, 'utf8'))[name] === value) return { kind: 'file', file };
    } catch {
      // Unreadable now: say environment, the only other place it can have come from.
    }
  }
  return { kind: 'environment' };
}
