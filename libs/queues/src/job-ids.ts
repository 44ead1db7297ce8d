/**
 * Deterministic job ids, from `(runId, batchIndex)` carried by the job, never read from a counter:
 * a repeated step re-adds the same id and
 * BullMQ drops the duplicate. Ids may not contain ":" nor be all digits.
 */
export const JobId = {
  nextBatch: (runId: string, batchIndex: number) => `next-${runId}-${batchIndex}`,
  batchReady: (runId: string, batchIndex: number) => `ready-${runId}-${batchIndex}`,
  hooksCompleted: (runId: string, batchIndex: number) => `hooked-${runId}-${batchIndex}`,
};
