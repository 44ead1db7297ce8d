import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { records } from '#osa/testing';
import { fixture, PipelineHarness } from '../support/pipeline-harness.js';

/**
 * The container-output boundary end to end: hostile ingester and hook output through the
 * local runner, the stage services and the publisher's real Postgres inserts.
 */
describe('container output boundary (local runner, real Postgres)', () => {
  let harness: PipelineHarness;
  let scratch: string;
  const limits = { timeout_seconds: 60, memory: '512m' };

  beforeAll(async () => {
    // A small record limit, set the way an operator would: the services read it from the environment.
    harness = await PipelineHarness.start('container-output', {
      MAX_RECORD_BYTES: '200000',
      INGESTER_ATTEMPTS: '2',
      HOOK_ATTEMPTS: '2',
      PUBLISHER_ATTEMPTS: '2',
    });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'osa-container-output-'));
  });
  afterAll(async () => {
    await harness.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const runConvention = async (id: string, ingester: Record<string, unknown>, hook: Record<string, unknown> = { mode: 'unstorable' }) => {
    await harness.applyConvention({
      id,
      ingester: { command: ['node', fixture('hostile-output-ingester.mjs')], config: ingester, limits },
      hooks: [{ name: 'judge', command: ['node', fixture('hostile-output-hook.mjs')], config: hook, limits }],
    });
    return harness.waitForRun(await harness.runIdOf(await harness.startIngest({ conventionId: id })));
  };
  const issues = (runId: string) => harness.reads.listIssues(runId, { limit: 100 }).then((p) => p.items);
  const kinds = (runId: string) => harness.reads.issueCountsByKind(runId);
  const published = async (runId: string) =>
    (
      await harness.database.db.select({ sourceId: records.sourceId }).from(records).where(eq(records.runId, runId)).orderBy(asc(records.sourceId))
    ).map((r) => r.sourceId);

  it('publishes the rest of a batch whose records and hook outcomes hold values Postgres cannot store', async () => {
    const done = await runConvention('unstorable', { mode: 'unstorable' });
    expect(done).toMatchObject({
      status: 'completed',
      batchesIngested: 1,
      batchesPublished: 1,
      batchesFailed: 0,
      recordsSourced: 7,
      invalidCount: 6,
      publishedCount: 3,
    });
    expect(await published(done.id)).toEqual(['g1', 'g2', 'g3']);
    expect(await kinds(done.id)).toMatchObject({ unstorable_value: 5, oversized_record: 1, invalid_output: 4 });
    const reasons = (await issues(done.id)).map((i) => i.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'line 2: metadata.a.b: must not contain NUL characters or unpaired UTF-16 surrogates (Postgres cannot store them)',
        expect.stringContaining('line 6: metadata.a.a.a'),
        expect.stringMatching(/^line 7 is \d+ bytes, over the 200000-byte limit for one line$/),
        expect.stringMatching(/^features\.jsonl line \d: features\.0\.label: must not contain NUL/),
        'rejections.jsonl line 1: reason: must not contain NUL characters or unpaired UTF-16 surrogates (Postgres cannot store them)',
        expect.stringMatching(/^features\.jsonl line \d: line \d is \d+ bytes, over the 200000-byte limit for one line$/),
        expect.stringMatching(/^features\.jsonl line \d: features\.0(\.0)+: nests deeper than 64 levels$/),
      ]),
    );
  });

  it('does not hang on a records.jsonl that is a FIFO: the batch has an issue and the run completes', async () => {
    const done = await runConvention('fifo', { mode: 'fifo' });
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 0, recordsSourced: 0, publishedCount: 0 });
    expect((await issues(done.id)).map((i) => [i.kind, i.reason])).toEqual([
      ['refused_output_file', 'records.jsonl is a FIFO (named pipe): container output must be a regular file; it was not read'],
    ]);
  });

  it('records an issue when the ingester exits 0 without writing records.jsonl', async () => {
    const done = await runConvention('no-records', { mode: 'no-records' });
    expect(done).toMatchObject({ status: 'completed', recordsSourced: 0 });
    expect(await kinds(done.id)).toEqual({ no_records_file: 1 });
  });

  it('publishes no host file through a linked files directory, and hands no host file on as the session', async () => {
    const hostDir = path.join(scratch, 'etc');
    await mkdir(hostDir, { recursive: true });
    await writeFile(path.join(hostDir, 'passwd'), 'root:x:0:0\n');
    await writeFile(path.join(scratch, 'secret.json'), '{"token":"s3cret"}');
    const done = await runConvention('links', { mode: 'links', host_dir: hostDir, host_secret: path.join(scratch, 'secret.json') });
    expect(done).toMatchObject({ status: 'completed', batchesIngested: 1, recordsSourced: 1, invalidCount: 1, publishedCount: 1 });
    expect(await published(done.id)).toEqual(['g1']);
    const found = await issues(done.id);
    expect(found.find((i) => i.kind === 'invalid_file')).toMatchObject({ sourceId: 'host', reason: 'files directory host/ is a symbolic link' });
    expect(found.find((i) => i.kind === 'invalid_session')?.reason).toBe(
      'session.json is a symbolic link: container output must be a regular file; it was not read, so ingestion stops after this batch',
    );
    const [batch] = await harness.reads.batchRows(done.id);
    expect(batch!.nextSession).toBeNull();
  });

  it("does not read a hook's features.jsonl that is a link to a host file", async () => {
    const hostFile = path.join(scratch, 'host-features.jsonl');
    await writeFile(hostFile, '{"id":"g1","features":["stolen"]}\n{"id":"g2","features":["stolen"]}\n');
    const done = await runConvention('hook-link', { mode: 'plain' }, { mode: 'link', host_file: hostFile });
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 0, recordsSourced: 2, publishedCount: 0 });
    expect((await issues(done.id)).find((i) => i.kind === 'invalid_output')?.reason).toBe(
      'features.jsonl line 0: features.jsonl is a symbolic link: container output must be a regular file; it was not read',
    );
  });

  it("says so when a hook's features.jsonl is a dangling link (its records are not published)", async () => {
    const done = await runConvention('hook-dangling', { mode: 'plain' }, { mode: 'link', host_file: path.join(scratch, 'does-not-exist.jsonl') });
    expect(done).toMatchObject({ status: 'completed', batchesFailed: 0, recordsSourced: 2, publishedCount: 0 });
    expect((await issues(done.id)).find((i) => i.kind === 'invalid_output')?.reason).toBe(
      'features.jsonl line 0: features.jsonl is a symbolic link: container output must be a regular file; it was not read',
    );
  });
});
