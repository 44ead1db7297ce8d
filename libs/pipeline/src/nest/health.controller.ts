import { Controller, Get, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { sql } from 'drizzle-orm';
import type { DatabaseHandle } from '#osa/persistence';
import { JobProducer } from '../jobs/job-producer.js';
import { QueueName } from '#osa/queues';
import { DATABASE } from './tokens.js';

/** Liveness says the process runs; readiness says it can reach Redis and Postgres. */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly database: DatabaseHandle,
    private readonly producer: JobProducer,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    const checks = await Promise.all([
      this.check('postgres', () => this.database.db.execute(sql`select 1`)),
      this.check('redis', () => this.producer.queues[QueueName.StartIngest].getJobCounts('wait')),
    ]);
    const body = { status: checks.every((c) => c.ok) ? 'ok' : 'unavailable', checks };
    if (body.status !== 'ok') throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  private async check(name: string, probe: () => Promise<unknown>) {
    try {
      await withTimeout(probe(), 2000);
      return { name, ok: true };
    } catch (err) {
      return { name, ok: false, error: (err as Error).message };
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}
