import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type DatabaseHandle, locateMigrations, migrate, openDatabase } from '#osa/persistence';

export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase extends DatabaseHandle {
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own, so test files run side by side and never touch a user's data. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `osa_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString(), locateMigrations());
  const handle = openDatabase(url.toString(), { max: 20, applicationName: `osa-test-${label}` });
  return {
    ...handle,
    url: url.toString(),
    async drop() {
      await handle.close();
      const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
