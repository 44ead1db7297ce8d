import { appendFile, copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

  it('refuses a migration that was edited after it was applied (a renamed column would silently not be renamed where it ran)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'osa-migrations-'));
    for (const file of await readdir(locateMigrations())) await copyFile(path.join(locateMigrations(), file), path.join(dir, file));
    await appendFile(path.join(dir, '0001_init.sql'), '\nALTER TABLE ingest_runs RENAME COLUMN id TO srn;\n');
    await expect(migrate(database.url, dir)).rejects.toThrow('migration 0001_init.sql was changed after it was applied; add a new migration instead');
    await rm(dir, { recursive: true });
  });
});
