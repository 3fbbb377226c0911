import type { JobView } from '../../application/admin-views.js';
import { adminPath, EXIT, positiveInteger, writeJson, type ServiceCommand } from '../command.js';
import { ago, count, percent, statusColour, table } from '../format.js';
import { took } from '../job-text.js';

export const jobsCommand: ServiceCommand = {
  usage:
    'jobs [--projection name] [--kind rebuild|verify] [--state running|succeeded|failed|cancelled] [--limit n]',
  summary: 'recent rebuild and verify jobs, newest first',
  args: [],
  options: ['projection', 'kind', 'state', 'limit'],
  async run({ client, values, io, json, paint }) {
    const query = new URLSearchParams();
    const limit = positiveInteger(values.limit, 'limit', 100);
    if (limit !== undefined) query.set('limit', String(limit));
    for (const key of ['projection', 'kind', 'state'] as const) {
      const value = values[key];
      if (value !== undefined) query.set(key, value);
    }
    const { body } = await client.get<{ items: JobView[] }>(
      `${adminPath.jobs}${query.size > 0 ? `?${query.toString()}` : ''}`,
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
        {
          header: 'PROGRESS',
          value: (j) => percent(j.state === 'succeeded' ? 1 : j.progress),
          align: 'right',
        },
        { header: 'EVENTS', value: (j) => `${count(j.eventsDone)}/${count(j.eventsTotal)}`, align: 'right' },
        { header: 'STARTED', value: (j) => ago(j.startedAt) },
        { header: 'TOOK', value: took },
      ]),
    );
    return EXIT.ok;
  },
};
