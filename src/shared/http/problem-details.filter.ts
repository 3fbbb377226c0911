import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
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
  const { body, unexpected } = toProblem(error);
  if (unexpected) logFailedRequest(logger, error, body, request);
  body.instance = request.url;
  if (typeof body.currentRevision === 'number') void reply.header('etag', `"${body.currentRevision}"`);
  if (body.status === 503) void reply.header('retry-after', '1');
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}
