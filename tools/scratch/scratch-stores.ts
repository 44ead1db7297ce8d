import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { type DatabaseHandle, locateMigrations, migrate, openDatabase } from '#osa/persistence';

/**
 * Scratch databases and queue prefixes on a developer's own servers, for the test suite and the
 * benchmarks: each run gets stores of its own, so runs go side by side and never touch a user's data.
 */

/** Postgres server scratch databases are created on. */
export const SCRATCH_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Redis the scratch queues live on. */
export const SCRATCH_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ScratchDatabase extends DatabaseHandle {
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database named after `label`; its connections say `applicationName`. */
export async function createScratchDatabase(label: string, applicationName: string): Promise<ScratchDatabase> {
  const name = `osa_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = new URL(SCRATCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString(), locateMigrations());
  const handle = openDatabase(url.toString(), { max: 20, applicationName });
  return {
    ...handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      const admin = new pg.Client({ connectionString: SCRATCH_POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A queue prefix of its own, e.g. `osatest-<label>-<random>`. */
export function scratchQueuePrefix(kind: 'osatest' | 'osabench', label: string): string {
  return `${kind}-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under the prefix. */
export async function deleteRedisPrefix(prefix: string, url = SCRATCH_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
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
