import type { ParkedEventView } from '../../application/admin-views.js';
import { adminPath, EXIT, positiveInteger, writeJson, type ServiceCommand } from '../command.js';
import { ago, count, table } from '../format.js';

export const parkedCommand: ServiceCommand = {
  usage: 'parked <name> [--limit n]',
  summary: 'parked events, oldest first, with their reason and retry count',
  args: ['name'],
  options: ['limit'],
  async run({ client, args, values, io, json }) {
    const name = args[0]!;
    const limit = positiveInteger(values.limit, 'limit', 1000);
    const { body } = await client.get<{ items: ParkedEventView[]; total: number }>(
      `${adminPath.projection(name)}/parked${limit === undefined ? '' : `?limit=${limit}`}`,
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
  },
};
