import { z } from 'zod';
import { conventionIdSchema, ErrorKind, formatIssues, type IngestEventData, type IngestEventType, PermanentError, runIdSchema } from '#osa/domain';

/** `start-ingest`: published by users (any BullMQ client, the CLI, the HTTP API). */
export const startIngestPayloadSchema = z
  .object({
    conventionId: conventionIdSchema,
    batchSize: z.number().int().positive().max(1_000_000).optional(),
    limit: z.number().int().positive().optional(),
  })
  .strict();
export type StartIngestPayload = z.output<typeof startIngestPayloadSchema>;

/** Every stage job after start: the batch index comes from the job, never from a counter. */
export const batchJobPayloadSchema = z
  .object({
    runId: runIdSchema,
    batchIndex: z.number().int().min(0),
    /** Backpressure bookkeeping of a deferred next-batch job (kept with job.updateData). */
    deferrals: z.number().int().min(0).optional(),
    /** Epoch ms when the wait that BACKPRESSURE_MAX_WAIT_MS bounds began (the failure breaker's own pause does not start it). */
    waitingSince: z.number().int().optional(),
    /** Epoch ms when the pull was first held, by any signal. */
    heldSince: z.number().int().optional(),
  })
  .strict();
export type BatchJobPayload = z.output<typeof batchJobPayloadSchema>;

/**
 * An `ingest-events` job: the outbox row, relayed with its event id as job id (and its type as
 * job name). `type` decides the shape of `data`; README.md ("Events") lists them.
 */
export type IngestEventPayload = {
  [T in IngestEventType]: { eventId: string; type: T; runId: string; occurredAt: string; data: IngestEventData[T] };
}[IngestEventType];

/** Parses a job payload at the boundary; a bad one is a permanent, explained failure. */
export function parsePayload<S extends z.ZodType>(schema: S, data: unknown, queue: string): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new PermanentError(`invalid ${queue} payload: ${formatIssues(result.error.issues).join('; ')}`, ErrorKind.InvalidPayload);
  }
  return result.data;
}
