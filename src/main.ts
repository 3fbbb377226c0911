import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/app-config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.example for every variable.\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen(config.http.port, config.http.host);
  Logger.log(`ordertrail listening on http://${config.http.host}:${config.http.port}`, 'Bootstrap');
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ordertrail failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
