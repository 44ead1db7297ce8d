import { SCRATCH_REDIS_URL, scratchQueuePrefix } from '../../tools/scratch/scratch-stores.js';

export { deleteRedisPrefix } from '../../tools/scratch/scratch-stores.js';
export const TEST_REDIS_URL = SCRATCH_REDIS_URL;

/** A queue prefix of its own per test; delete every key under it afterwards with deleteRedisPrefix. */
export function testQueuePrefix(label = 'test'): string {
  return scratchQueuePrefix('osatest', label);
}
