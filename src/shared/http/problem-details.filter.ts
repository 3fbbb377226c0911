import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { toProblem } from './problem-mapper.js';
import { logFailedRequest } from '../infrastructure/failure-log.js';

/** One place where every error becomes application/problem+json. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), error, this.logger);
  }
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  logger: Logger,
): void {
  const mapped = toProblem(error);
  const { unexpected } = mapped;
  let { body } = mapped;
  if (body.code === 'ROUTE_NOT_FOUND' || request.is404) {
    // A path the app serves, with another method: 405 and what it does answer. (Also when Fastify refused the
    // request before finding no route: a QUERY without Content-Type, a body too large for a method not served.)
    const notAllowed = methodNotAllowed(request.server, request.method, request.url);
    if (notAllowed) {
      body = notAllowed.body;
      void reply.header('allow', notAllowed.allow);
    }
  }
  if (unexpected) logFailedRequest(logger, error, body, request);
  body.instance = request.url;
  if (typeof body.currentRevision === 'number') void reply.header('etag', `"${body.currentRevision}"`);
  if (body.status === 503) {
    void reply.header('retry-after', String(typeof body.retryAfter === 'number' ? body.retryAfter : 1));
  }
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}
