import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/roles.decorator.js';
import { EventStore } from '../event-store/event-store.port.js';

/** Anonymous liveness/readiness: up or down per component, no details. */
@Controller('health')
@Public()
export class HealthController {
  constructor(private readonly events: EventStore) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'up' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const eventStore = await this.events
      .streamRevision('$health-probe')
      .then(() => 'up' as const)
      .catch(() => 'down' as const);
    const status = eventStore === 'up' ? 'up' : 'down';
    void reply.status(status === 'up' ? 200 : 503);
    return { status, components: { eventStore } };
  }
}
