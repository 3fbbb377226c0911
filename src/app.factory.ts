import 'reflect-metadata';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { randomId } from './shared/application/ids.js';
import { HttpProblem } from './shared/http/http-errors.js';
import { problem } from './shared/http/problem.js';
import { JsonObjectBodyPipe, strictValidationPipe } from './shared/http/validation.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function logLevels(level: string): LogLevel[] {
  if (level === 'silent') return [];
  const named = level === 'info' ? 'log' : level === 'trace' ? 'verbose' : level;
  const index = LEVELS.indexOf(named as LogLevel);
  return LEVELS.slice(0, index < 0 ? 4 : index + 1);
}

/** Builds the whole HTTP application (used by main.ts, the tests and the benchmarks). */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    logger: false,
    // Correlation ids come from the client when valid; request ids are only for Fastify's internals.
    requestIdHeader: false,
    return503OnClosing: true,
  });
  const logger = new ConsoleLogger({ json: true, logLevels: logLevels(config.logLevel) });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    logger,
    abortOnError: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.decorateRequest('correlationId', '');
  fastify.addHook('onRequest', (request, reply, done) => {
    const given = request.headers['x-correlation-id'];
    request.correlationId = typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomId();
    void reply.header('x-correlation-id', request.correlationId);
    done();
  });
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
  app.enableShutdownHooks();
  await app.init();
  if (config.auth.usingDevSecret) {
    Logger.warn(
      'AUTH_JWT_SECRET is not set: using the public development secret (NODE_ENV=development only)',
      'Auth',
    );
  }
  return app;
}
