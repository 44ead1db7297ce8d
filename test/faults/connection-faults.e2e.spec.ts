import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { Queue } from 'bullmq';
import { QueueName, redisConnection } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { fixture } from '../support/pipeline-harness.js';
import { buildServices, ProcessHarness, type ServiceName } from '../support/process-harness.js';

const TOTAL = 60;
const PAGE = 10;
const REJECT_EVERY = 7;
const REJECTED = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => i % REJECT_EVERY === 0).length;
const SERVICES: ServiceName[] = ['ingester-runner', 'hook-runner', 'publisher'];
/** A Redis of this test's own, so losing it disturbs nobody else's tests. */
const OWN_REDIS_PORT = 6391;

function convention(harness: ProcessHarness, id: string, sleepMs: number) {
  return {
    id,
    ingester: {
      command: ['node', fixture('counting-ingester.mjs')],
      config: { total: TOTAL, page_size: PAGE, reject_every: REJECT_EVERY, sleep_ms: sleepMs, marker_dir: harness.markerDir },
    },
    hooks: [{ name: 'flag', command: ['node', fixture('flag-hook.mjs')], config: { sleep_ms: sleepMs, marker_dir: harness.markerDir } }],
  };
}

async function expectExactCounts(harness: ProcessHarness, runId: string, timeoutMs = 120_000) {
  const run = await harness.waitForRun(runId, timeoutMs);
  expect(run).toMatchObject({
    status: 'completed',
    batchesIngested: TOTAL / PAGE,
    batchesPublished: TOTAL / PAGE,
    batchesFailed: 0,
    recordsSourced: TOTAL,
    publishedCount: TOTAL - REJECTED,
    rejectedCount: REJECTED,
  });
  const { rows } = await harness.database.pool.query<{ n: number; distinct_sources: number }>(
    'SELECT count(*)::int AS n, count(DISTINCT source_id)::int AS distinct_sources FROM records WHERE run_id = $1',
    [runId],
  );
  expect(rows[0]).toEqual({ n: TOTAL - REJECTED, distinct_sources: TOTAL - REJECTED });
}

/** Waits for a container's start marker; fails at once, with the logs, when a service has exited. */
async function waitForMarker(harness: ProcessHarness, prefix: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `marker ${prefix}`,
    async () => {
      if (harness.unexpectedExits.length > 0) {
        throw new Error(`a service exited: ${JSON.stringify(harness.unexpectedExits)}; logs:\n${harness.serviceLogs().slice(-3000)}`);
      }
      return (await readdir(harness.markerDir)).some((f) => f.startsWith(prefix));
    },
    { timeoutMs },
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts the three services, each on a health port of its own; resolves the ports. */
async function startWithPorts(harness: ProcessHarness): Promise<Record<ServiceName, number>> {
  const ports = {} as Record<ServiceName, number>;
  for (const name of SERVICES) {
    ports[name] = await freePort();
    harness.startService(name, { PORT: String(ports[name]) });
  }
  return ports;
}

/** Waits until every service's /health/ready answers `status`; fails at once when a service has exited. */
async function waitForReadiness(harness: ProcessHarness, ports: Record<ServiceName, number>, status: 200 | 503): Promise<void> {
  for (const name of SERVICES) {
    await waitFor(
      `${name} to answer ${status} on /health/ready`,
      async () => {
        if (harness.unexpectedExits.length > 0) {
          throw new Error(`a service exited: ${JSON.stringify(harness.unexpectedExits)}; logs:\n${harness.serviceLogs().slice(-3000)}`);
        }
        return (await readiness(ports[name])) === status;
      },
      { timeoutMs: 60_000 },
    );
  }
}

async function readiness(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
}

/**
 * A TCP proxy to Postgres that the test can take down and bring back: what the services see when
 * their database server goes away, without touching the server other tests share.
 */
class PostgresOutage {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private constructor(readonly port: number) {}

  static async open(): Promise<PostgresOutage> {
    const outage = new PostgresOutage(await freePort());
    await outage.up();
    return outage;
  }

  async up(): Promise<void> {
    if (this.server) return;
    this.server = net.createServer((client) => {
      const upstream = net.connect(5432, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  /** Drops every connection and refuses new ones. */
  async down(): Promise<void> {
    const closed = this.server ? new Promise((resolve) => this.server!.close(resolve)) : Promise.resolve();
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.server = undefined;
  }
}

/** Every line a service wrote, except the harness's own `[service]` prefix, must be a JSON object. */
function plainTextLines(logs: string): string[] {
  return logs
    .split('\n')
    .map((line) => line.replace(/^\[[a-z-]+\] /, ''))
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    });
}

/**
 * Infrastructure failing under the running services (real processes, built as in production):
 * Postgres connections dropped in the middle of transactions, Redis lost and back empty. No
 * service may exit, every failure must be logged as a JSON line, and the run must complete with
 * exact counts.
 */
describe('services under infrastructure faults', () => {
  beforeAll(() => buildServices(), 180_000);

  describe('Postgres connections terminated mid-run', () => {
    let harness: ProcessHarness;
    beforeAll(async () => {
      harness = await ProcessHarness.start('pg-faults');
    }, 60_000);
    afterAll(() => harness.stop());

    it('keeps every service up and completes the run with exact counts', async () => {
      await harness.applyConvention(convention(harness, 'pg-faults', 150));
      harness.startAll();
      const runId = await harness.start('pg-faults');
      const dbName = new URL(harness.config.databaseUrl).pathname.slice(1);
      // Kill the services' connections to this test's database, again and again while batches
      // are sourced, hooked and published (fewer rounds than any stage has attempts).
      let terminated = 0;
      for (let round = 0; round < TOTAL / PAGE; round++) {
        await waitForMarker(harness, `ingester-${runId}-${round}-`);
        for (let burst = 0; burst < 3; burst++) {
          const { rows } = await harness.database.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM (
               SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = $1 AND application_name IN ('osa-ingester-runner', 'osa-hook-runner', 'osa-publisher')) t`,
            [dbName],
          );
          terminated += rows[0]!.n;
          await new Promise((resolve) => setTimeout(resolve, 60));
        }
      }
      expect(terminated).toBeGreaterThan(0);
      await expectExactCounts(harness, runId);
      expect(harness.unexpectedExits).toEqual([]);
      expect(harness.serviceLogs()).toContain('postgres connection lost');
      expect(plainTextLines(harness.serviceLogs())).toEqual([]);
      await Promise.all(SERVICES.map((s) => harness.kill(s)));
    }, 240_000);
  });

  describe('Postgres unreachable mid-run, then back', () => {
    let harness: ProcessHarness;
    let outage: PostgresOutage;
    beforeAll(async () => {
      outage = await PostgresOutage.open();
      const database = `postgres://postgres@127.0.0.1:${outage.port}/`;
      // Retries spaced as in production, scaled down: ten publish attempts span ~15 s, longer
      // than the outage, as the defaults' span (~2.5 min) is longer than a database restart.
      harness = await ProcessHarness.start('pg-outage', { UNEXPECTED_BACKOFF_BASE_MS: '500', UNEXPECTED_BACKOFF_CAP_MS: '2000' });
      // The services reach the test's database through the proxy; the harness itself does not.
      const direct = new URL(harness.config.databaseUrl);
      harness.env.DATABASE_URL = `${database}${direct.pathname.slice(1)}`;
    }, 60_000);
    afterAll(async () => {
      await Promise.all(SERVICES.map((s) => harness.kill(s)));
      await harness.stop();
      await outage.down();
    });

    it('keeps every service up, reports not-ready while the database is down, and completes the run after', async () => {
      await harness.applyConvention(convention(harness, 'pg-outage', 300));
      const ports = await startWithPorts(harness);
      const runId = await harness.start('pg-outage');
      await waitForMarker(harness, `ingester-${runId}-2-`);

      await outage.down();
      await waitForReadiness(harness, ports, 503);
      await waitFor('the services to log the lost connection', () => harness.serviceLogs().includes('postgres connection lost'), {
        timeoutMs: 30_000,
      });
      expect(harness.unexpectedExits).toEqual([]);

      await outage.up();
      await waitForReadiness(harness, ports, 200);
      await expectExactCounts(harness, runId, 180_000);
      expect(harness.unexpectedExits).toEqual([]);
      expect(plainTextLines(harness.serviceLogs())).toEqual([]);
    }, 360_000);
  });

  describe('Redis lost mid-run and back empty', () => {
    let harness: ProcessHarness;
    let redis: ChildProcess | undefined;

    async function startRedis(): Promise<void> {
      redis = spawn('redis-server', ['--port', String(OWN_REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      const probe = new Queue('probe', { connection: { ...redisConnection(`redis://127.0.0.1:${OWN_REDIS_PORT}`), retryStrategy: () => 200 } });
      probe.on('error', () => undefined);
      try {
        await waitFor('own redis-server to answer', () => probe.getJobCounts().then(() => true), { timeoutMs: 15_000 });
      } finally {
        await probe.close();
      }
    }

    async function killRedis(): Promise<void> {
      if (!redis || redis.exitCode !== null) return;
      const exited = once(redis, 'exit');
      redis.kill('SIGKILL');
      await exited;
    }

    beforeAll(async () => {
      await startRedis();
      harness = await ProcessHarness.start('redis-faults', { REDIS_URL: `redis://127.0.0.1:${OWN_REDIS_PORT}` });
      for (const queue of Object.values(harness.queues)) queue.on('error', () => undefined);
    }, 60_000);
    afterAll(async () => {
      await Promise.all(SERVICES.map((s) => harness.kill(s)));
      await harness.stop();
      await killRedis();
    });

    it('logs JSON, stays up, reports not-ready while Redis is down, and recovers by itself', async () => {
      await harness.applyConvention(convention(harness, 'redis-faults', 300));
      const ports = await startWithPorts(harness);
      const runId = await harness.start('redis-faults');
      await waitForMarker(harness, `ingester-${runId}-2-`);

      await killRedis();
      await waitForReadiness(harness, ports, 503);
      // Down long enough for every client to retry a few times.
      await waitFor('the services to log the lost connection', () => /"msg":"(worker|queue) [a-z-]+: [^"]*ECONNREFUSED/.test(harness.serviceLogs()), {
        timeoutMs: 30_000,
      });
      expect(harness.unexpectedExits).toEqual([]);

      await startRedis();
      await waitForReadiness(harness, ports, 200);
      // Every job was lost with Redis; the reconciler adds back what each open batch needs.
      await expectExactCounts(harness, runId, 180_000);
      expect(harness.unexpectedExits).toEqual([]);
      expect(plainTextLines(harness.serviceLogs())).toEqual([]);
    }, 360_000);
  });

  describe('stray and double stage jobs', () => {
    let harness: ProcessHarness;
    let queues: Record<string, Queue>;
    beforeAll(async () => {
      harness = await ProcessHarness.start('stray-jobs');
      const connection = redisConnection(harness.config.redisUrl);
      queues = Object.fromEntries(
        [QueueName.NextBatch, QueueName.BatchReady, QueueName.HooksCompleted].map((name) => [
          name,
          new Queue(name, { connection, prefix: harness.config.queuePrefix }),
        ]),
      );
    }, 60_000);
    afterAll(async () => {
      await Promise.all(Object.values(queues).map((q) => q.close()));
      await Promise.all(SERVICES.map((s) => harness.kill(s)));
      await harness.stop();
    });

    /** `failed: <reason>` or `completed`, once the job has finished. */
    const outcome = async (queue: QueueName, jobId: string) =>
      waitFor(`${queue} job ${jobId} to finish`, async () => {
        const state = await queues[queue]!.getJobState(jobId);
        // Read once it has settled, so its reason is there.
        if (state === 'failed') return `failed: ${(await queues[queue]!.getJob(jobId))!.failedReason}`;
        return state === 'completed' ? state : undefined;
      });

    it('fails each stray job alone and completes the run with exact counts, the ingester running once per batch', async () => {
      await harness.applyConvention(convention(harness, 'stray-jobs', 300));
      harness.startAll();
      const runId = await harness.start('stray-jobs');
      const opts = { attempts: 3, removeOnComplete: false, removeOnFail: false };

      // While batch 2's ingester runs: a job for a batch far ahead (under a random id and under
      // the id the pipeline would give it), and a second job for batch 2 under another id.
      await waitForMarker(harness, `ingester-${runId}-2-`);
      await queues[QueueName.NextBatch]!.add('stray', { runId, batchIndex: 999 }, { ...opts, jobId: `stray-${runId}-999` });
      await queues[QueueName.NextBatch]!.add('stray', { runId, batchIndex: 999 }, { ...opts, jobId: `next-${runId}-999` });
      await queues[QueueName.NextBatch]!.add('double', { runId, batchIndex: 2 }, { ...opts, jobId: `double-${runId}-2` });
      const outcomes = [];
      for (const jobId of [`stray-${runId}-999`, `next-${runId}-999`, `double-${runId}-2`]) outcomes.push(await outcome(QueueName.NextBatch, jobId));
      // Failed alone: the run still ingests, nothing was accounted.
      expect(await harness.reads.findRun(runId)).toMatchObject({
        status: 'running',
        ingestionFinished: false,
        batchesFailed: 0,
      });
      for (const seen of outcomes) expect(seen).toMatch(/^failed: \[stray_job\] stray job: /);
      // While batch 3's hook runs: its publish job, before the hooks are done, under the id the
      // hooks stage would add it with; and a hooks job for a batch that does not exist.
      await waitForMarker(harness, `hook-${runId}-3-`);
      await queues[QueueName.HooksCompleted]!.add('early', { runId, batchIndex: 3 }, { ...opts, jobId: `hooked-${runId}-3` });
      await queues[QueueName.BatchReady]!.add('stray', { runId, batchIndex: 999 }, { ...opts, jobId: `ready-${runId}-999` });

      await expectExactCounts(harness, runId);
      expect(await outcome(QueueName.BatchReady, `ready-${runId}-999`)).toMatch(/^failed: \[stray_job\] stray job: /);
      const ingesterStarts = (await readdir(harness.markerDir)).filter((f) => f.startsWith(`ingester-${runId}-2-`));
      expect(ingesterStarts).toHaveLength(1);
      expect(harness.unexpectedExits).toEqual([]);
    }, 240_000);
  });
});
