/**
 * Why one record did not pass, or why one line of a container's output could not be read: what a
 * stage reports for a batch and the run ledger keeps with the batch's transition.
 */
export interface RecordIssue {
  runId: string;
  batchIndex: number;
  /** The stage that found it: `ingester` or `hooks`. */
  stage: string;
  /** The hook that found it (hooks stage only). */
  hook?: string | null;
  /** The record's id, when the line named one. */
  sourceId?: string | null;
  /** 1-based line of the output file, when the issue belongs to a line. */
  lineNumber?: number | null;
  /** Machine-readable kind: `rejected`, `errored`, `missing`, `malformed_line`, `issues_truncated`, … */
  kind: string;
  /** The reason, for people. */
  reason: string;
}
