import type { JobsOptions, Queue } from 'bullmq';
import { QueueName } from '#osa/queues';

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** One job as the pipeline sees it through BullMQ's Job: its state, failed reason, removal, promotion. */
export class InMemoryJob {
  failedReason: string | undefined;

  constructor(
    private readonly queue: InMemoryQueue,
    readonly id: string,
    readonly name: string,
    readonly data: unknown,
    readonly opts: JobsOptions,
    public state: JobState,
  ) {}

  getState(): Promise<JobState> {
    return Promise.resolve(this.state);
  }

  isDelayed(): Promise<boolean> {
    return Promise.resolve(this.state === 'delayed');
  }

  promote(): Promise<void> {
    if (this.state !== 'delayed') return Promise.reject(new Error(`job ${this.id} is not delayed`));
    this.state = 'waiting';
    return Promise.resolve();
  }

  remove(): Promise<void> {
    this.queue.jobs.delete(this.id);
    return Promise.resolve();
  }
}

/**
 * The part of a BullMQ Queue the pipeline uses, in memory: adding a job under an id that exists
 * is a no-op, as in BullMQ, so what a repeated step adds twice is kept once. Every add call is
 * also recorded in order, duplicates included, so a test can assert what a step asked for.
 */
export class InMemoryQueue {
  readonly jobs = new Map<string, InMemoryJob>();
  readonly adds: Array<{ id: string; name: string; data: unknown }> = [];
  private sequence = 0;

  constructor(readonly name: string) {}

  add(name: string, data: unknown, opts: JobsOptions = {}): Promise<InMemoryJob> {
    const id = opts.jobId ?? String(++this.sequence);
    this.adds.push({ id, name, data });
    const existing = this.jobs.get(id);
    if (existing) return Promise.resolve(existing);
    const job = new InMemoryJob(this, id, name, data, opts, opts.delay ? 'delayed' : 'waiting');
    this.jobs.set(id, job);
    return Promise.resolve(job);
  }

  async addBulk(jobs: Array<{ name: string; data: unknown; opts?: JobsOptions }>): Promise<InMemoryJob[]> {
    const added: InMemoryJob[] = [];
    for (const job of jobs) added.push(await this.add(job.name, job.data, job.opts));
    return added;
  }

  getJob(id: string): Promise<InMemoryJob | undefined> {
    return Promise.resolve(this.jobs.get(id));
  }

  getJobState(id: string): Promise<JobState | 'unknown'> {
    return Promise.resolve(this.jobs.get(id)?.state ?? 'unknown');
  }

  /** Nothing ages in a test: there is never anything past the retention to trim. */
  clean(): Promise<string[]> {
    return Promise.resolve([]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The ids of the jobs in the queue now, sorted. */
  ids(): string[] {
    return [...this.jobs.keys()].sort();
  }

  /** Ends a job as a worker would have: failed with BullMQ's `[kind] message` reason, or completed. */
  settle(id: string, state: 'failed' | 'completed', failedReason?: string): void {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`no job ${id} in ${this.name}`);
    job.state = state;
    job.failedReason = failedReason;
  }
}

/** One in-memory queue per pipeline queue, typed as the BullMQ queues the producer and relay take. */
export class InMemoryQueues {
  readonly byName = Object.fromEntries(Object.values(QueueName).map((name) => [name, new InMemoryQueue(name)])) as Record<QueueName, InMemoryQueue>;

  /** The pipeline's code takes BullMQ queues; these implement the part of them it calls. */
  get asQueues(): Record<QueueName, Queue> {
    return this.byName as unknown as Record<QueueName, Queue>;
  }

  queue(name: QueueName): InMemoryQueue {
    return this.byName[name];
  }
}
