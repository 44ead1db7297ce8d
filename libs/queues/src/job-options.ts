import type { JobsOptions } from 'bullmq';
import { BACKOFF_TYPE } from './retry-policy.js';

/** Completed jobs are kept an hour (at most 1,000); failed ones a week, for operators and the reconciler. */
export const RETENTION = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
} as const;

/** Every option explicit: id for dedup, attempts, capped backoff, retention. */
export function stageJobOptions(jobId: string, attempts: number): JobsOptions {
  return { jobId, attempts, backoff: { type: BACKOFF_TYPE }, ...RETENTION };
}
