/**
 * `ordertrail-ops`: the operator CLI over the admin HTTP API of a running service (see README, "Operator
 * CLI"). Tables for people, `--json` for scripts (one JSON document on stdout), and exit codes:
 * 0 ok · 1 the service reported a failure (its problem+json detail is printed) · 2 usage error ·
 * 3 the service cannot be reached · 4 `verify` found drift it did not repair · 130 Ctrl-C while watching.
 *
 * Only type imports from the service: the CLI loads none of it (it starts fast and needs no configuration),
 * yet the compiler checks every field it reads against the API's own views.
 *
 * This module reads the command line, checks it against the command's declaration and turns what fails
 * into an exit code; each command lives in commands/, what they share in command.ts.
 */
import { parseArgs } from 'node:util';
import { OpsClient, ServiceError, UnreachableError, type Problem } from './client.js';
import {
  BIN,
  EXIT,
  invocation,
  OPTIONS,
  SERVICE_OPTIONS,
  UsageError,
  writeJson,
  type CliIo,
  type Command,
  type CommandContext,
  type OptionValues,
} from './command.js';
import { cancelCommand } from './commands/cancel.js';
import { jobCommand } from './commands/job.js';
import { jobsCommand } from './commands/jobs.js';
import { parkedCommand } from './commands/parked.js';
import { payCommand } from './commands/pay.js';
import { pauseCommand, resumeCommand } from './commands/pause-resume.js';
import { projectionsCommand } from './commands/projections.js';
import { rebuildCommand, verifyCommand } from './commands/rebuild-verify.js';
import { replayParkedCommand } from './commands/replay-parked.js';
import { tokenCommand } from './commands/sign-token.js';
import { painter } from './format.js';

export { BIN, EXIT, type CliIo };

export const DEFAULT_URL = 'http://localhost:3000';

/** By name, in the order the help text lists them. */
const COMMANDS: Readonly<Record<string, Command>> = {
  projections: projectionsCommand,
  pause: pauseCommand,
  resume: resumeCommand,
  rebuild: rebuildCommand,
  verify: verifyCommand,
  jobs: jobsCommand,
  job: jobCommand,
  cancel: cancelCommand,
  parked: parkedCommand,
  'replay-parked': replayParkedCommand,
  pay: payCommand,
  token: tokenCommand,
};

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    `usage: ${BIN} <command> [options]      (or: npm run -s ops -- <command> [options])`,
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    `  ${'help'.padEnd(width)}  this text, or \`help <command>\``,
    '',
    'options:',
    `  --url <url>      the service (default: $ORDERTRAIL_URL, else ${DEFAULT_URL})`,
    '  --token <jwt>    an operator bearer token (default: $ORDERTRAIL_TOKEN)',
    "  --json           one JSON document on stdout (the service's answer), for scripts",
    '  --interval <ms>  how often a watched job is polled (rebuild, verify, job --watch; default 500)',
    '',
    'exit codes: 0 ok, 1 the service reported a failure, 2 usage error, 3 the service cannot be reached,',
    '            4 verify found drift it did not repair, 130 Ctrl-C while watching a job (the job goes on)',
    '',
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  return `usage: ${BIN} ${command.usage}${command.offline ? '' : ' [--url url] [--token jwt] [--json]'}\n  ${command.summary}\n`;
}

/** Runs one command line; resolves to the exit code. Never throws (but for bugs). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let values: OptionValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    return usage(io, error instanceof Error ? error.message : String(error));
  }
  const [name, ...args] = positionals;
  if (name === undefined) {
    if (values.help) {
      io.stdout.write(helpText());
      return EXIT.ok;
    }
    io.stderr.write(helpText());
    return EXIT.usage;
  }
  if (name === 'help') {
    const about = args[0] !== undefined && Object.hasOwn(COMMANDS, args[0]) ? COMMANDS[args[0]] : undefined;
    io.stdout.write(about ? commandHelp(args[0]!, about) : helpText());
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) return usage(io, `unknown command "${name}"`);
  if (values.help) {
    io.stdout.write(commandHelp(name, command));
    return EXIT.ok;
  }
  const json = values.json === true;
  try {
    const allowed = new Set<string>(
      command.offline ? command.options : [...SERVICE_OPTIONS, ...command.options],
    );
    const misplaced = Object.keys(values).filter((option) => !allowed.has(option));
    if (misplaced.length > 0) {
      throw new UsageError(`${misplaced.map((o) => `--${o}`).join(', ')} does not apply to "${name}"`);
    }
    const required = command.args.filter((arg) => !arg.endsWith('?')).length;
    if (args.length < required) throw new UsageError(`missing <${command.args[args.length]}>`);
    if (args.length > command.args.length)
      throw new UsageError(`unexpected argument "${args[command.args.length]}"`);
    const context: CommandContext = { args, values, io, json, paint: painter(io.stdout, io.env) };
    if (command.offline) return await command.run(context);
    const client = new OpsClient(serviceUrl(values, io.env), token(values, io.env));
    return await command.run({ ...context, client });
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error.message, name, command);
    if (error instanceof ServiceError) return serviceFailure(io, json, error, values);
    if (error instanceof UnreachableError) {
      io.stderr.write(`error: ${error.message}\n`);
      if (json) writeJson(io, { error: { code: 'UNREACHABLE', detail: error.message } });
      return EXIT.unreachable;
    }
    throw error;
  }
}

function usage(io: CliIo, message: string, name?: string, command?: Command): number {
  io.stderr.write(`error: ${message}\n`);
  io.stderr.write(
    name && command
      ? commandHelp(name, command)
      : `Run "${invocation()} help" to see every command and option.\n`,
  );
  return EXIT.usage;
}

function serviceFailure(io: CliIo, json: boolean, error: ServiceError, values: OptionValues): number {
  const problem: Problem = error.problem ?? { status: error.status, detail: error.message };
  const code = problem.code ? ` ${problem.code}` : '';
  io.stderr.write(
    `error: ${problem.detail ?? problem.title ?? error.message} (HTTP ${error.status}${code})\n`,
  );
  for (const field of problem.errors ?? []) io.stderr.write(`  ${field.field}: ${field.message}\n`);
  if (error.status === 401 && !token(values, io.env)) {
    io.stderr.write(
      `hint: set ORDERTRAIL_TOKEN or pass --token (a token: ${invocation()} token --role operator --sub <you>)\n`,
    );
  } else if (error.status === 403) {
    io.stderr.write('hint: the admin API needs a token with the operator role\n');
  } else if (problem.code === 'JOB_RUNNING' && typeof problem.jobId === 'string') {
    io.stderr.write(`hint: watch it with "${invocation()} job ${problem.jobId} --watch"\n`);
  }
  if (json) writeJson(io, { error: problem });
  return EXIT.failure;
}

function serviceUrl(values: OptionValues, env: NodeJS.ProcessEnv): URL {
  const raw = values.url ?? (env.ORDERTRAIL_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`"${raw}" is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`"${raw}" is not an http(s) URL`);
  }
  return url;
}

function token(values: OptionValues, env: NodeJS.ProcessEnv): string | undefined {
  const raw = values.token ?? env.ORDERTRAIL_TOKEN;
  return raw?.trim() || undefined;
}
