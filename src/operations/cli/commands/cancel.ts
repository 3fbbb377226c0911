import type { JobView } from '../../application/admin-views.js';
import { adminPath, EXIT, writeJson, type ServiceCommand } from '../command.js';

export const cancelCommand: ServiceCommand = {
  usage: 'cancel <id>',
  summary: 'cancel a running job (the live generation keeps serving)',
  args: ['id'],
  options: [],
  async run({ client, args, io, json }) {
    const answer = await client.delete<JobView>(adminPath.job(args[0]!));
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
  },
};
