import 'reflect-metadata';
import { Writable } from 'node:stream';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import type { DynamicModule, InjectionToken } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { type AppConfig, loadConfig } from '#osa/config';
import { PinoLoggerService } from '#osa/observability';
import {
  APP_CONFIG,
  ExhaustionService,
  IngestBatchService,
  provideStageWorkers,
  PublishBatchService,
  ReconcilerService,
  ReplayService,
  RunHooksService,
  StageWorkers,
  StartIngestService,
} from '#osa/pipeline';
import { QueueName } from '#osa/queues';
import { CONTAINER_RUNNER, type ContainerRunner } from '#osa/runners';
import { deleteRedisPrefix, TEST_REDIS_URL, testQueuePrefix } from '#osa/testing';
import { DashboardModule } from '../../apps/dashboard/src/dashboard.module.js';
import { loadDashboardEnv } from '../../apps/dashboard/src/dashboard-env.js';
import { HookRunnerModule } from '../../apps/hook-runner/src/hook-runner.module.js';
import { IngesterRunnerModule } from '../../apps/ingester-runner/src/ingester-runner.module.js';
import { HooksCompletedProcessor } from '../../apps/publisher/src/hooks-completed.processor.js';
import { PublisherModule } from '../../apps/publisher/src/publisher.module.js';

const PREFIX = testQueuePrefix('service-modules');

/** Nothing here queries Postgres: building the modules only creates the pool. */
function config(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/osa_service_modules_never_queried',
    QUEUE_PREFIX: PREFIX,
    LOG_LEVEL: 'silent',
    ...env,
  });
}

// An API server nothing listens on: the Kubernetes runner is built, and its calls fail.
const KUBERNETES = { RUNNER: 'kubernetes', K8S_API_SERVER: 'http://127.0.0.1:9' };

const SERVICES: Record<string, (c: AppConfig) => DynamicModule> = {
  'ingester-runner': (c) => IngesterRunnerModule.forRoot(c),
  'hook-runner': (c) => HookRunnerModule.forRoot(c),
  publisher: (c) => PublisherModule.forRoot(c),
  dashboard: (c) =>
    DashboardModule.forRoot(
      c,
      loadDashboardEnv({ DASHBOARD_USER: 'operator', DASHBOARD_PASSWORD: 'correct horse battery', API_TOKEN: 'x'.repeat(24) }),
    ),
};

function has(app: TestingModule, token: InjectionToken): boolean {
  try {
    app.get(token, { strict: false });
    return true;
  } catch {
    return false;
  }
}

/** What each service's Nest module builds: its own stage, and a container runner only where containers run. */
describe('the services’ Nest modules', () => {
  const opened: TestingModule[] = [];
  async function compile(module: DynamicModule, logger?: PinoLoggerService): Promise<TestingModule> {
    const builder = Test.createTestingModule({ imports: [module] });
    if (logger) builder.setLogger(logger);
    const app = await builder.compile();
    opened.push(app);
    return app;
  }

  afterEach(async () => {
    for (const app of opened.splice(0)) await app.close();
  });
  afterAll(() => deleteRedisPrefix(PREFIX));

  it.each([
    [
      'ingester-runner',
      { runner: true, services: [StartIngestService, IngestBatchService, ReconcilerService], queues: [QueueName.StartIngest, QueueName.NextBatch] },
    ],
    ['hook-runner', { runner: true, services: [RunHooksService], queues: [QueueName.BatchReady] }],
    ['publisher', { runner: false, services: [PublishBatchService], queues: [QueueName.HooksCompleted] }],
    ['dashboard', { runner: false, services: [ReplayService], queues: undefined }],
  ])('%s builds its own stage and nothing else', async (name, expected) => {
    const app = await compile(SERVICES[name]!(config(KUBERNETES)));
    const all = [StartIngestService, IngestBatchService, ReconcilerService, RunHooksService, PublishBatchService, ReplayService];
    expect(all.filter((service) => has(app, service)).map((s) => s.name)).toEqual(expected.services.map((s) => s.name));
    expect(has(app, CONTAINER_RUNNER)).toBe(expected.runner);
    if (expected.runner) expect(app.get<ContainerRunner>(CONTAINER_RUNNER, { strict: false }).constructor.name).toBe('KubernetesJobRunner');
    expect(has(app, StageWorkers) ? app.get(StageWorkers, { strict: false }).queueNames : undefined).toEqual(expected.queues);
  });

  // A K8S_ setting the Kubernetes runner refuses stops a service that builds one (building it
  // parses them); the publisher and the dashboard start, because they never build it.
  it.each(['publisher', 'dashboard'])('%s starts with RUNNER=kubernetes and an invalid K8S_NAMESPACE', async (name) => {
    await expect(compile(SERVICES[name]!(config({ ...KUBERNETES, K8S_NAMESPACE: 'Not_A_Namespace' })))).resolves.toBeDefined();
  });

  it('writes the Kubernetes runner’s warnings as the service’s JSON log lines', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const logger = new PinoLoggerService('hook-runner', 'warn', destination);
    const app = await compile(HookRunnerModule.forRoot(config(KUBERNETES)), logger);
    // The pending-pod listing fails (nothing listens): not knowing is reported, not pressure.
    await expect(app.get<ContainerRunner>(CONTAINER_RUNNER, { strict: false }).capacity()).resolves.toEqual({ available: true });
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.context === 'KubernetesJobRunner');
    expect(warnings).toEqual([
      expect.objectContaining({
        level: 'warn',
        service: 'hook-runner',
        msg: 'Kubernetes capacity check failed; assuming capacity is available',
        error: expect.stringMatching(/ECONNREFUSED|connect/),
      }),
    ]);
  });

  it('does not start a stage service without the metrics module', async () => {
    // Only what StageWorkers and the processor are given is provided: the module fails on what is missing.
    const withoutMetrics = Test.createTestingModule({
      providers: [
        { provide: APP_CONFIG, useValue: config() },
        { provide: ExhaustionService, useValue: {} },
        { provide: PublishBatchService, useValue: {} },
        HooksCompletedProcessor,
        provideStageWorkers(HooksCompletedProcessor),
      ],
    });
    await expect(withoutMetrics.compile()).rejects.toThrow(/the argument StageMetrics at index \[1\] is available/);
  });
});
