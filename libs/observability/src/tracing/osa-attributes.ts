/** Attributes of the spans the pipeline itself starts (BullMQ's own are `bullmq.*`). */
export const OsaAttributes = {
  RunId: 'osa.run.id',
  BatchIndex: 'osa.batch.index',
  Stage: 'osa.stage',
  Hook: 'osa.hook',
  Attempt: 'osa.attempt',
  Step: 'osa.step',
  /** The image, or for the local runner the program the command runs. */
  Container: 'osa.container.name',
  MemoryBytes: 'osa.container.memory_bytes',
  /** `succeeded` or `failed`. */
  Outcome: 'osa.container.outcome',
  /** The failure's kind (`oom`, `timeout`, `hook_exit`, …) of a failed run. */
  ExitKind: 'osa.container.exit_kind',
  /** The runner found the container had already succeeded and reused its output. */
  Reused: 'osa.container.reused',
  LedgerOperation: 'osa.ledger.operation',
  Applied: 'osa.ledger.applied',
  RunTerminal: 'osa.ledger.run_terminal',
  Completed: 'osa.ledger.completed',
} as const;
