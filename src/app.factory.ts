import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { observeHttp } from './operations/http-observability.js';
import { PROJECTIONS } from './projections.js';
import { resolveFreshnessBudgets } from './read-side/runtime/freshness.js';
import { AppMetrics } from './operations/metrics/app-metrics.js';
import { collectRoutes, serveOpenApi } from './operations/openapi.js';
import { lockDataDir } from './shared/infrastructure/data-dir-lock.js';
import { correlationIdOf } from './shared/http/correlation.js';
import { HttpProblem } from './shared/http/http-errors.js';
import { hardenHttp, hardenedServerOptions } from './shared/http/http-hardening.js';
import { PROBLEM_CONTENT_TYPE, problem } from './shared/http/problem.js';
import { JsonObjectBodyPipe, strictValidationPipe } from './shared/http/validation.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Builds the whole HTTP application (used by main.ts, the tests and the benchmarks). */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // Configuration that names projections is checked before anything starts (a ConfigError naming it).
  resolveFreshnessBudgets(PROJECTIONS, config.readSide.freshnessBudgets);
  // The embedded stores are one process's files: a second service on the same directory is refused here.
  const embedded = config.eventStore.kind === 'embedded' || config.readStore.kind === 'embedded';
  const dataDirLock = embedded ? lockDataDir(config.dataDir) : null;
  try {
    return await buildApp(config, () => dataDirLock?.release());
  } catch (error) {
    dataDirLock?.release();
    throw error;
  }
}

async function buildApp(config: AppConfig, releaseDataDir: () => void): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    logger: false,
    // Fastify's request id is the correlation id (X-Correlation-Id when valid, else generated), so the request
    // logger (pino-http, which takes Fastify's id) and every other layer agree on it.
    requestIdHeader: false,
    genReqId: (raw: IncomingMessage) => correlationIdOf(raw),
    // A request that arrives while the service stops is answered 503 SERVICE_STOPPING, a problem (hardenHttp).
    return503OnClosing: false,
    ...hardenedServerOptions(),
    // Errors Fastify's router raises before any handler (a malformed %-escape, an over-long path segment)
    // are problems like every other error, never Fastify's own JSON shape.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const body = tooLong
        ? problem(414, 'URI_TOO_LONG', 'A path segment is longer than any id this service issues')
        : problem(400, 'BAD_URL', 'The URL is malformed (e.g. a broken %-escape)');
      body.instance = request.url;
      void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    // Held until the JSON logger (nestjs-pino, see operations/logging.ts) takes over just below.
    bufferLogs: true,
    abortOnError: false,
    // The payment provider's webhook is verified over the exact bytes it signed (request.rawBody).
    rawBody: true,
  });
  try {
    await configure(app, config, releaseDataDir);
  } catch (error) {
    // A boot that fails half way (a store that refuses, a read store that cannot create its collections) must
    // not leave consumer loops, timers or connections running behind the error it reports.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

async function configure(
  app: NestFastifyApplication,
  config: AppConfig,
  releaseDataDir: () => void,
): Promise<void> {
  app.useLogger(app.get(PinoNestLogger));
  hardenHttp(app, config.http.bodyLimitBytes);
  const fastify = app.getHttpAdapter().getInstance();
  // After every store has closed (Nest's shutdown hooks run first): the next process may take the directory.
  fastify.addHook('onClose', (_instance, done) => {
    releaseDataDir();
    done();
  });
  collectRoutes(fastify);
  observeHttp(fastify, PinoLogger.root, app.get(AppMetrics));
  fastify.addHook('preValidation', (request, _reply, done) => {
    // Bodies are JSON or nothing: anything else is refused before any parsing or validation.
    const type = request.headers['content-type'];
    if (request.body !== undefined && type !== undefined && !JSON_TYPE.test(type)) {
      done(new HttpProblem(problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json')));
      return;
    }
    done();
  });

  app.useGlobalPipes(new JsonObjectBodyPipe(), strictValidationPipe());
  // No app.enableShutdownHooks(): main.ts stops the service on SIGTERM/SIGINT (operations/lifecycle.ts), and
  // apps created in a test process are closed by their tests.
  await app.init();
  serveOpenApi(app);
  if (config.payments.usingDevSecret) {
    Logger.warn(
      'PAYMENT_WEBHOOK_SECRET is not set: payment webhooks are checked against the public development secret (NODE_ENV=development only)',
      'Payments',
    );
  }
  if (config.auth.usingDevSecret) {
    Logger.warn(
      'AUTH_JWT_SECRET is not set: using the public development secret (NODE_ENV=development only)',
      'Auth',
    );
  }
}
