import path from 'node:path';
import { z } from 'zod';
import { parseImagePrefixes, parseMemory } from '#osa/domain';

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);
const url = (protocols: string[], fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );

/**
 * Every setting the services read from the environment, with its default. The README's
 * configuration table lists the same names; `describeConfig()` prints them.
 */
export const envSchema = z.object({
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/osa_ingest'),
  DATA_DIR: z.string().min(1).default('./data'),
  RUNNER: z.enum(['local', 'kubernetes']).default('local'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, "-" and "_" only')
    .default('osa'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),

  INGESTER_CONCURRENCY: int(2, 1),
  HOOK_CONCURRENCY: int(2, 1),
  PUBLISHER_CONCURRENCY: int(2, 1),

  INGESTER_ATTEMPTS: int(20, 1),
  HOOK_ATTEMPTS: int(100, 1),
  PUBLISHER_ATTEMPTS: int(10, 1),
  /** Transient failures: min(cap, base · 2^(attempt-1)). */
  BACKOFF_BASE_MS: int(60_000),
  BACKOFF_CAP_MS: int(300_000),
  /** Per-stage overrides of the two above, e.g. HOOK_BACKOFF_BASE_MS. */
  INGESTER_BACKOFF_BASE_MS: z.coerce.number().int().min(0).optional(),
  INGESTER_BACKOFF_CAP_MS: z.coerce.number().int().min(0).optional(),
  HOOK_BACKOFF_BASE_MS: z.coerce.number().int().min(0).optional(),
  HOOK_BACKOFF_CAP_MS: z.coerce.number().int().min(0).optional(),
  PUBLISHER_BACKOFF_BASE_MS: z.coerce.number().int().min(0).optional(),
  PUBLISHER_BACKOFF_CAP_MS: z.coerce.number().int().min(0).optional(),
  /** Unexpected errors (a bug, a dropped connection) retry on a shorter schedule. */
  UNEXPECTED_BACKOFF_BASE_MS: int(1_000),
  UNEXPECTED_BACKOFF_CAP_MS: int(30_000),

  LOCK_DURATION_MS: int(30_000, 1000),
  STALLED_INTERVAL_MS: int(30_000, 1000),
  MAX_STALLED_COUNT: int(5, 1),
  RECONCILE_INTERVAL_MS: int(30_000, 100),
  OUTBOX_RELAY_INTERVAL_MS: int(2_000, 50),
  EVENTS_RETENTION_HOURS: int(24, 1),
  SHUTDOWN_GRACE_SECONDS: int(25, 1),

  /** OOM escalation for hooks: memory doubles per retry, never above the ceiling. */
  HOOK_MEMORY_CEILING: z
    .string()
    .refine((v) => parseMemory(v) !== undefined, 'must be a memory size such as "8g"')
    .default('8g'),
  HOOK_OOM_RETRIES: int(3),
  /** Bisection runs per hook and batch before the records still without outcome are errored. */
  HOOK_BISECT_MAX_RUNS: int(64, 1),

  /** Backpressure: how long a held pull waits before trying again, and at most in all. */
  BACKPRESSURE_DELAY_MS: int(60_000, 1),
  BACKPRESSURE_MAX_WAIT_MS: int(3_600_000, 1),
  /** Downstream lag is re-checked sooner, and a published batch wakes the held pull at once. */
  BACKPRESSURE_LAG_DELAY_MS: int(1_000, 1),
  /** The ingester does not pull while this many of a run's batches wait downstream (0: no limit). */
  MAX_PENDING_BATCHES: int(8),
  /** Failure breaker: pause pulling when this share of a run's batches failed (0: off). */
  BREAKER_FAILURE_RATIO: z.coerce.number().min(0).max(1).default(0.5),
  BREAKER_MIN_BATCHES: int(10, 1),
  BREAKER_PAUSE_MS: int(600_000, 1),

  /** Container output bounds: one line (a record or hook outcome), one output file, the session. */
  MAX_RECORD_BYTES: int(8 * 1024 ** 2, 1024),
  MAX_OUTPUT_FILE_BYTES: int(4 * 1024 ** 3, 1024),
  MAX_SESSION_BYTES: int(1024 ** 2, 2),

  /**
   * Comma-separated image prefixes that conventions saved through the API, replay image overrides
   * and the Kubernetes runner's Jobs must match (unset: any image).
   */
  ALLOWED_IMAGE_PREFIXES: z
    .string()
    .optional()
    .refine(
      (v) => parseImagePrefixes(v).every((p) => !/[\s"']/.test(p)),
      'comma-separated image prefixes without spaces or quotes inside one (e.g. "registry.example.org/osa/")',
    ),

  LOCAL_RUNNER_SLOTS: int(4, 1),
  LOCAL_RUNNER_CWD: z.string().optional(),
  MEMORY_SAMPLE_INTERVAL_MS: int(50, 5),
});

export type EnvConfig = z.output<typeof envSchema>;

export interface RetryPolicy {
  attempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  unexpectedBaseMs: number;
  unexpectedCapMs: number;
}

export interface StageConfig {
  concurrency: number;
  retry: RetryPolicy;
}

export interface BackpressurePolicy {
  delayMs: number;
  lagDelayMs: number;
  maxWaitMs: number;
  maxPendingBatches: number;
  breakerFailureRatio: number;
  breakerMinBatches: number;
  breakerPauseMs: number;
}

export interface AppConfig {
  redisUrl: string;
  databaseUrl: string;
  dataDir: string;
  runner: 'local' | 'kubernetes';
  queuePrefix: string;
  logLevel: EnvConfig['LOG_LEVEL'];
  port?: number;
  stages: { ingester: StageConfig; hooks: StageConfig; publisher: StageConfig };
  worker: { lockDurationMs: number; stalledIntervalMs: number; maxStalledCount: number };
  hooks: { memoryCeilingBytes: number; oomRetries: number; maxBisectRuns: number };
  backpressure: BackpressurePolicy;
  /** How much of a container's output is read (see the README's container contract). */
  containerOutput: { maxLineBytes: number; maxFileBytes: number; maxSessionBytes: number };
  reconcileIntervalMs: number;
  outboxRelayIntervalMs: number;
  eventsRetentionHours: number;
  shutdownGraceSeconds: number;
  local: { slots: number; cwd: string; sampleIntervalMs: number };
  /** Images a convention or a replay override may name (empty: any); see imageAllowed. */
  allowedImagePrefixes: string[];
  /** The raw environment, for adapters with settings of their own (the Kubernetes runner). */
  env: Record<string, string | undefined>;
}

/** Raised at start-up for a bad environment; names every variable that is wrong. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`));
  }
  const e = parsed.data;
  const retry = (attempts: number, base?: number, cap?: number): RetryPolicy => ({
    attempts,
    backoffBaseMs: base ?? e.BACKOFF_BASE_MS,
    backoffCapMs: cap ?? e.BACKOFF_CAP_MS,
    unexpectedBaseMs: e.UNEXPECTED_BACKOFF_BASE_MS,
    unexpectedCapMs: e.UNEXPECTED_BACKOFF_CAP_MS,
  });
  return {
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    runner: e.RUNNER,
    queuePrefix: e.QUEUE_PREFIX,
    logLevel: e.LOG_LEVEL,
    port: e.PORT,
    stages: {
      ingester: { concurrency: e.INGESTER_CONCURRENCY, retry: retry(e.INGESTER_ATTEMPTS, e.INGESTER_BACKOFF_BASE_MS, e.INGESTER_BACKOFF_CAP_MS) },
      hooks: { concurrency: e.HOOK_CONCURRENCY, retry: retry(e.HOOK_ATTEMPTS, e.HOOK_BACKOFF_BASE_MS, e.HOOK_BACKOFF_CAP_MS) },
      publisher: {
        concurrency: e.PUBLISHER_CONCURRENCY,
        retry: retry(e.PUBLISHER_ATTEMPTS, e.PUBLISHER_BACKOFF_BASE_MS, e.PUBLISHER_BACKOFF_CAP_MS),
      },
    },
    worker: {
      lockDurationMs: e.LOCK_DURATION_MS,
      stalledIntervalMs: e.STALLED_INTERVAL_MS,
      maxStalledCount: e.MAX_STALLED_COUNT,
    },
    hooks: { memoryCeilingBytes: parseMemory(e.HOOK_MEMORY_CEILING)!, oomRetries: e.HOOK_OOM_RETRIES, maxBisectRuns: e.HOOK_BISECT_MAX_RUNS },
    backpressure: {
      delayMs: e.BACKPRESSURE_DELAY_MS,
      lagDelayMs: e.BACKPRESSURE_LAG_DELAY_MS,
      maxWaitMs: e.BACKPRESSURE_MAX_WAIT_MS,
      maxPendingBatches: e.MAX_PENDING_BATCHES,
      breakerFailureRatio: e.BREAKER_FAILURE_RATIO,
      breakerMinBatches: e.BREAKER_MIN_BATCHES,
      breakerPauseMs: e.BREAKER_PAUSE_MS,
    },
    containerOutput: { maxLineBytes: e.MAX_RECORD_BYTES, maxFileBytes: e.MAX_OUTPUT_FILE_BYTES, maxSessionBytes: e.MAX_SESSION_BYTES },
    reconcileIntervalMs: e.RECONCILE_INTERVAL_MS,
    outboxRelayIntervalMs: e.OUTBOX_RELAY_INTERVAL_MS,
    eventsRetentionHours: e.EVENTS_RETENTION_HOURS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    allowedImagePrefixes: parseImagePrefixes(e.ALLOWED_IMAGE_PREFIXES),
    local: { slots: e.LOCAL_RUNNER_SLOTS, cwd: path.resolve(e.LOCAL_RUNNER_CWD ?? process.cwd()), sampleIntervalMs: e.MEMORY_SAMPLE_INTERVAL_MS },
    env,
  };
}
