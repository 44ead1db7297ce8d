import { readdir } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from '#osa/testing';
import { locateMigrations } from './locate-migrations.js';
import { migrate } from './migrate.js';

describe(migrate.name, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('migrate');
  });
  afterAll(() => database.drop());

  it('applies every migration once; running it again, even concurrently, changes nothing', async () => {
    const files = (await readdir(locateMigrations())).filter((f) => f.endsWith('.sql')).sort();
    const again = await Promise.all([migrate(database.url, locateMigrations()), migrate(database.url, locateMigrations())]);
    for (const result of again) expect(result).toEqual({ applied: [], alreadyApplied: files });
    const { rows } = await database.pool.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(rows.map((r) => r.name)).toEqual(files);
  });

  it('keeps migration files append-only: numbered, in order, never renamed', async () => {
    // A schema change is a new file; editing an applied one would skip it where it already ran
    // (the seed review's srn→id rename gap).
    const files = (await readdir(locateMigrations())).filter((f) => f.endsWith('.sql')).sort();
    files.forEach((file, i) => expect(file).toMatch(new RegExp(`^${String(i + 1).padStart(4, '0')}_[a-z0-9_]+\\.sql$`)));
  });
});
