import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { logRequest, runCorrelated } from './logging.js';
import { UNMATCHED_ROUTE, type AppMetrics } from './metrics/app-metrics.js';

/**
 * Fastify hooks of every request, in-memory work only:
 * - the correlation id (Fastify's request id: X-Correlation-Id when valid, else generated) is echoed on the
 *   response, and the rest of the request runs in its context, so every line it logs carries it;
 * - when it ends: one log line (method, route pattern, status, duration, correlation id) and one
 *   observation of the request-duration histogram (method, route pattern, status — never the raw URL).
 */
export function observeHttp(fastify: FastifyInstance, logger: PinoLogger, metrics: AppMetrics): void {
  fastify.decorateRequest('correlationId', '');
  fastify.addHook('onRequest', (request, reply, done) => {
    request.correlationId = request.id;
    void reply.header('x-correlation-id', request.id);
    runCorrelated(request.id, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequest(request.method, route, reply.statusCode, seconds);
    logRequest(logger, {
      correlationId: request.id,
      method: request.method,
      route,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    });
    done();
  });
}
