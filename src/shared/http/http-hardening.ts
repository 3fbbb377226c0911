import { maxHeaderSize, type ServerOptions } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerOptions } from 'fastify';
import { answerClientError, answerUnmetExpectations } from './client-errors.js';
import { parseJsonBody } from './json-body.js';
import { PROBLEM_CONTENT_TYPE, problem } from './problem.js';

/**
 * The longest path segment the router takes (decoded, in UTF-16 units): the longest id the service issues, a
 * customer id (a token's `sub`, up to 200). A longer one is 414 URI_TOO_LONG before any route runs.
 */
export const MAX_PATH_SEGMENT = 200;

/**
 * Options of the Fastify instance so that what Node's HTTP layer refuses before any route (headers too large,
 * broken framing, a request line too long, a missing Host) is answered as problem+json too.
 */
export function hardenedServerOptions(): Pick<FastifyServerOptions, 'clientErrorHandler'> & {
  http: ServerOptions;
  routerOptions: { maxParamLength: number };
} {
  return {
    clientErrorHandler: answerClientError(maxHeaderSize),
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
    // Node answers an HTTP/1.1 request without Host with a bare 400 of its own; the hook below answers it instead.
    http: { requireHostHeader: false },
  };
}

/**
 * Installs, before the app initialises: the JSON body parser (depth limit, prototype keys, each refused with a
 * 400 problem of its own — see json-body.ts), the Host check, the problem answer to an unmet `Expect`, and the
 * answer to a request that arrives while the service stops.
 *
 * A stopping service accepts no new connection, but a request may still arrive on a connection kept alive from
 * before (or pipelined behind one in flight): it is answered `503 SERVICE_STOPPING` with `Connection: close` and
 * `Retry-After: 0`, having run nothing, so that the client or the load balancer sends it to another instance. It
 * is a problem like every other error (Fastify's own answer to it, `return503OnClosing`, is JSON of another
 * shape: the app turns that off).
 */
export function hardenHttp(app: NestFastifyApplication, bodyLimit: number): void {
  app.useBodyParser('application/json', { bodyLimit }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Set in the same turn as Fastify's own closing flag (its preClose hooks run right after it is set).
  let stopping = false;
  fastify.addHook('preClose', (done) => {
    stopping = true;
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    if (stopping) {
      const body = problem(
        503,
        'SERVICE_STOPPING',
        'This instance is stopping: send the request again (to another instance); nothing of it ran here',
      );
      body.instance = request.url;
      void reply
        .status(503)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .header('connection', 'close')
        .header('retry-after', '0')
        .send(body);
      return;
    }
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      const body = problem(400, 'MISSING_HOST', 'An HTTP/1.1 request must carry a Host header');
      body.instance = request.url;
      void reply
        .status(400)
        .header('content-type', PROBLEM_CONTENT_TYPE)
        .header('connection', 'close')
        .send(body);
      return;
    }
    done();
  });
  answerUnmetExpectations(app.getHttpServer());
}
