import { Injectable, Module, type DynamicModule, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../config/app-config.js';

const MUTATIONS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** Home of the rate limiter's providers when RATE_LIMIT_PER_MINUTE > 0 (see {@link rateLimitModule}). */
@Module({})
export class RateLimitModule {}

/**
 * Rate limit of mutations (POST, PUT, PATCH, DELETE) per client with @nestjs/throttler: one budget of
 * RATE_LIMIT_PER_MINUTE requests per minute across every mutating route, keyed by the token's subject (a
 * client cannot dodge it by changing IP), else by IP. Its guard is registered after the auth guard, which
 * has set the subject by then (a request with a bad token is answered 401 before it counts). Over the
 * budget: `429` problem+json (TOO_MANY_REQUESTS) with `Retry-After` in seconds. Reads are never limited.
 * Counters are in memory, per service instance.
 *
 * Null when RATE_LIMIT_PER_MINUTE is 0: then nothing is loaded and no request pays anything. The throttler is
 * loaded on demand because it is a CommonJS package that requires the ESM-only @nestjs/common — which Node
 * does (require(esm)), but Jest's module loader only on Node 24.9+.
 */
export function rateLimitModule(config: AppConfig): Promise<DynamicModule> | null {
  const limit = config.observability.rateLimitPerMinute;
  if (limit <= 0) return null;
  return (async () => {
    const { ThrottlerGuard, ThrottlerModule } = await import('@nestjs/throttler');

    @Injectable()
    class MutationThrottlerGuard extends ThrottlerGuard {
      protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
        const request = context.switchToHttp().getRequest<FastifyRequest>();
        // Without an actor the route is one that takes no token — the payment provider's signed webhook, which
        // a provider retries until it gets a 2xx: limiting it would only delay payments.
        return !MUTATIONS.has(request.method) || request.actor === undefined;
      }

      protected override async getTracker(request: Record<string, unknown>): Promise<string> {
        const { actor, ip } = request as unknown as FastifyRequest;
        return actor ? `sub:${actor.id}` : `ip:${ip}`;
      }

      protected override generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
        // One budget per client for all mutations (the default would be one per route).
        return `${throttler}:${tracker}`;
      }
    }

    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRoot({
          // Named `default` so the headers are the plain Retry-After and X-RateLimit-* (others get a suffix).
          throttlers: [{ name: 'default', ttl: RATE_LIMIT_WINDOW_MS, limit }],
          errorMessage: 'Too many requests; slow down',
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: MutationThrottlerGuard }],
    };
  })();
}
