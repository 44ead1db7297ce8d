import 'reflect-metadata';
import { type DynamicModule, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, ConfigError, loadConfig } from '#osa/config';
import { locateMigrations, migrate } from '#osa/persistence';

export const DEFAULT_PORTS: Record<string, number> = {
  dashboard: 3000,
  'ingester-runner': 3001,
  'hook-runner': 3002,
  publisher: 3003,
};

/**
 * Starts one service as its own process: validates the environment (naming any bad variable),
 * applies migrations (idempotent), serves health on PORT and stops cleanly on SIGTERM.
 */
export async function bootstrapService(name: string, moduleFor: (config: AppConfig) => DynamicModule): Promise<void> {
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
  const logger = new Logger(name);
  await migrate(config.databaseUrl, process.env.MIGRATIONS_DIR ?? locateMigrations());
  const app = await NestFactory.create(moduleFor(config), { logger: nestLogLevels(config.logLevel) });
  app.enableShutdownHooks();
  const port = config.port ?? DEFAULT_PORTS[name] ?? 3000;
  await app.listen(port, '0.0.0.0');
  logger.log(`${name} ready on :${port} (runner ${config.runner}, queue prefix "${config.queuePrefix}")`);
}

function nestLogLevels(level: AppConfig['logLevel']): Array<'error' | 'warn' | 'log' | 'debug' | 'verbose'> | false {
  const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  const cut = { fatal: 1, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: 0 }[level];
  return cut === 0 ? false : order.slice(0, cut);
}
