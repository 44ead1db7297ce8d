import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { ReadinessSource } from '#osa/observability';
import type { DatabaseHandle } from '#osa/persistence';
import { QueueName } from '#osa/queues';
import { JobProducer } from '../jobs/job-producer.js';
import { DATABASE } from './tokens.js';

export interface ReadinessProbe {
  name: string;
  ok: boolean;
  error?: string;
}

const PROBE_TIMEOUT_MS = 2000;

/**
 * Whether the service can reach Redis and Postgres: what /health/ready answers and what
 * osa_ready exports on every scrape, so Prometheus sees a service that answers but cannot work.
 */
@Injectable()
export class ReadinessCheck implements ReadinessSource {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    private readonly producer: JobProducer,
  ) {}

  async evaluate(): Promise<{ ready: boolean; checks: ReadinessProbe[] }> {
    const checks = await Promise.all([
      probe('postgres', () => this.database.db.execute(sql`select 1`)),
      probe('redis', () => this.producer.queues[QueueName.StartIngest].getJobCounts('wait')),
    ]);
    return { ready: checks.every((c) => c.ok), checks };
  }

  async isReady(): Promise<boolean> {
    return (await this.evaluate()).ready;
  }
}

async function probe(name: string, check: () => Promise<unknown>): Promise<ReadinessProbe> {
  try {
    await withTimeout(check(), PROBE_TIMEOUT_MS);
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, error: (err as Error).message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}
