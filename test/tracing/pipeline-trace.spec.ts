import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OsaAttributes, registerTracing, type Tracing } from '#osa/observability';
import { JobId, QueueName } from '#osa/queues';
import { waitFor } from '#osa/testing';
import { countingConvention, PipelineHarness } from '../support/pipeline-harness.js';

/**
 * The three stage services run in this process (the pipeline harness), so they share one
 * tracer provider and its `service.name`; a span's service is read from the queue whose job it
 * ran under, which is exactly what a separate process per service would report.
 */
const SERVICE_OF_QUEUE: Record<string, string> = {
  [QueueName.StartIngest]: 'ingester-runner',
  [QueueName.NextBatch]: 'ingester-runner',
  [QueueName.BatchReady]: 'hook-runner',
  [QueueName.HooksCompleted]: 'publisher',
};

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const traceId = (span: ReadableSpan) => span.spanContext().traceId;
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const durationMs = (span: ReadableSpan) => span.duration[0] * 1000 + span.duration[1] / 1e6;

class SpanIndex {
  readonly byId = new Map<string, ReadableSpan>();
  constructor(readonly spans: ReadableSpan[]) {
    for (const span of spans) this.byId.set(spanId(span), span);
  }

  /** The span that processed the job with this id (its last attempt). */
  processSpan(jobId: string): ReadableSpan | undefined {
    return this.spans.filter((s) => s.kind === SpanKind.CONSUMER && s.attributes['bullmq.job.id'] === jobId).at(-1);
  }

  find(name: string, runId: string, batchIndex: number): ReadableSpan | undefined {
    return this.spans.find(
      (s) => s.name === name && s.attributes[OsaAttributes.RunId] === runId && s.attributes[OsaAttributes.BatchIndex] === batchIndex,
    );
  }

  ancestors(span: ReadableSpan): ReadableSpan[] {
    const chain: ReadableSpan[] = [];
    for (let parent = parentId(span); parent;) {
      const next = this.byId.get(parent);
      if (!next) break;
      chain.push(next);
      parent = parentId(next);
    }
    return chain;
  }

  /** The service that ran the span: the one consuming the queue of the nearest job above it. */
  service(span: ReadableSpan): string {
    const job = [span, ...this.ancestors(span)].find((s) => s.kind === SpanKind.CONSUMER);
    return SERVICE_OF_QUEUE[String(job?.attributes['bullmq.queue.name'])] ?? 'test';
  }

  inTrace(id: string): ReadableSpan[] {
    return this.spans.filter((s) => traceId(s) === id);
  }

  children(span: ReadableSpan): ReadableSpan[] {
    return this.spans.filter((s) => parentId(s) === spanId(span)).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  }
}

describe('tracing: one run followed across the services (in-memory exporter, real Redis and Postgres)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let harness: PipelineHarness;

  beforeAll(async () => {
    // Registered before the services are built, as a service's entry point does.
    tracing = await registerTracing('osa-pipeline-test', [new SimpleSpanProcessor(exporter)]);
    harness = await PipelineHarness.start('tracing');
  });
  afterAll(async () => {
    await harness?.stop();
    await tracing?.shutdown();
  });

  /** Waits until every span of the trace that some span names as its parent has ended. */
  async function closedTrace(id: string): Promise<SpanIndex> {
    return waitFor(`every span of trace ${id} to end`, () => {
      const index = new SpanIndex(exporter.getFinishedSpans());
      const spans = index.inTrace(id);
      return spans.every((s) => !parentId(s) || index.byId.has(parentId(s)!)) ? index : undefined;
    });
  }

  it('makes each batch its own trace: ingest, hooks and publish spans descend from one another through the jobs', async () => {
    await harness.applyConvention(countingConvention('traced', { total: 25, page_size: 10, reject_every: 4 }));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'traced' }));
    const run = await harness.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', recordsSourced: 25, batchesIngested: 3, batchesFailed: 0 });

    // The publisher's job span ends just after the transaction that completed the run.
    await waitFor('the last batch’s publish job span', () => new SpanIndex(exporter.getFinishedSpans()).processSpan(JobId.hooksCompleted(runId, 2)));

    const traces = new Set<string>();
    let index = new SpanIndex(exporter.getFinishedSpans());
    for (const n of [0, 1, 2]) {
      // A batch's trace starts at its pull: the job that asked for it carried no context.
      const trace = traceId(index.processSpan(JobId.nextBatch(runId, n))!);
      traces.add(trace);
      index = await closedTrace(trace);
      const ingestJob = index.processSpan(JobId.nextBatch(runId, n));
      const hooksJob = index.processSpan(JobId.batchReady(runId, n));
      const publishJob = index.processSpan(JobId.hooksCompleted(runId, n));
      const ingester = index.find('container.run ingester', runId, n);
      const hook = index.find('container.run hook flag', runId, n);
      const sourced = index.find('ledger recordSourced', runId, n);
      const hooked = index.find('ledger recordHooked', runId, n);
      const published = index.find('ledger recordPublished', runId, n);
      const batchSpans = { ingestJob, hooksJob, publishJob, ingester, hook, sourced, hooked, published };
      for (const [what, span] of Object.entries(batchSpans)) {
        expect({ batch: n, what, found: span !== undefined }).toEqual({ batch: n, what, found: true });
        expect({ batch: n, what, trace: traceId(span!) }).toEqual({ batch: n, what, trace });
      }

      // Every span's parent is in the batch's trace; only the pull's job span has none.
      const spans = index.inTrace(trace);
      expect(spans.filter((s) => !parentId(s))).toEqual([ingestJob]);
      expect(spans.filter((s) => parentId(s) && !index.byId.has(parentId(s)!))).toEqual([]);

      // The publish transaction runs under the publisher's job, which the hook-runner's job
      // added, which the ingester-runner's job added: the context travelled in each job.
      const publishChain = index.ancestors(published!).map((s) => s.name);
      expect(publishChain.slice(0, 5)).toEqual([
        `process ${QueueName.HooksCompleted}`,
        `add ${QueueName.HooksCompleted}.hooks-completed`,
        `process ${QueueName.BatchReady}`,
        `add ${QueueName.BatchReady}.batch-ready`,
        `process ${QueueName.NextBatch}`,
      ]);
      expect(index.ancestors(published!)[4]).toBe(ingestJob);
      expect(index.ancestors(hook!)).toContain(hooksJob);
      expect(index.ancestors(hooked!)).toContain(hooksJob);
      expect(index.ancestors(ingester!)[0]).toBe(ingestJob);
      expect(index.ancestors(sourced!)[0]).toBe(ingestJob);
      expect([index.service(ingester!), index.service(hook!), index.service(published!)]).toEqual(['ingester-runner', 'hook-runner', 'publisher']);

      expect(ingester!.attributes).toMatchObject({
        [OsaAttributes.Stage]: 'ingester',
        [OsaAttributes.Outcome]: 'succeeded',
        [OsaAttributes.Container]: 'node counting-ingester.mjs',
      });
      expect(hook!.attributes).toMatchObject({
        [OsaAttributes.Stage]: 'hooks',
        [OsaAttributes.Hook]: 'flag',
        [OsaAttributes.Outcome]: 'succeeded',
        [OsaAttributes.MemoryBytes]: 512 * 1024 * 1024,
      });
      for (const ledger of [sourced!, hooked!, published!])
        expect(ledger.attributes).toMatchObject({ [OsaAttributes.Applied]: true, [OsaAttributes.RunTerminal]: false });
    }
    expect(index.find('ledger recordPublished', runId, 2)!.attributes[OsaAttributes.Completed]).toBe(true);
    expect(traces.size).toBe(3);

    const batchOne = index.processSpan(JobId.nextBatch(runId, 1))!;
    console.log(`span tree of batch 1 (run ${runId}, trace ${traceId(batchOne)}):\n${printTree(index, batchOne)}`);
  });

  it('traces a failing hook: its container span says how it ended and the failed batch’s transaction is in the batch’s trace', async () => {
    await harness.applyConvention(countingConvention('traced-failing', { total: 5, page_size: 10 }, [{ name: 'broken', config: { exit_code: 3 } }]));
    const runId = await harness.runIdOf(await harness.startIngest({ conventionId: 'traced-failing' }));
    expect(await harness.waitForRun(runId)).toMatchObject({ status: 'completed', batchesFailed: 1 });

    const failed = await waitFor('the failed batch’s ledger span', () =>
      new SpanIndex(exporter.getFinishedSpans()).find('ledger failBatch', runId, 0),
    );
    const index = await closedTrace(traceId(failed));
    const ingester = index.find('container.run ingester', runId, 0)!;
    const hook = index.find('container.run hook broken', runId, 0)!;
    expect(hook.attributes).toMatchObject({ [OsaAttributes.Outcome]: 'failed', [OsaAttributes.ExitKind]: 'hook_exit' });
    expect(failed.attributes).toMatchObject({ [OsaAttributes.Applied]: true });
    expect([traceId(ingester), traceId(hook)]).toEqual([traceId(failed), traceId(failed)]);
    expect(index.ancestors(failed)).toContain(index.processSpan(JobId.batchReady(runId, 0)));
  });
});

/** The span and what it started, one line each; the next batch's chain is cut at its job. */
function printTree(index: SpanIndex, root: ReadableSpan): string {
  const lines: string[] = [];
  const visit = (span: ReadableSpan, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${span.name}  [${index.service(span)}]  ${durationMs(span).toFixed(1)} ms${spanSummary(span)}`);
    if (span.name.startsWith(`add ${QueueName.NextBatch}`)) return;
    for (const child of index.children(span)) visit(child, depth + 1);
  };
  visit(root, 0);
  return lines.join('\n');
}

function spanSummary(span: ReadableSpan): string {
  const a = span.attributes;
  if (a[OsaAttributes.Outcome] !== undefined) return `  outcome=${String(a[OsaAttributes.Outcome])} memory=${String(a[OsaAttributes.MemoryBytes])}`;
  if (a[OsaAttributes.Applied] !== undefined) return `  applied=${String(a[OsaAttributes.Applied])}`;
  return '';
}
