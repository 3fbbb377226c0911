/**
 * Watching a rebuild or verify job to its end and reporting how it ended: what `rebuild`, `verify` and
 * `job --watch` share.
 */
import type { JobView } from '../application/admin-views.js';
import { ServiceError, UnreachableError } from './client.js';
import {
  EXIT,
  invocation,
  positiveInteger,
  writeJson,
  type CommandContext,
  type OptionValues,
  type ServiceContext,
} from './command.js';
import { count, ProgressRenderer, type Output } from './format.js';
import { driftReport, took } from './job-text.js';

/**
 * `--interval`: how often a watched job is polled, in milliseconds. 250 by default: the service saves a
 * job's progress at least every page or every 250 ms, and a countdown reads as one.
 */
export function watchInterval(values: OptionValues): number {
  return positiveInteger(values.interval, 'interval', 60_000) ?? 250;
}

/** How long watching rides out a service that cannot be reached or answers 5xx (a restart: the job resumes). */
const RIDE_OUT_MS = 10_000;

/**
 * Polls the job until it ends, with a progress bar (on stdout; with --json on stderr when that is a
 * terminal, so that stdout stays one JSON document), then reports the outcome. Ctrl-C stops watching only:
 * the job goes on, and the message says how to watch it again or cancel it.
 */
export async function watchAndReport(
  context: ServiceContext,
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
    let failingSince: number | null = null;
    while (job.state === 'running') {
      renderer?.update(job);
      if (await interruptedWhileWaiting(interval, interrupted.signal)) {
        renderer?.interrupt();
        io.stderr.write(
          `stopped watching; the ${job.kind} of ${job.projection} goes on (job ${job.id}).\n` +
            `  watch it again: ${invocation()} job ${job.id} --watch\n` +
            `  cancel it:      ${invocation()} cancel ${job.id}\n`,
        );
        return EXIT.interrupted;
      }
      try {
        job = (await client.get<JobView>(location)).body;
        failingSince = null;
      } catch (error) {
        // A restarting service (the job resumes after a restart) or a blip: keep watching for a while.
        const transient =
          error instanceof UnreachableError || (error instanceof ServiceError && error.status >= 500);
        failingSince ??= Date.now();
        if (!transient || Date.now() - failingSince >= RIDE_OUT_MS) throw error;
      }
    }
  } finally {
    unsubscribe();
  }
  renderer?.finish(job);
  return reportOutcome(context, job);
}

/** Resolves after `ms`: true when the signal aborted the wait. */
function interruptedWhileWaiting(ms: number, signal: AbortSignal): Promise<boolean> {
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

/** Prints how the job ended; exit 1 unless it succeeded, 4 for a verify that left drift unrepaired. */
function reportOutcome({ io, json }: CommandContext, job: JobView): number {
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
