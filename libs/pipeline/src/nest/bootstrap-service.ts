import 'reflect-metadata';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, ConfigError, loadConfig } from '#osa/config';
import { PinoLoggerService } from '#osa/observability';
import { locateMigrations, migrate } from '#osa/persistence';

export const DEFAULT_PORTS: Record<string, number> = {
  dashboard: 3000,
  'ingester-runner': 3001,
  'hook-runner': 3002,
  publisher: 3003,
};

/**
 * Starts one service as its own process: validates the environment (naming any bad variable),
 * applies migrations (idempotent), serves health on PORT and stops cleanly on SIGTERM. Resolves
 * the running application; a stage service then starts its StageWorkers.
 */
export async function bootstrapService(name: string, moduleFor: (config: AppConfig) => DynamicModule): Promise<INestApplication> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${name}: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  // JSON lines with fields (service, context, msg, …) for log collectors.
  const logger = new PinoLoggerService(name, config.logLevel);
  await migrate(config.databaseUrl, process.env.MIGRATIONS_DIR ?? locateMigrations());
  const app = await NestFactory.create(moduleFor(config), { logger });
  app.enableShutdownHooks();
  const port = config.port ?? DEFAULT_PORTS[name] ?? 3000;
  await app.listen(port, '0.0.0.0');
  logger.log({ msg: `${name} ready on :${port}`, port, runner: config.runner, queuePrefix: config.queuePrefix }, 'bootstrap');
  return app;
}
