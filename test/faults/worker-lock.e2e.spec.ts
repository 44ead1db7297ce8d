import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { StageWorkers } from '#osa/pipeline';
import { JobId, QueueName } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { NestFactory } from '@nestjs/core';
import { HookRunnerModule } from '../../apps/hook-runner/src/hook-runner.module.js';
import { countingConvention, PipelineHarness } from '../support/pipeline-harness.js';

const HOOK_MS = 6000;

/**
 * The lock settings from the environment must be the ones the Worker runs with: BullMQ fixes its
 * lock renewal when the Worker is constructed. With a 2 s lock renewed on time, a hook step three
 * times longer than the lock stays with the worker that runs it, even with a second worker
 * waiting on the queue; renewed on the default 15 s schedule, the lock lapses, the stall checker
 * hands the job to the other worker and the hook runs twice.
 */
describe('a step longer than the lock', () => {
  let harness: PipelineHarness;
  let secondHookRunner: INestApplicationContext;
  let markerDir: string;

  beforeAll(async () => {
    markerDir = await mkdtemp(path.join(os.tmpdir(), 'osa-worker-lock-'));
    harness = await PipelineHarness.start('worker-lock', { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000', MAX_STALLED_COUNT: '5' });
    secondHookRunner = await NestFactory.createApplicationContext(HookRunnerModule.forRoot(harness.config), { logger: false });
    await secondHookRunner.init();
    secondHookRunner.get(StageWorkers).start();
  }, 60_000);
  afterAll(async () => {
    await secondHookRunner?.close();
    await harness?.stop();
    await rm(markerDir, { recursive: true, force: true });
  });

  it('runs exactly once with two workers on the queue', async () => {
    await harness.applyConvention(
      countingConvention('long-hook', { total: 10, page_size: 10 }, [{ name: 'flag', config: { sleep_ms: HOOK_MS, marker_dir: markerDir } }]),
    );
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'long-hook' }));
    // The lock the running step holds is the configured 2 s one, not BullMQ's 30 s default: a
    // worker that ignored the setting would also run the step once.
    await waitFor('the hook to start', async () => (await readdir(markerDir)).some((f) => f.startsWith(`hook-${runId}-0-`)), { timeoutMs: 30_000 });
    const redis = new Redis(harness.config.redisUrl);
    try {
      const lockTtlMs = await redis.pttl(`${harness.config.queuePrefix}:${QueueName.BatchReady}:${JobId.batchReady(runId, 0)}:lock`);
      expect(lockTtlMs).toBeGreaterThan(0);
      expect(lockTtlMs).toBeLessThanOrEqual(2000);
    } finally {
      redis.disconnect();
    }
    const run = await harness.waitForRun(runId, 60_000);
    expect(run).toMatchObject({ status: 'completed', publishedCount: 10, batchesFailed: 0 });
    const hookStarts = (await readdir(markerDir)).filter((f) => f.startsWith(`hook-${runId}-0-`));
    expect(hookStarts).toHaveLength(1);
  }, 90_000);
});
