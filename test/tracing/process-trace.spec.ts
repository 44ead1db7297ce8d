import { OsaAttributes } from '#osa/observability';
import { QueueName } from '#osa/queues';
import { countingConvention } from '../support/pipeline-harness.js';
import { buildServices, ProcessHarness } from '../support/process-harness.js';
import { OTLP_CONSUMER, OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

/**
 * The services as the separate processes they are in production (the built entry points), each
 * exporting over OTLP/HTTP to a receiver in this test: the trace context crosses processes only
 * through the jobs in Redis, and each span names the service that made it.
 */
describe('tracing across the service processes (OTLP/HTTP to a local receiver)', () => {
  let receiver: OtlpReceiver;
  let harness: ProcessHarness;

  beforeAll(async () => {
    buildServices();
    receiver = await OtlpReceiver.start();
    harness = await ProcessHarness.start('otelprocs', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    harness.startAll();
  }, 180_000);
  afterAll(async () => {
    await harness?.stop();
    await receiver?.close();
  });

  it('exports one trace per batch, each going ingester-runner → hook-runner → publisher', async () => {
    await harness.applyConvention(countingConvention('traced', { total: 25, page_size: 10 }));
    const runId = await harness.start('traced');
    await harness.waitForRun(runId);
    // A stopping service flushes what its batch processor still holds before it exits.
    for (const name of ['ingester-runner', 'hook-runner', 'publisher'] as const) await harness.kill(name, 'SIGTERM');
    expect(harness.unexpectedExits).toEqual([]);

    const spans = receiver.spans;
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let next = span.parentSpanId && byId.get(span.parentSpanId); next; next = next.parentSpanId && byId.get(next.parentSpanId))
        chain.push(next);
      return chain;
    };
    const find = (name: string, n: number) =>
      spans.find((s) => s.name === name && s.attributes[OsaAttributes.RunId] === runId && s.attributes[OsaAttributes.BatchIndex] === n);

    const traces = new Set<string>();
    for (const n of [0, 1, 2]) {
      const ingester = find('container.run ingester', n);
      const hook = find('container.run hook flag', n);
      const published = find('ledger recordPublished', n);
      expect([ingester?.service, hook?.service, published?.service]).toEqual(['osa-ingester-runner', 'osa-hook-runner', 'osa-publisher']);
      expect(new Set([ingester!.traceId, hook!.traceId, published!.traceId]).size).toBe(1);
      traces.add(published!.traceId);

      expect(
        ancestors(published!)
          .slice(0, 5)
          .map((s) => `${s.name} @ ${s.service}`),
      ).toEqual([
        `process ${QueueName.HooksCompleted} @ osa-publisher`,
        `add ${QueueName.HooksCompleted}.hooks-completed @ osa-hook-runner`,
        `process ${QueueName.BatchReady} @ osa-hook-runner`,
        `add ${QueueName.BatchReady}.batch-ready @ osa-ingester-runner`,
        `process ${QueueName.NextBatch} @ osa-ingester-runner`,
      ]);
      expect(ancestors(hook!).some((s) => s.kind === OTLP_CONSUMER && s.name === `process ${QueueName.BatchReady}`)).toBe(true);

      // Every span of the batch's trace has its parent in it, but its pull's job span.
      const trace = spans.filter((s) => s.traceId === published!.traceId);
      expect(trace.filter((s) => !s.parentSpanId).map((s) => `${s.name} @ ${s.service}`)).toEqual([
        `process ${QueueName.NextBatch} @ osa-ingester-runner`,
      ]);
      expect(trace.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId))).toEqual([]);
    }
    expect(traces.size).toBe(3);

    const batchOne = ancestors(find('ledger recordPublished', 1)!).find((s) => s.name === `process ${QueueName.NextBatch}`)!;
    console.log(`span tree of batch 1, services as separate processes (run ${runId}):\n${printTree(spans, batchOne)}`);
  });
});

/** The span and what it started, one line each; the next batch's chain is cut at its job. */
function printTree(spans: ReceivedSpan[], root: ReceivedSpan): string {
  const lines: string[] = [];
  const visit = (span: ReceivedSpan, depth: number) => {
    const applied = span.attributes[OsaAttributes.Applied];
    const outcome = span.attributes[OsaAttributes.Outcome] ?? (applied === undefined ? undefined : applied ? 'applied' : 'not applied');
    lines.push(
      `${'  '.repeat(depth)}${span.name}  [${span.service}]  ${span.durationMs.toFixed(1)} ms${outcome === undefined ? '' : `  ${String(outcome)}`}`,
    );
    if (span.name.startsWith(`add ${QueueName.NextBatch}`)) return;
    for (const child of spans.filter((s) => s.parentSpanId === span.spanId)) visit(child, depth + 1);
  };
  visit(root, 0);
  return lines.join('\n');
}
