/**
 * What the dispatcher (cli.ts) and the commands (commands/*.ts) share: the options a command line may
 * carry, what a command declares and is given, the exit codes, and the small helpers every command uses.
 */
import { basename } from 'node:path';
import type { parseArgs } from 'node:util';
import type { OpsClient } from './client.js';
import { count, type Output, type painter } from './format.js';

/** The exit codes, as cli.ts's header and the help text explain them. */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3, drift: 4, interrupted: 130 } as const;

export const BIN = 'ordertrail-ops';

/**
 * How a hint writes a command: as this process was started — `ordertrail-ops` when run as that executable
 * (on the PATH after `npm link` or a global install, or through `npx`), else `npm run -s ops --`, which works
 * from the project directory (after `npm ci`, `ordertrail-ops` is not on the PATH).
 */
export function invocation(script: string | undefined = process.argv[1]): string {
  return script !== undefined && basename(script) === BIN ? BIN : 'npm run -s ops --';
}

/** Everything the CLI touches, so that tests can run it in-process. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Subscribes to Ctrl-C (SIGINT) while a job is watched; returns the unsubscribe. */
  readonly onInterrupt?: (listener: () => void) => () => void;
}

/** A wrong command line: exit 2, with the command's usage. */
export class UsageError extends Error {}

/** Every option of every command; each command names those it accepts (Command.options). */
export const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  limit: { type: 'string' },
  repair: { type: 'boolean' },
  detach: { type: 'boolean' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  projection: { type: 'string' },
  kind: { type: 'string' },
  state: { type: 'string' },
  role: { type: 'string', multiple: true },
  sub: { type: 'string' },
  ttl: { type: 'string' },
  amount: { type: 'string' },
  currency: { type: 'string' },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type OptionValues = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

/** Options every command that talks to the service accepts. */
export const SERVICE_OPTIONS: readonly OptionName[] = ['url', 'token', 'json', 'help'];

export interface CommandContext {
  /** The positional arguments after the command's name, checked against Command.args. */
  readonly args: readonly string[];
  readonly values: OptionValues;
  readonly io: CliIo;
  readonly json: boolean;
  readonly paint: ReturnType<typeof painter>;
}

export interface ServiceContext extends CommandContext {
  readonly client: OpsClient;
}

interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  /** Positional arguments by name; a trailing `?` makes one optional. */
  readonly args: readonly string[];
  /** Options beyond SERVICE_OPTIONS (or, for an offline command, instead of them). */
  readonly options: readonly OptionName[];
}

/** A command that talks to the service. */
export interface ServiceCommand extends CommandSpec {
  readonly offline?: false;
  run(context: ServiceContext): Promise<number>;
}

/** A command that does not talk to the service (`token`). */
export interface OfflineCommand extends CommandSpec {
  readonly offline: true;
  run(context: CommandContext): Promise<number>;
}

export type Command = ServiceCommand | OfflineCommand;

export const adminPath = {
  projections: '/admin/projections',
  projection: (name: string) => `/admin/projections/${encodeURIComponent(name)}`,
  jobs: '/admin/jobs',
  job: (id: string) => `/admin/jobs/${encodeURIComponent(id)}`,
};

export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function positiveInteger(raw: string | undefined, option: string, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`--${option} must be a whole number from 1 to ${count(max)}`);
  }
  return Number(raw);
}
