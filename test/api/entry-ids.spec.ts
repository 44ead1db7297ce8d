import { randomUUID } from 'node:crypto';
import { ErrorKind } from '#osa/domain';
import { JobProducer } from '#osa/pipeline';
import { QueueName } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { PipelineHarness } from '../support/pipeline-harness.js';
import { DashboardApp } from './dashboard-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const NUL_ID = 'geo\u0000samples';
const LONG_ID = 'x'.repeat(100_000);

/**
 * Convention ids and run ids are checked where they enter (HTTP body, query and path, queue
 * payloads): a hostile one is a 400 or a permanent invalid_payload failure naming the field,
 * never a 500 or a retried `unexpected` job, and the answer does not echo it.
 */
describe('ids at every entry', () => {
  let harness: PipelineHarness;
  let dashboard: DashboardApp;

  beforeAll(async () => {
    harness = await PipelineHarness.start('entry-ids', {}, ['ingester']);
    dashboard = await DashboardApp.start(harness.config);
    await harness.applyConvention({ id: 'known', ingester: { command: ['true'] } });
  });
  afterAll(async () => {
    await dashboard?.stop();
    await harness?.stop();
  });

  const answer = async (res: Response) => ({ status: res.status, body: (await res.json()) as Json });
  const fields = (body: Json) => (body.issues as Array<{ field: string }>).map((i) => i.field);

  describe('HTTP API', () => {
    it.each([
      ['a NUL', NUL_ID, 'must be 1-40 lowercase letters'],
      ['100,000 characters', LONG_ID, 'must be at most 40 characters'],
    ])('answers 400 naming conventionId to a start request whose id has %s', async (_label, conventionId, message) => {
      const { status, body } = await answer(await dashboard.api('/api/ingestions', { method: 'POST', json: { conventionId } }));
      expect(status).toBe(400);
      expect(fields(body)).toEqual(['conventionId']);
      expect(body.message).toContain(message);
      expect(JSON.stringify(body).length).toBeLessThan(1000);
    });

    it('answers 400 naming the query parameter to a run listing filtered by a NUL or overlong convention', async () => {
      for (const convention of [NUL_ID, LONG_ID.slice(0, 5000)]) {
        const { status, body } = await answer(await dashboard.api(`/api/ingestions?convention=${encodeURIComponent(convention)}`));
        expect(status).toBe(400);
        expect(fields(body)).toEqual(['convention']);
      }
    });

    it('answers 400 naming the path id to GET and PUT of a convention whose id has a NUL', async () => {
      const path = `/api/conventions/${encodeURIComponent(NUL_ID)}`;
      const get = await answer(await dashboard.api(path));
      expect(get.status).toBe(400);
      expect(fields(get.body)).toEqual(['id']);
      const put = await answer(await dashboard.api(path, { method: 'PUT', json: { id: 'known', ingester: { command: ['true'] } } }));
      expect(put.status).toBe(400);
      expect(fields(put.body)).toEqual(['id']);
    });

    it('answers 400 to a convention document whose config a container could not receive as written', async () => {
      const document = '{"id": "proto", "ingester": {"command": ["true"], "config": {"__proto__": {"admin": true}}}}';
      const res = await dashboard.api('/api/conventions/proto', { method: 'PUT', body: document, headers: { 'content-type': 'application/json' } });
      const { status, body } = await answer(res);
      expect(status).toBe(400);
      expect(fields(body)).toEqual(['ingester.config.__proto__']);
    });

    it('answers 400 naming the field to a replay whose hook name has a NUL, and to a run id that is no UUID', async () => {
      const replay = await answer(await dashboard.api(`/api/ingestions/${randomUUID()}/replay`, { method: 'POST', json: { hook: 'h\u0000' } }));
      expect(replay.status).toBe(400);
      expect(fields(replay.body)).toEqual(['hook']);
      const card = await answer(await dashboard.api(`/api/ingestions/${encodeURIComponent('a\u0000')}`));
      expect(card.status).toBe(400);
      expect(fields(card.body)).toEqual(['id']);
    });
  });

  describe('queue payloads', () => {
    const startJobFailure = async (data: unknown): Promise<string> =>
      harness.runIdOf(await harness.startIngest(data)).then(
        () => 'the job completed',
        (err: Error) => err.message,
      );

    it.each([
      ['a NUL', NUL_ID, 'must be 1-40 lowercase letters'],
      ['100,000 characters', LONG_ID, 'must be at most 40 characters'],
    ])('fails a start-ingest job whose conventionId has %s at once as invalid_payload, naming the field', async (_label, conventionId, message) => {
      const reason = await startJobFailure({ conventionId });
      expect(reason).toMatch(new RegExp(`^\\[${ErrorKind.InvalidPayload}\\] invalid start-ingest payload: conventionId: `));
      expect(reason).toContain(message);
      expect(reason.length).toBeLessThan(300);
    });

    it('fails a next-batch job whose runId is no UUID at once as invalid_payload, naming the field', async () => {
      const queue = harness.get('ingester', JobProducer).queues[QueueName.NextBatch];
      const job = await queue.add('stray', { runId: 'run\u0000', batchIndex: 0 }, { attempts: 3, removeOnFail: false });
      const failed = await waitFor('the stray job to fail', async () => ((await job.getState()) === 'failed' ? queue.getJob(job.id!) : undefined));
      expect(failed.failedReason).toMatch(
        new RegExp(`^\\[${ErrorKind.InvalidPayload}\\] invalid ingest-next-batch payload: runId: must be a run id`),
      );
      expect(failed.attemptsMade).toBe(1);
    });
  });
});
