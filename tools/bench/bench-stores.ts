import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { type DatabaseHandle, locateMigrations, migrate, openDatabase } from '#osa/persistence';

// The same servers (and variables) the test suite uses: a benchmark is a developer's run on this machine.
/** Postgres server the benchmarks create their databases on. */
export const BENCH_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Redis the benchmarks' queues live on. */
export const BENCH_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchDatabase extends DatabaseHandle {
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database of the benchmark's own, so it never touches a user's data. */
export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const name = `osa_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString(), locateMigrations());
  const handle = openDatabase(url.toString(), { max: 20, applicationName: `osa-bench-${label}` });
  return {
    ...handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      const admin = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A queue prefix of the benchmark's own. */
export function benchQueuePrefix(label: string): string {
  return `osabench-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under the prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(BENCH_REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
