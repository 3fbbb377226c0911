import type { JobView } from '../../application/admin-views.js';
import { adminPath, EXIT, writeJson, type ServiceCommand } from '../command.js';
import { count, details, eta, percent, statusColour } from '../format.js';
import { driftReport, took } from '../job-text.js';
import { watchAndReport, watchInterval } from '../watch-job.js';

export const jobCommand: ServiceCommand = {
  usage: 'job <id> [--watch] [--interval ms]',
  summary: 'one job: state, progress, result (--watch: a progress bar until it ends)',
  args: ['id'],
  options: ['watch', 'interval'],
  async run(context) {
    const { client, args, io, json, values, paint } = context;
    const location = adminPath.job(args[0]!);
    const interval = watchInterval(values);
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
        [
          'rate',
          `${count(job.rate)} events/s${job.state === 'running' && job.phase === 'building' ? `, ETA ${eta(job.etaSeconds)}` : ''}`,
        ],
        ...(job.dropAt === null
          ? []
          : [
              [
                'drop',
                `generation ${job.replacedGeneration ?? job.fromGeneration} at ${job.dropAt}`,
              ] as const,
            ]),
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
  },
};
