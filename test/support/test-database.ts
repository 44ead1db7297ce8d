import { createScratchDatabase, SCRATCH_POSTGRES_URL, type ScratchDatabase } from '../../tools/scratch/scratch-stores.js';

export const TEST_POSTGRES_URL = SCRATCH_POSTGRES_URL;
export type TestDatabase = ScratchDatabase;

/** A fresh, migrated database of its own, so test files run side by side and never touch a user's data. */
export function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  return createScratchDatabase(label, `osa-test-${label}`);
}
