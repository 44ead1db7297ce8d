import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, type LoggerService } from '@nestjs/common';
import type { HookSpec } from '#osa/domain';
import { StageMetrics } from '#osa/observability';
import { LocalProcessRunner } from '#osa/runners';
import { DEFAULT_CONTAINER_OUTPUT_LIMITS } from '#osa/storage';
import { BatchRecords } from './batch-records.js';
import { HookExecutor } from './hook-executor.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const MB = 1024 * 1024;

/** Every line a Nest Logger writes while installed. */
class CollectingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: unknown; context?: unknown }> = [];
  log = (message: unknown, context?: unknown) => void this.lines.push({ level: 'log', message, context });
  warn = (message: unknown, context?: unknown) => void this.lines.push({ level: 'warn', message, context });
  error = (message: unknown, context?: unknown) => void this.lines.push({ level: 'error', message, context });
}

/**
 * A hook on the local runner that is killed for memory: the executor escalates, bisects, and says
 * so in a log line per step and in its counters and metrics.
 */
describe('HookExecutor: OOM escalation and bisection are visible', () => {
  let dataDir: string;
  const logs = new CollectingLogger();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'osa-hook-executor-'));
    Logger.overrideLogger(logs);
  });
  afterAll(async () => {
    Logger.overrideLogger(false);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs each memory escalation and bisection step with hook, run, batch, memory and records, and counts them', async () => {
    const runId = randomUUID();
    // r1 fits only at 256m; r2 needs more than the 256m ceiling on its own.
    const sizes: Record<string, number> = { r0: 0, r1: 150, r2: 400, r3: 0 };
    const input = path.join(dataDir, 'hook-input.jsonl');
    await writeFile(
      input,
      Object.entries(sizes)
        .map(([id, size_hint_mb]) => `${JSON.stringify({ id, size_hint_mb, metadata: {}, files: [] })}\n`)
        .join(''),
    );
    await mkdir(path.join(dataDir, 'files'), { recursive: true });
    const hook: HookSpec = {
      name: 'hog',
      command: ['node', path.join(REPO_ROOT, 'test/fixtures/size-hog.mjs')],
      limits: { memory: '128m', timeout_seconds: 60, cpu: '1' },
    };
    const metrics = new StageMetrics('hook-runner', undefined, { defaultMetrics: false });
    const runner = new LocalProcessRunner({ dataDir, cwd: REPO_ROOT, slots: 2, sampleIntervalMs: 20 });
    const executor = new HookExecutor(
      runner,
      dataDir,
      { memoryCeilingBytes: 256 * MB, retries: 1, maxBisectRuns: 8 },
      DEFAULT_CONTAINER_OUTPUT_LIMITS,
      metrics,
    );

    const checkpoint = await executor.execute({ runId, batchIndex: 3, attempt: 7, hook, filesDir: 'files', records: await BatchRecords.read(input) });

    // 128m: r0, then OOM on r1; 256m: r3, r1, then OOM on r2; r2 alone at 256m: OOM, errored.
    expect(checkpoint.counts()).toMatchObject({ passed: 3, errored: 1 });
    expect(executor.stats).toEqual({ containerRuns: 3, oomKills: 3, memoryEscalations: 1, bisectionRuns: 1 });

    const events = logs.lines.filter((l) => l.context === 'HookExecutor').map((l) => ({ level: l.level, ...(l.message as Record<string, unknown>) }));
    const place = { hook: 'hog', runId, batchIndex: 3, attempt: 7 };
    expect(events).toEqual([
      {
        level: 'warn',
        event: 'memory_escalation',
        ...place,
        memoryBefore: '128m',
        memoryAfter: '256m',
        records: 3,
        escalation: 1,
        msg: 'hook "hog" killed for memory at 128m; re-running 3 records at 256m',
      },
      {
        level: 'warn',
        event: 'bisection_step',
        ...place,
        memoryBefore: '256m',
        memoryAfter: '256m',
        records: 1,
        bisectionRun: 1,
        outcome: 'oom',
        msg: 'hook "hog" bisection run 1 on 1 records at 256m: oom',
      },
    ]);

    const text = await metrics.metrics();
    expect(text).toContain('osa_container_runs_total{stage="hooks",hook="hog",outcome="oom",service="hook-runner"} 3');
    expect(text).toContain('osa_memory_escalations_total{hook="hog",service="hook-runner"} 1');
    expect(text).toContain('osa_bisections_total{hook="hog",service="hook-runner"} 1');
  });
});
