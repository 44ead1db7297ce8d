import path from 'node:path';
import type { ContainerDirs } from '#osa/domain';

/**
 * Where each (run, batch, stage, attempt) keeps its files, relative to DATA_DIR. Every attempt
 * writes to a directory of its own, and the ledger records which attempt committed, so output a
 * killed container left half-written is never mistaken for a finished one. An ingester attempt
 * is numbered by the database, unique per start, so two starts of one batch (a job Redis lost
 * and the reconciler added again while the first start still ran) never share a directory.
 */
export const BatchLayout = {
  run: (runId: string) => path.join('runs', runId),
  batch: (runId: string, batchIndex: number) => path.join('runs', runId, `b${batchIndex}`),

  ingesterAttempt(runId: string, batchIndex: number, attempt: number) {
    return path.join(BatchLayout.batch(runId, batchIndex), 'ingester', `a${attempt}`);
  },
  ingesterDirs(runId: string, batchIndex: number, attempt: number): ContainerDirs {
    const root = BatchLayout.ingesterAttempt(runId, batchIndex, attempt);
    return { in: path.join(root, 'in'), out: path.join(root, 'out'), files: path.join(root, 'files') };
  },
  /** The normalized batch: records with their files, as the publisher reads them. */
  batchFile: (runId: string, batchIndex: number, attempt: number) =>
    path.join(BatchLayout.ingesterAttempt(runId, batchIndex, attempt), 'batch', 'records.jsonl'),
  /** What hooks read as $OSA_IN/records.jsonl. */
  hookInputFile: (runId: string, batchIndex: number, attempt: number) =>
    path.join(BatchLayout.ingesterAttempt(runId, batchIndex, attempt), 'batch', 'hook-input.jsonl'),

  hooksAttempt(runId: string, batchIndex: number, attempt: number) {
    return path.join(BatchLayout.batch(runId, batchIndex), 'hooks', `a${attempt}`);
  },
  hookDirs(runId: string, batchIndex: number, attempt: number, hook: string, filesDir: string): ContainerDirs {
    const root = path.join(BatchLayout.hooksAttempt(runId, batchIndex, attempt), hook);
    return { in: path.join(root, 'in'), out: path.join(root, 'out'), files: filesDir };
  },
  /** Records that passed every hook, with each hook's features: what the publisher publishes. */
  passedFile: (runId: string, batchIndex: number, attempt: number) => path.join(BatchLayout.hooksAttempt(runId, batchIndex, attempt), 'passed.jsonl'),
};
