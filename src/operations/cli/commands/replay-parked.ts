import { adminPath, EXIT, invocation, positiveInteger, writeJson, type ServiceCommand } from '../command.js';
import { count } from '../format.js';

export const replayParkedCommand: ServiceCommand = {
  usage: 'replay-parked <name> [--limit n]',
  summary: 'deliver parked events again (all, or the oldest n)',
  args: ['name'],
  options: ['limit'],
  async run({ client, args, values, io, json }) {
    const name = args[0]!;
    const limit = positiveInteger(values.limit, 'limit', 100_000);
    const { body } = await client.post<{ replayed: number }>(
      `${adminPath.projection(name)}/parked/replay`,
      limit === undefined ? undefined : { limit },
    );
    if (json) writeJson(io, body);
    else {
      io.stdout.write(
        body.replayed === 0
          ? `no parked events to replay for ${name}\n`
          : `replayed ${count(body.replayed)} parked event${body.replayed === 1 ? '' : 's'} of ${name}: delivered again ` +
              `(one that still fails is parked again; see "${invocation()} parked ${name}")\n`,
      );
    }
    return EXIT.ok;
  },
};
