import {
  ingestBatchPublished,
  ingestCompleted,
  INGEST_EVENT_TYPES,
  ingestRunReplayed,
  ingestRunStarted,
  isIngestEventType,
} from './ingest-events.js';

const runId = '3f0c2a8e-8f61-4c39-9a57-2d1b1f0e7a11';

describe('ingest events', () => {
  it('derive their ids from the state change, so a repeated change yields the same event', () => {
    expect(ingestRunStarted({ runId, conventionId: 'c', batchSize: 10, limit: null })).toEqual({
      type: 'IngestRunStarted',
      eventId: `run-started-${runId}`,
      runId,
      payload: { runId, conventionId: 'c', batchSize: 10, limit: null },
    });
    expect(ingestBatchPublished({ runId, conventionId: 'c', batchIndex: 3, published: 7 }).eventId).toBe(`batch-published-${runId}-3`);
    expect(ingestRunReplayed({ runId, conventionId: 'c', replay: 2, reopened: true, override: null, batches: [] }).eventId).toBe(
      `run-replayed-${runId}-2`,
    );
  });

  it('give a replayed run that completes again an IngestCompleted id of its own', () => {
    const data = {
      runId,
      conventionId: 'c',
      batchesIngested: 2,
      batchesPublished: 1,
      batchesFailed: 1,
      published: 5,
      failureReason: 'x',
      failureKind: 'hook_exit',
    };
    expect(ingestCompleted(data, 1).eventId).toBe(`run-completed-${runId}`);
    expect(ingestCompleted(data, 2).eventId).toBe(`run-completed-${runId}-2`);
    expect(ingestCompleted(data, 3).payload).toBe(data);
  });

  it('name exactly the four types', () => {
    expect([...INGEST_EVENT_TYPES].sort()).toEqual(['IngestBatchPublished', 'IngestCompleted', 'IngestRunReplayed', 'IngestRunStarted']);
    expect(isIngestEventType('IngestCompleted')).toBe(true);
    expect(isIngestEventType('IngestFailed')).toBe(false);
  });
});
