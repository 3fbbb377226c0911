import type { JobView } from '../../application/admin-views.js';
import {
  adminPath,
  EXIT,
  invocation,
  writeJson,
  type ServiceCommand,
  type ServiceContext,
} from '../command.js';
import { watchAndReport, watchInterval } from '../watch-job.js';

export const rebuildCommand: ServiceCommand = {
  usage: 'rebuild <name> [--detach] [--interval ms]',
  summary: 'rebuild into a new generation while the old one serves, with a live progress bar until it ends',
  args: ['name'],
  options: ['detach', 'interval'],
  run: (context) => launchJob(context, 'rebuild'),
};

export const verifyCommand: ServiceCommand = {
  usage: 'verify <name> [--repair] [--detach] [--interval ms]',
  summary: 'rebuild a shadow generation, diff it with the live one and print every drifted document',
  args: ['name'],
  options: ['repair', 'detach', 'interval'],
  run: (context) => launchJob(context, 'verify'),
};

async function launchJob(context: ServiceContext, kind: 'rebuild' | 'verify'): Promise<number> {
  const { client, args, io, json, values } = context;
  const name = args[0]!;
  const interval = watchInterval(values);
  const answer = await client.post<JobView>(
    `${adminPath.projection(name)}/${kind}`,
    kind === 'verify' && values.repair ? { repair: true } : undefined,
  );
  const job = answer.body;
  const location = answer.headers.get('location') ?? job.links.self;
  if (values.detach) {
    if (json) writeJson(io, job);
    else {
      io.stdout.write(`${kind} of ${name} started: job ${job.id}\n`);
      io.stdout.write(`watch it: ${invocation()} job ${job.id} --watch\n`);
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
