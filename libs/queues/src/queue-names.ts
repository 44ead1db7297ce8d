/** Every queue of the pipeline (docs/architecture.md, "The pipeline"). Queue names may not contain ":". */
export const QueueName = {
  StartIngest: 'start-ingest',
  NextBatch: 'ingest-next-batch',
  BatchReady: 'ingest-batch-ready',
  HooksCompleted: 'ingest-hooks-completed',
  Events: 'ingest-events',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);

/** Job names, so a handler is found by grepping its name. */
export const JobName = {
  StartIngest: 'start-ingest',
  NextBatch: 'next-batch',
  BatchReady: 'batch-ready',
  HooksCompleted: 'hooks-completed',
} as const;
