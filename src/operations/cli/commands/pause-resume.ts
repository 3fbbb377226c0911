import type { ProjectionStatus } from '../../application/projection-status.service.js';
import { adminPath, EXIT, writeJson, type ServiceCommand, type ServiceContext } from '../command.js';
import { statusColour } from '../format.js';
import { lagEvents, statusText } from '../projection-text.js';

export const pauseCommand: ServiceCommand = {
  usage: 'pause <name>',
  summary: 'stop applying events (persisted; every instance follows)',
  args: ['name'],
  options: [],
  run: (context) => pauseOrResume(context, 'pause'),
};

export const resumeCommand: ServiceCommand = {
  usage: 'resume <name>',
  summary: 'apply again and catch up from the checkpoint',
  args: ['name'],
  options: [],
  run: (context) => pauseOrResume(context, 'resume'),
};

async function pauseOrResume(
  { client, args, io, json, paint }: ServiceContext,
  action: 'pause' | 'resume',
): Promise<number> {
  const name = args[0]!;
  const { body } = await client.post<ProjectionStatus>(`${adminPath.projection(name)}/${action}`);
  if (json) writeJson(io, body);
  else {
    io.stdout.write(
      `${name} ${action === 'pause' ? 'paused' : 'resumed'}: status ${paint(statusText(body), statusColour(body.status))}, ` +
        `lag ${lagEvents(body)} events\n`,
    );
  }
  return EXIT.ok;
}
