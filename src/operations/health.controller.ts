import { Controller, Get, HttpCode, Logger, Optional, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/roles.decorator.js';
import { recurringFailuresOf } from '../shared/infrastructure/failure-log.js';
import { ProjectionObserver } from './application/projection-observer.js';
import { PROBE_TIMEOUT_MS, StoreProbes } from './application/store-probes.js';

type ComponentState = 'up' | 'down';

export class LiveDto {
  @ApiProperty({ enum: ['up'] })
  status!: 'up';
}

export class ReadyComponentsDto {
  @ApiProperty({ enum: ['up', 'down'] })
  eventStore!: ComponentState;
  @ApiProperty({ enum: ['up', 'down'] })
  readStore!: ComponentState;
  @ApiProperty({
    enum: ['up', 'degraded', 'down'],
    description:
      'down: a projection does not make progress (stalled or faulted); degraded: every one does, but the consistency sampler found documents that differ from their streams (ready stays up)',
  })
  projections!: ComponentState | 'degraded';
}

export class ReadyDto {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: ComponentState;
  @ApiProperty({ type: ReadyComponentsDto })
  components!: ReadyComponentsDto;
}

/**
 * Anonymous liveness/readiness for orchestrators (@nestjs/terminus): up or down per component, nothing else
 * — no versions, no error messages, no timings (why a component is down goes to the log).
 */
@ApiTags('operations')
@Controller('health')
@Public()
export class HealthController {
  private readonly logger = new Logger('Health');

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly stores: StoreProbes,
    @Optional() private readonly projections?: ProjectionObserver,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ type: LiveDto, description: 'The process is up' })
  live(): LiveDto {
    return { status: 'up' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: event store, read store and projection heartbeats' })
  @ApiOkResponse({ type: ReadyDto, description: 'Every component is up' })
  @ApiServiceUnavailableResponse({ type: ReadyDto, description: 'At least one component is down' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadyDto> {
    let degraded = false;
    const result = await this.health
      .check([
        () => this.probe('eventStore', () => this.stores.probe('eventStore')),
        () => this.probe('readStore', () => this.stores.probe('readStore')),
        () =>
          this.probe('projections', async () => {
            const observed = (await this.projections?.observe()) ?? [];
            degraded = observed.some((p) => p.consistency?.degraded === true);
            const stuck = observed.filter((p) => !p.healthy);
            if (stuck.length > 0) {
              throw new Error(
                `not making progress: ${stuck.map((p) => `${p.name} (${p.status})`).join(', ')}`,
              );
            }
          }),
      ])
      .catch((error: unknown) => {
        // Terminus answers a failed check by throwing a 503 whose response is the full result.
        const response = (error as { getResponse?: () => unknown }).getResponse?.();
        if (response && typeof response === 'object' && 'status' in response)
          return response as HealthCheckResult;
        throw error;
      });
    const state = (key: string): ComponentState => (result.details[key]?.status === 'up' ? 'up' : 'down');
    const projections = state('projections');
    const components: ReadyComponentsDto = {
      eventStore: state('eventStore'),
      readStore: state('readStore'),
      // Degraded is not down: the projections serve and move on; an operator repairs the drifted documents.
      projections: projections === 'up' && degraded ? 'degraded' : projections,
    };
    const status = Object.values(components).every((c) => c !== 'down') ? 'up' : 'down';
    if (status === 'down') {
      // Probes come every few seconds: a component that stays down is logged once while it lasts.
      const down = Object.entries(components)
        .filter(([, state]) => state === 'down')
        .map(([name]) => name);
      recurringFailuresOf(this.logger).occurred(
        `NOT_READY (${down.join(', ')})`,
        Object.entries(result.error ?? {})
          .map(([name, detail]) => {
            const message = (detail as { message?: unknown }).message;
            return `${name}: ${typeof message === 'string' ? message : 'down'}`;
          })
          .join('; '),
        { components },
        'warn',
      );
    }
    void reply.status(status === 'up' ? 200 : 503);
    return { status, components };
  }

  private probe(key: string, check: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const attempt = this.indicators
      .check(key)
      .attempt(async () => {
        await check();
      })
      .withTimeout(PROBE_TIMEOUT_MS);
    return Promise.resolve(attempt);
  }
}
