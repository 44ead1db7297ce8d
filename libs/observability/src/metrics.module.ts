import { getQueueToken } from '@nestjs/bullmq';
import { type DynamicModule, type InjectionToken, Module } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ALL_QUEUES } from '#osa/queues';
import { MetricsController } from './metrics.controller.js';
import { type MetricsSources, StageMetrics } from './stage-metrics.js';

const QUEUE_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

/** What the run gauges read, at scrape time: the persistence layer's RunReadModel provides it. */
export interface RunMetricsSource {
  countActiveRuns(): Promise<number>;
  longestRunStallSeconds(): Promise<number>;
  longestBackpressureWaitSeconds(): Promise<number>;
}

/** What osa_ready reads; the pipeline's ReadinessCheck provides it under READINESS_SOURCE. */
export interface ReadinessSource {
  isReady(): Promise<boolean>;
}

export const READINESS_SOURCE = Symbol('ReadinessSource');

export function pipelineMetricsSources(
  queues: readonly Queue[],
  runs: RunMetricsSource,
  backpressureMaxWaitMs: number,
  readiness?: ReadinessSource,
): MetricsSources {
  return {
    ready: readiness && (() => readiness.isReady()),
    async queueDepth() {
      const rows: Array<{ queue: string; state: string; count: number }> = [];
      for (const queue of queues) {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) rows.push({ queue: queue.name, state, count: counts[state] ?? 0 });
      }
      return rows;
    },
    activeRuns: () => runs.countActiveRuns(),
    longestRunStallSeconds: () => runs.longestRunStallSeconds(),
    longestBackpressureWaitSeconds: () => runs.longestBackpressureWaitSeconds(),
    backpressureMaxWaitSeconds: backpressureMaxWaitMs / 1000,
  };
}

export interface MetricsModuleOptions {
  /** The token of the RunMetricsSource (the RunReadModel class, provided by PipelineInfrastructureModule). */
  runsSource: InjectionToken;
  /** BACKPRESSURE_MAX_WAIT_MS (the service's configuration), exported as osa_backpressure_max_wait_seconds. */
  backpressureMaxWaitMs: number;
  /**
   * Node process metrics (heap, event loop lag, …).
   * @defaultValue true
   */
  defaultMetrics?: boolean;
}

/**
 * `/metrics` for one service, with a registry of its own. Import it next to
 * PipelineInfrastructureModule (whose queues and run read model it reads); the stage workers report
 * every job attempt to its StageMetrics, which they require.
 */
@Module({})
export class MetricsModule {
  static forRoot(service: string, options: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      // Global: the stage modules count container runs on it without importing a module that is
      // configured per service.
      global: true,
      controllers: [MetricsController],
      providers: [
        {
          provide: StageMetrics,
          useFactory: (runs: RunMetricsSource, readiness: ReadinessSource | undefined, ...queues: Queue[]) =>
            new StageMetrics(service, pipelineMetricsSources(queues, runs, options.backpressureMaxWaitMs, readiness), {
              defaultMetrics: options.defaultMetrics,
            }),
          inject: [options.runsSource, { token: READINESS_SOURCE, optional: true }, ...ALL_QUEUES.map((name) => getQueueToken(name))],
        },
      ],
      exports: [StageMetrics],
    };
  }
}
