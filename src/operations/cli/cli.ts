/**
 * `ordertrail-ops`: the operator CLI over the admin HTTP API of a running service (see README, "Operator
 * CLI"). Tables for people, `--json` for scripts (one JSON document on stdout), and exit codes:
 * 0 ok · 1 the service reported a failure (its problem+json detail is printed) · 2 usage error ·
 * 3 the service cannot be reached · 4 `verify` found drift it did not repair · 130 Ctrl-C while watching.
 *
 * Only type imports from the service: the CLI loads none of it (it starts fast and needs no configuration),
 * yet the compiler checks every field it reads against the API's own views.
 */
import { parseArgs } from 'node:util';
import type { JobView, ParkedEventView } from '../application/admin-views.js';
import type { ProjectionStatus } from '../application/projection-status.service.js';
import { OpsClient, ServiceError, UnreachableError, type Problem } from './client.js';
import { DEV_JWT_SECRET, isRole, ROLES, signDevToken, type Role } from './dev-token.js';
import {
  ago,
  count,
  details,
  duration,
  eta,
  painter,
  percent,
  ProgressRenderer,
  statusColour,
  table,
  type Output,
} from './format.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3, drift: 4, interrupted: 130 } as const;

export const DEFAULT_URL = 'http://localhost:3000';
export const BIN = 'ordertrail-ops';

/** Everything the CLI touches, so that tests can run it in-process. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Subscribes to Ctrl-C (SIGINT) while a job is watched; returns the unsubscribe. */
  readonly onInterrupt?: (listener: () => void) => () => void;
}

class UsageError extends Error {}

const OPTIONS = {
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
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Options every command that talks to the service accepts. */
const SERVICE_OPTIONS: readonly OptionName[] = ['url', 'token', 'json', 'help'];

interface Context {
  readonly args: readonly string[];
  readonly values: Values;
  readonly io: CliIo;
  readonly json: boolean;
  /** Null for the commands that do not talk to the service (`token`). */
  readonly client: OpsClient | null;
  readonly paint: ReturnType<typeof painter>;
}

interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly args: readonly string[];
  /** Options beyond SERVICE_OPTIONS (or, for `token`, instead of them). */
  readonly options: readonly OptionName[];
  readonly offline?: boolean;
  run(context: Context & { client: OpsClient }): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  projections: {
    usage: 'projections [name]',
    summary:
      'every projection: status, generation, position, lag, events/s, parked, heartbeat (or one, in detail)',
    args: ['name?'],
    options: [],
    run: projectionsCommand,
  },
  pause: {
    usage: 'pause <name>',
    summary: 'stop applying events (persisted; every instance follows)',
    args: ['name'],
    options: [],
    run: (context) => pauseOrResume(context, 'pause'),
  },
  resume: {
    usage: 'resume <name>',
    summary: 'apply again and catch up from the checkpoint',
    args: ['name'],
    options: [],
    run: (context) => pauseOrResume(context, 'resume'),
  },
  rebuild: {
    usage: 'rebuild <name> [--detach] [--interval ms]',
    summary: 'rebuild into a new generation while the old one serves, with a live progress bar until it ends',
    args: ['name'],
    options: ['detach', 'interval'],
    run: (context) => launchJob(context, 'rebuild'),
  },
  verify: {
    usage: 'verify <name> [--repair] [--detach] [--interval ms]',
    summary: 'rebuild a shadow generation, diff it with the live one and print every drifted document',
    args: ['name'],
    options: ['repair', 'detach', 'interval'],
    run: (context) => launchJob(context, 'verify'),
  },
  jobs: {
    usage:
      'jobs [--projection name] [--kind rebuild|verify] [--state running|succeeded|failed|cancelled] [--limit n]',
    summary: 'recent rebuild and verify jobs, newest first',
    args: [],
    options: ['projection', 'kind', 'state', 'limit'],
    run: jobsCommand,
  },
  job: {
    usage: 'job <id> [--watch] [--interval ms]',
    summary: 'one job: state, progress, result (--watch: a progress bar until it ends)',
    args: ['id'],
    options: ['watch', 'interval'],
    run: jobCommand,
  },
  cancel: {
    usage: 'cancel <id>',
    summary: 'cancel a running job (the live generation keeps serving)',
    args: ['id'],
    options: [],
    run: cancelCommand,
  },
  parked: {
    usage: 'parked <name> [--limit n]',
    summary: 'parked events, oldest first, with their reason and retry count',
    args: ['name'],
    options: ['limit'],
    run: parkedCommand,
  },
  'replay-parked': {
    usage: 'replay-parked <name> [--limit n]',
    summary: 'deliver parked events again (all, or the oldest n)',
    args: ['name'],
    options: ['limit'],
    run: replayParkedCommand,
  },
  token: {
    usage: `token --role <${ROLES.join('|')}> [--role …] --sub <subject> [--ttl seconds]`,
    summary: 'print a dev token signed with AUTH_JWT_SECRET (or the public development secret)',
    args: [],
    options: ['role', 'sub', 'ttl', 'json', 'help'],
    offline: true,
    run: tokenCommand,
  },
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
  let values: Values;
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
    const client = command.offline ? null : new OpsClient(serviceUrl(values, io.env), token(values, io.env));
    const context = { args, values, io, json, client, paint: painter(io.stdout, io.env) };
    return await command.run(context as Context & { client: OpsClient });
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
    name && command ? commandHelp(name, command) : `Run "${BIN} help" to see every command and option.\n`,
  );
  return EXIT.usage;
}

function serviceFailure(io: CliIo, json: boolean, error: ServiceError, values: Values): number {
  const problem: Problem = error.problem ?? { status: error.status, detail: error.message };
  const code = problem.code ? ` ${problem.code}` : '';
  io.stderr.write(
    `error: ${problem.detail ?? problem.title ?? error.message} (HTTP ${error.status}${code})\n`,
  );
  for (const field of problem.errors ?? []) io.stderr.write(`  ${field.field}: ${field.message}\n`);
  if (error.status === 401 && !token(values, io.env)) {
    io.stderr.write(
      `hint: set ORDERTRAIL_TOKEN or pass --token (a dev token: ${BIN} token --role operator --sub <you>)\n`,
    );
  } else if (error.status === 403) {
    io.stderr.write('hint: the admin API needs a token with the operator role\n');
  } else if (problem.code === 'JOB_RUNNING' && typeof problem.jobId === 'string') {
    io.stderr.write(`hint: watch it with "${BIN} job ${problem.jobId} --watch"\n`);
  }
  if (json) writeJson(io, { error: problem });
  return EXIT.failure;
}

function serviceUrl(values: Values, env: NodeJS.ProcessEnv): URL {
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

function token(values: Values, env: NodeJS.ProcessEnv): string | undefined {
  const raw = values.token ?? env.ORDERTRAIL_TOKEN;
  return raw?.trim() || undefined;
}

function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function positiveInteger(raw: string | undefined, option: string, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`--${option} must be a whole number from 1 to ${count(max)}`);
  }
  return Number(raw);
}

const path = {
  projections: '/admin/projections',
  projection: (name: string) => `/admin/projections/${encodeURIComponent(name)}`,
  job: (id: string) => `/admin/jobs/${encodeURIComponent(id)}`,
};

// ---------------------------------------------------------------------------------------------------------
// projections, pause, resume

async function projectionsCommand({
  client,
  args,
  io,
  json,
  paint,
}: Context & { client: OpsClient }): Promise<number> {
  const [name] = args;
  if (name !== undefined) {
    const { body } = await client.get<ProjectionStatus>(path.projection(name));
    if (json) writeJson(io, body);
    else io.stdout.write(projectionDetails(body, paint));
    return EXIT.ok;
  }
  const { body } = await client.get<{ items: ProjectionStatus[] }>(path.projections);
  if (json) {
    writeJson(io, body);
    return EXIT.ok;
  }
  const now = Date.now();
  io.stdout.write(
    table(body.items, [
      { header: 'NAME', value: (p) => p.name },
      { header: 'STATUS', value: (p) => paint(statusText(p), statusColour(p.status)) },
      {
        header: 'GEN',
        value: (p) => (p.liveGeneration === null ? '-' : String(p.liveGeneration)),
        align: 'right',
      },
      { header: 'POSITION', value: (p) => (p.position === null ? '-' : count(p.position)), align: 'right' },
      { header: 'LAG', value: lagEvents, align: 'right' },
      { header: 'LAG TIME', value: (p) => (p.lagMs === 0 ? '0' : duration(p.lagMs)), align: 'right' },
      { header: 'EV/S', value: (p) => count(p.eventsPerSecond), align: 'right' },
      {
        header: 'PARKED',
        value: (p) => (p.parked > 0 ? paint(count(p.parked), 'red') : '0'),
        align: 'right',
      },
      { header: 'HEARTBEAT', value: (p) => ago(p.lastHeartbeat, now) },
    ]),
  );
  for (const p of body.items.filter((item) => !item.healthy)) {
    io.stdout.write(paint(`! ${p.name} is ${p.status}${p.lastError ? `: ${p.lastError}` : ''}\n`, 'red'));
  }
  return EXIT.ok;
}

function statusText(p: ProjectionStatus): string {
  if (!p.job) return p.status;
  const { kind, eventsDone, eventsTotal } = p.job;
  const share = eventsTotal > 0 ? ` ${percent(eventsDone / eventsTotal)}` : '';
  return p.status === 'rebuilding' ? `${p.status}${share}` : `${p.status} (${kind}${share})`;
}

function lagEvents(p: ProjectionStatus): string {
  return `${count(p.lagEvents)}${p.lagEventsCapped ? '+' : ''}`;
}

function projectionDetails(p: ProjectionStatus, paint: Context['paint']): string {
  const now = Date.now();
  return details([
    ['name', `${p.name} (${p.kind}, group ${p.group})`],
    ['status', `${paint(statusText(p), statusColour(p.status))}${p.healthy ? '' : ' — unhealthy'}`],
    ['generation', p.liveGeneration === null ? '-' : `${p.liveGeneration} (${p.collections.join(', ')})`],
    ['position', `${p.position === null ? '-' : count(p.position)} of ${count(p.headPosition)}`],
    ['lag', `${lagEvents(p)} events, ${duration(p.lagMs)}`],
    ['rate', `${count(p.eventsPerSecond)} events/s (${count(p.eventsApplied)} applied by this instance)`],
    ['parked', count(p.parked)],
    ['heartbeat', ago(p.lastHeartbeat, now)],
    ['last batch', ago(p.lastBatchAt, now)],
    ['last error', p.lastError ?? '-'],
    [
      'job',
      p.job ? `${p.job.kind} ${p.job.id} (${p.job.phase}, ${p.job.eventsDone}/${p.job.eventsTotal})` : '-',
    ],
  ]);
}

async function pauseOrResume(
  { client, args, io, json, paint }: Context & { client: OpsClient },
  action: 'pause' | 'resume',
): Promise<number> {
  const name = args[0]!;
  const { body } = await client.post<ProjectionStatus>(`${path.projection(name)}/${action}`);
  if (json) writeJson(io, body);
  else {
    io.stdout.write(
      `${name} ${action === 'pause' ? 'paused' : 'resumed'}: status ${paint(statusText(body), statusColour(body.status))}, ` +
        `lag ${lagEvents(body)} events\n`,
    );
  }
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------------------
// rebuild, verify, jobs, job, cancel

async function launchJob(
  context: Context & { client: OpsClient },
  kind: 'rebuild' | 'verify',
): Promise<number> {
  const { client, args, io, json, values } = context;
  const name = args[0]!;
  const interval = positiveInteger(values.interval, 'interval', 60_000) ?? 500;
  const answer = await client.post<JobView>(
    `${path.projection(name)}/${kind}`,
    kind === 'verify' && values.repair ? { repair: true } : undefined,
  );
  const job = answer.body;
  const location = answer.headers.get('location') ?? job.links.self;
  if (values.detach) {
    if (json) writeJson(io, job);
    else {
      io.stdout.write(`${kind} of ${name} started: job ${job.id}\n`);
      io.stdout.write(`watch it: ${BIN} job ${job.id} --watch\n`);
    }
    return EXIT.ok;
  }
  if (!json) {
    io.stdout.write(
      kind === 'rebuild'
        ? `rebuild of ${name} started: job ${job.id} (generation ${job.fromGeneration} → ${job.generation})\n`
        : `verify of ${name} started: job ${job.id}${job.repair ? ' (repairing drift)' : ''}\n`,
    );
  }
  return watchAndReport(context, location, job, interval);
}

async function jobsCommand({
  client,
  values,
  io,
  json,
  paint,
}: Context & { client: OpsClient }): Promise<number> {
  const query = new URLSearchParams();
  const limit = positiveInteger(values.limit, 'limit', 100);
  if (limit !== undefined) query.set('limit', String(limit));
  for (const key of ['projection', 'kind', 'state'] as const) {
    const value = values[key];
    if (value !== undefined) query.set(key, value);
  }
  const { body } = await client.get<{ items: JobView[] }>(
    `/admin/jobs${query.size > 0 ? `?${query.toString()}` : ''}`,
  );
  if (json) {
    writeJson(io, body);
    return EXIT.ok;
  }
  if (body.items.length === 0) {
    io.stdout.write('no jobs\n');
    return EXIT.ok;
  }
  io.stdout.write(
    table(body.items, [
      { header: 'ID', value: (j) => j.id },
      { header: 'KIND', value: (j) => j.kind },
      { header: 'PROJECTION', value: (j) => j.projection },
      { header: 'STATE', value: (j) => paint(j.state, statusColour(j.state)) },
      { header: 'PHASE', value: (j) => j.phase },
      { header: 'PROGRESS', value: (j) => percent(j.state === 'succeeded' ? 1 : j.progress), align: 'right' },
      { header: 'EVENTS', value: (j) => `${count(j.eventsDone)}/${count(j.eventsTotal)}`, align: 'right' },
      { header: 'STARTED', value: (j) => ago(j.startedAt) },
      { header: 'TOOK', value: took },
    ]),
  );
  return EXIT.ok;
}

function took(job: JobView): string {
  const end = job.finishedAt === null ? Date.now() : Date.parse(job.finishedAt);
  return duration(Math.max(0, end - Date.parse(job.startedAt)));
}

async function jobCommand(context: Context & { client: OpsClient }): Promise<number> {
  const { client, args, io, json, values, paint } = context;
  const location = path.job(args[0]!);
  const interval = positiveInteger(values.interval, 'interval', 60_000) ?? 500;
  const { body: job } = await client.get<JobView>(location);
  if (values.watch) return watchAndReport(context, location, job, interval);
  if (json) {
    writeJson(io, job);
    return EXIT.ok;
  }
  io.stdout.write(
    details([
      ['job', `${job.id} (${job.kind} of ${job.projection})`],
      [
        'state',
        `${paint(job.state, statusColour(job.state))}, phase ${job.phase}${job.cancelRequested ? ', cancel requested' : ''}`,
      ],
      [
        'progress',
        `${percent(job.state === 'succeeded' ? 1 : job.progress)} (${count(job.eventsDone)}/${count(job.eventsTotal)} events)`,
      ],
      ['rate', `${count(job.rate)} events/s${job.state === 'running' ? `, ETA ${eta(job.etaSeconds)}` : ''}`],
      [
        'generation',
        `${job.fromGeneration} → ${job.generation}${job.replacedGeneration === null ? '' : ` (replaced ${job.replacedGeneration})`}`,
      ],
      ['started', `${job.startedAt} by ${job.requestedBy}`],
      ['finished', job.finishedAt ?? '-'],
      ['took', took(job)],
      ['error', job.error ?? '-'],
      ['skipped', job.skippedCount === 0 ? '0' : `${job.skippedCount} streams (poison events)`],
    ]),
  );
  if (job.result) io.stdout.write(driftReport(job));
  return EXIT.ok;
}

async function cancelCommand({ client, args, io, json }: Context & { client: OpsClient }): Promise<number> {
  const answer = await client.delete<JobView>(path.job(args[0]!));
  const job = answer.body;
  if (json) writeJson(io, job);
  else if (answer.status === 202) {
    io.stdout.write(`cancel of job ${job.id} requested: the instance running it stops at its next step\n`);
  } else {
    io.stdout.write(
      `${job.kind} of ${job.projection} cancelled (job ${job.id}); generation ${job.fromGeneration} keeps serving\n`,
    );
  }
  return EXIT.ok;
}

/**
 * Polls the job until it ends, with a progress bar (on stdout; with --json on stderr when that is a
 * terminal, so that stdout stays one JSON document), then reports the outcome. Ctrl-C stops watching only:
 * the job goes on, and the message says how to watch it again or cancel it.
 */
async function watchAndReport(
  context: Context & { client: OpsClient },
  location: string,
  first: JobView,
  interval: number,
): Promise<number> {
  const { client, io, json } = context;
  const progressOut: Output | null = !json ? io.stdout : io.stderr.isTTY ? io.stderr : null;
  const renderer = progressOut ? new ProgressRenderer(progressOut) : null;
  const interrupted = new AbortController();
  const unsubscribe = io.onInterrupt?.(() => interrupted.abort()) ?? (() => undefined);
  let job = first;
  try {
    let failures = 0;
    while (job.state === 'running') {
      renderer?.update(job);
      if (await pause(interval, interrupted.signal)) {
        renderer?.interrupt();
        io.stderr.write(
          `stopped watching; the ${job.kind} of ${job.projection} goes on (job ${job.id}).\n` +
            `  watch it again: ${BIN} job ${job.id} --watch\n` +
            `  cancel it:      ${BIN} cancel ${job.id}\n`,
        );
        return EXIT.interrupted;
      }
      try {
        job = (await client.get<JobView>(location)).body;
        failures = 0;
      } catch (error) {
        // A restarting service (the job resumes after a restart) or a blip: keep watching for a while.
        const transient =
          error instanceof UnreachableError || (error instanceof ServiceError && error.status >= 500);
        if (!transient || ++failures >= 20) throw error;
      }
    }
  } finally {
    unsubscribe();
  }
  renderer?.finish(job);
  return report(context, job);
}

function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (aborted: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(aborted);
    };
    const onAbort = (): void => done(true);
    const timer = setTimeout(() => done(false), ms);
    signal.addEventListener('abort', onAbort);
  });
}

function report({ io, json }: Context, job: JobView): number {
  const unrepaired = job.result !== null && job.result.drifted > job.result.repaired;
  const code =
    job.state !== 'succeeded' ? EXIT.failure : job.kind === 'verify' && unrepaired ? EXIT.drift : EXIT.ok;
  if (json) {
    writeJson(io, job);
    return code;
  }
  const what = `${job.kind} of ${job.projection}`;
  if (job.state === 'failed') {
    io.stderr.write(`error: ${what} failed: ${job.error ?? 'no reason given'}\n`);
    return code;
  }
  if (job.state === 'cancelled') {
    io.stderr.write(`error: ${what} was cancelled; generation ${job.fromGeneration} keeps serving\n`);
    return code;
  }
  const speed = job.eventsDone > 0 ? ` in ${took(job)}` : '';
  if (job.kind === 'rebuild') {
    io.stdout.write(
      `${what} succeeded: generation ${job.generation} is live (was ${job.replacedGeneration ?? job.fromGeneration}), ` +
        `${count(job.eventsDone)} events${speed}\n`,
    );
  } else {
    io.stdout.write(driftReport(job));
  }
  if (job.skippedCount > 0) {
    io.stdout.write(
      `warning: ${job.skippedCount} streams could not be folded (poison events); their documents stop before ` +
        `the event, as in the live projection:\n`,
    );
    for (const skipped of job.skipped) io.stdout.write(`  ${skipped.streamId}: ${skipped.reason}\n`);
  }
  return code;
}

function driftReport(job: JobView): string {
  const result = job.result;
  if (!result) return '';
  let text =
    `verify of ${job.projection}: ${count(result.compared)} documents compared, ${count(result.drifted)} drifted, ` +
    `${count(result.repaired)} repaired, ${count(result.pending)} pending ` +
    `(generation ${result.liveGeneration} against shadow ${result.shadowGeneration})\n`;
  if (result.drift.length > 0) {
    const rows = result.drift.flatMap((doc) =>
      doc.fields.length === 0
        ? [{ doc, field: '-', live: '-', expected: '-' }]
        : doc.fields.map((field) => ({
            doc,
            field: field.path,
            live: field.presence === 'expected-only' ? '(absent)' : JSON.stringify(field.live),
            expected: field.presence === 'live-only' ? '(absent)' : JSON.stringify(field.expected),
          })),
    );
    text += table(rows, [
      { header: 'COLLECTION', value: (r) => r.doc.collection },
      { header: 'ID', value: (r) => r.doc.id },
      { header: 'KIND', value: (r) => r.doc.kind },
      { header: 'REPAIRED', value: (r) => (r.doc.repaired ? 'yes' : 'no') },
      { header: 'FIELD', value: (r) => r.field },
      { header: 'LIVE', value: (r) => r.live, max: 40 },
      { header: 'EXPECTED', value: (r) => r.expected, max: 40 },
    ]);
  }
  if (result.truncated)
    text += `(the report lists the first ${count(result.drift.length)} drifted documents)\n`;
  if (result.pending > 0) {
    text += `${count(result.pending)} documents are not reached by the live projection yet (paused or lagging): neither drift nor verified\n`;
  }
  if (result.drifted > result.repaired && !job.repair) {
    text += `hint: "${BIN} verify ${job.projection} --repair" writes the expected documents over the drifted ones\n`;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// parked, replay-parked

async function parkedCommand({
  client,
  args,
  values,
  io,
  json,
}: Context & { client: OpsClient }): Promise<number> {
  const name = args[0]!;
  const limit = positiveInteger(values.limit, 'limit', 1000);
  const { body } = await client.get<{ items: ParkedEventView[]; total: number }>(
    `${path.projection(name)}/parked${limit === undefined ? '' : `?limit=${limit}`}`,
  );
  if (json) {
    writeJson(io, body);
    return EXIT.ok;
  }
  if (body.total === 0) {
    io.stdout.write(`no parked events for ${name}\n`);
    return EXIT.ok;
  }
  const now = Date.now();
  io.stdout.write(
    table(body.items, [
      { header: 'POSITION', value: (e) => count(e.position), align: 'right' },
      { header: 'STREAM', value: (e) => e.streamId },
      { header: 'REV', value: (e) => String(e.revision), align: 'right' },
      { header: 'TYPE', value: (e) => e.type },
      { header: 'RETRIES', value: (e) => String(e.retryCount), align: 'right' },
      { header: 'PARKED', value: (e) => ago(e.parkedAt, now) },
      { header: 'REASON', value: (e) => e.reason, max: 160 },
    ]),
  );
  io.stdout.write(
    body.items.length < body.total
      ? `${count(body.total)} parked events in all (showing the oldest ${count(body.items.length)}; --limit for more)\n`
      : `${count(body.total)} parked events\n`,
  );
  return EXIT.ok;
}

async function replayParkedCommand({
  client,
  args,
  values,
  io,
  json,
}: Context & { client: OpsClient }): Promise<number> {
  const name = args[0]!;
  const limit = positiveInteger(values.limit, 'limit', 100_000);
  const { body } = await client.post<{ replayed: number }>(
    `${path.projection(name)}/parked/replay`,
    limit === undefined ? undefined : { limit },
  );
  if (json) writeJson(io, body);
  else {
    io.stdout.write(
      body.replayed === 0
        ? `no parked events to replay for ${name}\n`
        : `replayed ${count(body.replayed)} parked event${body.replayed === 1 ? '' : 's'} of ${name}: delivered again ` +
            `(one that still fails is parked again; see "${BIN} parked ${name}")\n`,
    );
  }
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------------------
// token

async function tokenCommand({ values, io, json }: Context): Promise<number> {
  const roles = values.role ?? [];
  if (roles.length === 0) throw new UsageError('--role is required');
  for (const role of roles) {
    if (!isRole(role)) throw new UsageError(`unknown role "${role}" (one of: ${ROLES.join(', ')})`);
  }
  if (!values.sub) throw new UsageError('--sub is required');
  const ttlSeconds = positiveInteger(values.ttl ?? '86400', 'ttl', 10 * 365 * 86_400)!;
  const secret = io.env.AUTH_JWT_SECRET || DEV_JWT_SECRET;
  const token = signDevToken({ sub: values.sub, roles: roles as Role[], ttlSeconds }, secret);
  if (json) writeJson(io, { token });
  else io.stdout.write(`${token}\n`);
  return EXIT.ok;
}
