import { z } from 'zod';

/** One line of an ingester's `$OSA_OUT/records.jsonl` (DESIGN.md §5). */
export const ingestedRecordSchema = z.object({
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
});
export type IngestedRecord = z.output<typeof ingestedRecordSchema>;

/** One line of the batch file hooks read as `$OSA_IN/records.jsonl`. */
export interface HookInputRecord {
  id: string;
  metadata: Record<string, unknown>;
  size_hint_mb: number;
}

export const hookFeatureLineSchema = z.object({ id: z.string().min(1), features: z.array(z.unknown()) });
export const hookRejectionLineSchema = z.object({ id: z.string().min(1), reason: z.string() });
export const hookErrorLineSchema = z.object({
  id: z.string().min(1),
  error: z.string(),
  retryable: z.boolean().default(false),
});

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
}

export function emptyHookCounts(): HookCounts {
  return { passed: 0, rejected: 0, errored: 0, missing: 0, invalid: 0 };
}
