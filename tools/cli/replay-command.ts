import { Queue } from 'bullmq';
import type { AppConfig } from '#osa/config';
import { type Database, OutboxRepository, type ReplayRequest, RunLedger, RunReadModel } from '#osa/persistence';
import { JobProducer, OutboxRelay, type QueueSet, type ReplayResult, ReplayService } from '#osa/pipeline';
import { ALL_QUEUES, QueueName, redisConnection } from '#osa/queues';

/** Replays a run's failed batches the way `POST /api/ingestions/:id/replay` does. */
export async function replayCommand(
  config: AppConfig,
  db: Database,
  request: ReplayRequest,
): Promise<{ result: ReplayResult; text: string; ok: boolean }> {
  const connection = redisConnection(config.redisUrl);
  const queues = Object.fromEntries(ALL_QUEUES.map((name) => [name, new Queue(name, { connection, prefix: config.queuePrefix })])) as QueueSet;
  try {
    const relay = new OutboxRelay(db, new OutboxRepository(), queues[QueueName.Events], config.eventsRetentionHours);
    const result = await new ReplayService(new RunLedger(db), new RunReadModel(db), new JobProducer(queues, config), relay).replay(request);
    return { result, text: describeReplay(request.runId, result), ok: result.outcome === 'replayed' };
  } finally {
    await Promise.all(Object.values(queues).map((q) => q.close()));
  }
}

function describeReplay(runId: string, result: ReplayResult): string {
  const skipped = (list: Array<{ batchIndex: number; reason: string }>) => list.map((s) => `  batch ${s.batchIndex} skipped: ${s.reason}`);
  switch (result.outcome) {
    case 'replayed':
      return [
        `run ${runId}: replay ${result.replay} queued ${result.batches.length} batch(es)${result.reopened ? ' (run reopened)' : ''}`,
        ...(result.requeued ?? []).map((r) => `  batch ${r.batchIndex} -> ${r.queue}`),
        ...skipped(result.skipped),
      ].join('\n');
    case 'not-found':
      return `no run ${runId}`;
    case 'nothing-to-replay':
      return [`run ${runId} has no failed batch that can be replayed`, ...skipped(result.skipped)].join('\n');
    case 'active-run-exists':
      return `run ${runId} cannot be reopened: its convention has another active run${result.activeRunId ? ` (${result.activeRunId})` : ''}`;
    case 'invalid-override':
      return `invalid override:\n  - ${result.problems.join('\n  - ')}`;
  }
}
