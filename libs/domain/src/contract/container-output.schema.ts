import { z } from 'zod';
import { storableLine } from './storable-output.js';

/**
 * One line of an ingester's `$OSA_OUT/records.jsonl`. Every value must be one the archive can
 * store (see {@link storableLine}): a record that cannot be published is refused alone, here,
 * instead of failing its whole batch at the publisher.
 */
export const ingestedRecordSchema = storableLine(
  z.object({
    source_id: z
      .string()
      .min(1)
      .max(512)
      .refine((v) => !/[\u0000-\u001f]/.test(v), 'must not contain control characters'),
    metadata: z.record(z.string(), z.unknown()).default({}),
    files: z
      .array(
        z.object({
          name: z.string().min(1),
          relative_path: z.string().min(1),
          size_mb: z.number().nonnegative().optional(),
        }),
      )
      .default([]),
  }),
);
export type IngestedRecord = z.output<typeof ingestedRecordSchema>;

/** One line of the batch file hooks read as `$OSA_IN/records.jsonl`. */
export interface HookInputRecord {
  id: string;
  metadata: Record<string, unknown>;
  size_hint_mb: number;
}

/** Hook outcome lines: checked like records, since features, reasons and errors are stored too. */
export const hookFeatureLineSchema = storableLine(z.object({ id: z.string().min(1), features: z.array(z.unknown()) }));
export const hookRejectionLineSchema = storableLine(z.object({ id: z.string().min(1), reason: z.string() }));
export const hookErrorLineSchema = storableLine(
  z.object({
    id: z.string().min(1),
    error: z.string(),
    retryable: z.boolean().default(false),
  }),
);

export const HookOutcome = {
  Passed: 'passed',
  Rejected: 'rejected',
  Errored: 'errored',
  Missing: 'missing',
} as const;
export type HookOutcome = (typeof HookOutcome)[keyof typeof HookOutcome];

/** Per-hook outcome counts kept on the batch ledger row. */
export interface HookCounts {
  passed: number;
  rejected: number;
  errored: number;
  missing: number;
  /** Output lines that did not parse or named an id outside the batch. */
  invalid: number;
  /**
   * What the hooks step that committed the batch spent in containers: every run (OOM re-runs and
   * bisection parts included), those killed for memory, re-runs with doubled memory, and runs on
   * a part of the batch at the memory ceiling. Absent on batches hooked before they were kept.
   */
  containerRuns?: number;
  oomKills?: number;
  memoryEscalations?: number;
  bisectionRuns?: number;
}

export function emptyHookCounts(): HookCounts {
  return { passed: 0, rejected: 0, errored: 0, missing: 0, invalid: 0 };
}
