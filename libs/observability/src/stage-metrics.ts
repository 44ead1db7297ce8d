import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundedLabel } from './bounded-label.js';
import type { ContainerRunObserver, ContainerStage } from './container-run-observer.js';

/** What the scrape-time gauges read: queue depth by state, active runs and how long the stalest has gone without progress. */
export interface MetricsSources {
  queueDepth(): Promise<Array<{ queue: string; state: string; count: number }>>;
  activeRuns(): Promise<number>;
  /** Seconds since the ledger last recorded progress for the active run that has gone longest without; 0 with no active run. */
  longestRunStallSeconds(): Promise<number>;
  /** Seconds the longest current backpressure wait has lasted since its pull was first deferred; 0 when no pull waits. */
  longestBackpressureWaitSeconds(): Promise<number>;
  /** BACKPRESSURE_MAX_WAIT_MS in seconds: a wait that reaches it fails the ingestion. */
  backpressureMaxWaitSeconds: number;
  /** The service's readiness (what /health/ready answers); without it no osa_ready is exported. */
  ready?: () => Promise<boolean>;
}

/**
 * The Prometheus metrics of one service: a registry of its own (several services may share a
 * process in tests), stage job counters and durations fed by StageProcessor, and gauges that
 * are read from Redis and Postgres when scraped.
 */
export class StageMetrics implements ContainerRunObserver {
  readonly registry = new Registry();
  private readonly hookLabel = new BoundedLabel();
  private readonly containerRuns: Counter<'stage' | 'hook' | 'outcome'>;
  private readonly escalations: Counter<'hook'>;
  private readonly bisections: Counter<'hook'>;
  private readonly processed: Counter<'stage' | 'queue'>;
  private readonly failed: Counter<'stage' | 'queue' | 'kind' | 'final'>;
  private readonly duration: Histogram<'stage' | 'outcome'>;
  private readonly deferrals: Counter<'stage' | 'signal'>;

  constructor(service: string, sources?: MetricsSources, { defaultMetrics = true }: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'osa_' });
    this.processed = new Counter({
      name: 'osa_jobs_processed_total',
      help: 'Stage jobs that completed, per stage',
      labelNames: ['stage', 'queue'],
      registers: [this.registry],
    });
    this.failed = new Counter({
      name: 'osa_jobs_failed_total',
      help: 'Failed stage job attempts, per stage and error kind; final="true" when no retry follows',
      labelNames: ['stage', 'queue', 'kind', 'final'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'osa_batch_duration_seconds',
      help: 'How long one attempt of a stage job took, per stage and outcome',
      labelNames: ['stage', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers: [this.registry],
    });
    this.deferrals = new Counter({
      name: 'osa_backpressure_deferrals_total',
      help: 'Pulls deferred by backpressure, per signal (unschedulable, local_slots, downstream_lag, failure_breaker)',
      labelNames: ['stage', 'signal'],
      registers: [this.registry],
    });
    this.containerRuns = new Counter({
      name: 'osa_container_runs_total',
      help: 'Container runs per stage, hook ("" for the ingester) and outcome (succeeded, or the failure kind: oom, timeout, hook_exit, …)',
      labelNames: ['stage', 'hook', 'outcome'],
      registers: [this.registry],
    });
    this.escalations = new Counter({
      name: 'osa_memory_escalations_total',
      help: 'Hook runs repeated with doubled memory after an OOM kill, per hook',
      labelNames: ['hook'],
      registers: [this.registry],
    });
    this.bisections = new Counter({
      name: 'osa_bisections_total',
      help: 'Hook runs on a part of a batch after an OOM kill at the memory ceiling, per hook',
      labelNames: ['hook'],
      registers: [this.registry],
    });
    if (!sources) return;
    new Gauge({
      name: 'osa_active_run_stalled_seconds',
      help: 'Seconds since the ledger last recorded progress (its start or a batch transition) for the active run that has gone longest without; 0 with none (read from Postgres on scrape)',
      registers: [this.registry],
      collect() {
        return setOrUnknown(this, () => sources.longestRunStallSeconds());
      },
    });
    new Gauge({
      name: 'osa_backpressure_wait_seconds',
      help: "Seconds the longest current backpressure wait among active runs has lasted, from its pull's first deferral; a pull held only by the failure breaker does not count; 0 with none (read from Postgres on scrape)",
      registers: [this.registry],
      collect() {
        return setOrUnknown(this, () => sources.longestBackpressureWaitSeconds());
      },
    });
    // Exported so an alert can compare a wait with the configured maximum without copying it.
    new Gauge({
      name: 'osa_backpressure_max_wait_seconds',
      help: 'BACKPRESSURE_MAX_WAIT_MS in seconds: a backpressure wait that reaches it fails the ingestion with kind backpressure',
      registers: [this.registry],
    }).set(sources.backpressureMaxWaitSeconds);
    new Gauge({
      name: 'osa_active_runs',
      help: 'Ingest runs pending or running (read from Postgres on scrape)',
      registers: [this.registry],
      collect() {
        return setOrUnknown(this, () => sources.activeRuns());
      },
    });
    new Gauge({
      name: 'osa_queue_jobs',
      help: 'Jobs per queue and state (read from Redis on scrape)',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const { queue, state, count } of await sources.queueDepth()) this.set({ queue, state }, count);
        } catch {
          this.reset();
        }
      },
    });
    const { ready } = sources;
    if (ready) {
      new Gauge({
        name: 'osa_ready',
        help: '1 when the service can reach Redis and Postgres (the checks of /health/ready, evaluated on scrape), else 0',
        registers: [this.registry],
        async collect() {
          this.set((await ready().catch(() => false)) ? 1 : 0);
        },
      });
    }
  }

  jobCompleted(stage: string, queue: string, seconds: number): void {
    this.processed.inc({ stage, queue });
    this.duration.observe({ stage, outcome: 'completed' }, seconds);
  }

  jobAttemptFailed(stage: string, _queue: string, seconds: number): void {
    this.duration.observe({ stage, outcome: 'failed' }, seconds);
  }

  jobFailed(stage: string, queue: string, kind: string, final: boolean): void {
    this.failed.inc({ stage, queue, kind, final: String(final) });
  }

  jobDeferred(stage: string, _queue: string, signal: string): void {
    this.deferrals.inc({ stage, signal });
  }

  containerRun(stage: ContainerStage, hook: string | undefined, outcome: string): void {
    this.containerRuns.inc({ stage, hook: hook === undefined ? '' : this.hookLabel.value(hook), outcome });
  }

  memoryEscalated(hook: string): void {
    this.escalations.inc({ hook: this.hookLabel.value(hook) });
  }

  bisectionStep(hook: string): void {
    this.bisections.inc({ hook: this.hookLabel.value(hook) });
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * A gauge read from Redis or Postgres is NaN (unknown) when the read fails, so the scrape still
 * answers, with osa_ready 0, instead of failing whole: a failed scrape is what OsaServiceDown
 * means, an unreachable dependency is OsaServiceNotReady.
 */
async function setOrUnknown(gauge: Gauge, read: () => Promise<number>): Promise<void> {
  try {
    gauge.set(await read());
  } catch {
    gauge.set(Number.NaN);
  }
}
