import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { announce, stopOnSignals } from './operations/lifecycle.js';
import {
  BootLogger,
  createRootLogger,
  createStartupErrorLogger,
  levelFromEnvironment,
  logProcessWarnings,
} from './operations/logging.js';
import { describeError, errorField } from './shared/infrastructure/failure-log.js';

/** EX_CONFIG (sysexits.h): a variable is missing or wrong. */
const EXIT_CONFIG = 78;

/**
 * Every line the process writes is one JSON object: the start-up lines and its failures (on stderr, no
 * stack), Nest's lines while it starts, process warnings, and the request and application logs after.
 */
async function main(): Promise<void> {
  const startupErrors = createStartupErrorLogger(levelFromEnvironment());
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    startupErrors.fatal(
      { context: 'Config', problems: error.problems, exitCode: EXIT_CONFIG },
      `invalid configuration: ${error.problems.join('; ')}. See .env.example and docs/configuration.md ` +
        'for every variable',
    );
    process.exit(EXIT_CONFIG);
  }
  const log = createRootLogger(config.logLevel);
  logProcessWarnings(log);
  process.on('uncaughtException', (error) => {
    log.fatal(
      { context: 'Process', error: errorField(error) },
      `uncaught exception, exiting: ${describeError(error)}`,
    );
    process.exit(1);
  });
  Logger.overrideLogger(new BootLogger(log));
  const app = await createApp(config);
  stopOnSignals(app, log);
  await app.listen(config.http.port, config.http.host);
  announce(app, config, log);
}

main().catch((error: unknown) => {
  // What stopped the start, once, without a stack: the message says what to do (a read-only DATA_DIR, a
  // directory in use, a store that cannot be reached).
  createStartupErrorLogger(levelFromEnvironment()).fatal(
    {
      context: 'Bootstrap',
      error: {
        type: error instanceof Error ? error.name : typeof error,
        message: describeError(error),
        ...(typeof (error as { code?: unknown })?.code === 'string'
          ? { code: (error as { code: string }).code }
          : {}),
      },
    },
    `ordertrail failed to start: ${describeError(error)}`,
  );
  process.exit(1);
});
