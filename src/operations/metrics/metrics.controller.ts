import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  SetMetadata,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { ApiExtension, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuthGuard } from '../../auth/auth.guard.js';
import { OPENAPI_ROLES, PUBLIC_KEY } from '../../auth/roles.decorator.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { AppMetrics } from './app-metrics.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `/metrics` is for the operator role, or for a scraper presenting `Authorization: Bearer <METRICS_TOKEN>`
 * (compared in constant time: both sides are hashed to equal lengths first). Anything else is 401/403 as on
 * every other route.
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly auth: AuthGuard;
  private readonly expected: Buffer | null;

  constructor(reflector: Reflector, jwt: JwtService, @Inject(APP_CONFIG) config: AppConfig) {
    this.auth = new AuthGuard(reflector, jwt);
    const token = config.observability.metricsToken;
    this.expected = token === null ? null : digest(`Bearer ${token}`);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    if (this.expected && typeof header === 'string' && timingSafeEqual(digest(header), this.expected)) {
      return true;
    }
    this.auth.authorize(request, ['operator']);
    return true;
  }
}

@ApiTags('operations')
@Controller('metrics')
// Not anonymous: the global auth guard lets it through to MetricsAccessGuard, which checks the operator role
// itself and also accepts METRICS_TOKEN.
@SetMetadata(PUBLIC_KEY, true)
@ApiExtension(OPENAPI_ROLES, ['operator'])
@UseGuards(MetricsAccessGuard)
export class MetricsController {
  constructor(private readonly metrics: AppMetrics) {}

  @Get()
  @Header('cache-control', 'no-store')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description: 'Operator role, or `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  async scrape(): Promise<string> {
    return this.metrics.exposition();
  }
}
