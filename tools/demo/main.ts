import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '#osa/config';
import { openDatabase } from '#osa/persistence';
import { applyConventionCommand, awaitRunId, followRun, migrateCommand, publishStart, statusCommand } from '../cli/commands.js';
import { checkServices } from './check-services.js';
import { type ServiceProcess, startService, stopService } from './service-processes.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const EXAMPLE = path.join(REPO, 'tools/examples/geo');

/**
 * `npm run demo`: a complete ingest of the bundled example on this machine's Redis and
 * Postgres, with the three stage services as separate processes. The demo keeps to a database
 * (`osa_demo`, recreated each time) and a queue prefix of its own, so it never touches other data.
 */
async function main(): Promise<number> {
  const started = Date.now();
  const demoDatabase = process.env.DEMO_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/osa_demo';
  const env = {
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATABASE_URL: demoDatabase,
    DATA_DIR: path.join(REPO, 'data/demo'),
    QUEUE_PREFIX: `osa-demo-${Date.now()}`,
    LOG_LEVEL: 'warn',
    PORT: '0',
  };
  const config = loadConfig(env);

  const problems = await checkServices(config.redisUrl, config.databaseUrl);
  if (problems.length) {
    console.error(`The demo needs Redis and PostgreSQL:\n  - ${problems.join('\n  - ')}`);
    return 1;
  }
  await recreateDatabase(config.databaseUrl);
  await rm(config.dataDir, { recursive: true, force: true });
  const logDir = path.join(config.dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  console.log(await migrateCommand(config));

  const database = openDatabase(config.databaseUrl, { max: 2, applicationName: 'osa-demo' });
  const services: ServiceProcess[] = [];
  try {
    console.log(await applyConventionCommand(database.db, path.join(EXAMPLE, 'convention.yaml')));
    for (const name of ['ingester-runner', 'hook-runner', 'publisher']) services.push(startService(REPO, name, env, logDir));
    console.log(`started ingester-runner, hook-runner and publisher (logs in ${path.relative(REPO, logDir)}/)`);
    services.forEach(
      (s) => void s.exited.then((code) => code !== 0 && code !== null && console.error(`${s.name} exited with code ${code}; see its log`)),
    );

    const jobId = await publishStart(config, { conventionId: 'geo-samples' });
    console.log(`published start-ingest job ${jobId}`);
    const runId = await awaitRunId(config, jobId, 60_000);
    console.log(`run ${runId} started`);
    const run = await followRun(database.db, runId, process.stdout, 15 * 60_000);
    console.log(`\n${(await statusCommand(database.db, runId))!.text}`);
    console.log(`demo took ${((Date.now() - started) / 1000).toFixed(1)}s`);

    const expectedFile = path.join(EXAMPLE, 'expected.json');
    if (existsSync(expectedFile)) {
      const expected = JSON.parse(await readFile(expectedFile, 'utf8')) as { records: number; published: number };
      const matches = run.counters.recordsSourced === expected.records && run.counters.published === expected.published;
      console.log(
        matches
          ? `counts match the example dataset (${expected.records} records, ${expected.published} published)`
          : `counts do NOT match the example dataset: expected ${expected.records} sourced / ${expected.published} published`,
      );
      if (!matches) return 1;
    }
    return run.status === 'completed' ? 0 : 1;
  } finally {
    await Promise.all(services.map((s) => stopService(s)));
    await database.close();
  }
}

async function recreateDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`demo failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
