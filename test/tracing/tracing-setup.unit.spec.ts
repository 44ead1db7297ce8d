import { trace } from '@opentelemetry/api';
import { ConfigError } from '#osa/config';
import { inSpan, OsaAttributes, queueTelemetry, startTracing, traceContainerRunner, tracingEnabled } from '#osa/observability';
import type { ContainerRunner } from '#osa/runners';
import { OtlpReceiver } from './otlp-receiver.js';

const runner: ContainerRunner = {
  run: () => Promise.reject(new Error('not used')),
  capacity: () => Promise.resolve({ available: true }),
};

describe('tracing setup', () => {
  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT: no provider, no BullMQ telemetry, spans are no-ops', async () => {
    const tracing = await startTracing('osa-test', {});
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(queueTelemetry()).toBeUndefined();
    expect(traceContainerRunner(runner)).toBe(runner);
    await inSpan('no-op', {}, (span) => {
      expect(span.isRecording()).toBe(false);
      return Promise.resolve();
    });
  });

  it.each(['otel-collector:4318', 'ftp://collector', 'not a url'])('refuses OTEL_EXPORTER_OTLP_ENDPOINT=%j, naming the variable', async (value) => {
    await expect(startTracing('osa-test', { OTEL_EXPORTER_OTLP_ENDPOINT: value })).rejects.toThrow(ConfigError);
    await expect(startTracing('osa-test', { OTEL_EXPORTER_OTLP_ENDPOINT: value })).rejects.toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/,
    );
    expect(tracingEnabled()).toBe(false);
  });

  it('exports spans over OTLP/HTTP to <endpoint>/v1/traces with the service name, and turns off again at shutdown', async () => {
    const receiver = await OtlpReceiver.start();
    try {
      const tracing = await startTracing('osa-test-service', { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/` });
      expect(tracing.enabled).toBe(true);
      expect(queueTelemetry()).toBeDefined();
      expect(traceContainerRunner(runner)).not.toBe(runner);
      await expect(startTracing('osa-second', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })).rejects.toThrow(/already registered/);

      await inSpan('unit-span', { [OsaAttributes.RunId]: 'run-1' }, (outer) => {
        expect(outer.isRecording()).toBe(true);
        // The span is active inside: what starts there is its child.
        expect(trace.getActiveSpan()?.spanContext().spanId).toBe(outer.spanContext().spanId);
        return Promise.resolve();
      });
      // Buffered by the batch processor until flushed; shutdown flushes.
      await tracing.shutdown();

      expect(receiver.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/traces']);
      expect(receiver.spans).toEqual([
        expect.objectContaining({ service: 'osa-test-service', name: 'unit-span', attributes: { [OsaAttributes.RunId]: 'run-1' } }),
      ]);
      expect(tracingEnabled()).toBe(false);
      expect(queueTelemetry()).toBeUndefined();
      await inSpan('after-shutdown', {}, (span) => {
        expect(span.isRecording()).toBe(false);
        return Promise.resolve();
      });
    } finally {
      await receiver.close();
    }
  });
});
