import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Finds the repo's `migrations/` folder from this file, whether running from src or dist. */
export function locateMigrations(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(path.join(candidate, '0001_init.sql'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the migrations/ folder; set MIGRATIONS_DIR');
}
