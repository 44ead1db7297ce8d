import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { ConfigError } from '#osa/config';
import { inSpan, OsaAttributes, queueTelemetry, startTracing, traceContainerRunner, tracingEnabled } from '#osa/observability';
import type { ContainerRunner } from '#osa/runners';

/** An OTLP/HTTP receiver on a free local port: keeps every request's path and body. */
async function otlpReceiver() {
  const requests: Array<{ method: string; path: string; body: string }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const runner: ContainerRunner = {
  run: () => Promise.reject(new Error('not used')),
  capacity: () => Promise.resolve({ available: true }),
};

describe('tracing setup', () => {
  it('is off without OTEL_EXPORTER_OTLP_ENDPOINT: no provider, no BullMQ telemetry, spans are no-ops', async () => {
    const tracing = startTracing('osa-test', {});
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    expect(queueTelemetry()).toBeUndefined();
    expect(traceContainerRunner(runner)).toBe(runner);
    await inSpan('no-op', {}, async (span) => expect(span.isRecording()).toBe(false));
  });

  it.each(['otel-collector:4318', 'ftp://collector', 'not a url'])('refuses OTEL_EXPORTER_OTLP_ENDPOINT=%j, naming the variable', (value) => {
    expect(() => startTracing('osa-test', { OTEL_EXPORTER_OTLP_ENDPOINT: value })).toThrow(ConfigError);
    expect(() => startTracing('osa-test', { OTEL_EXPORTER_OTLP_ENDPOINT: value })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/);
    expect(tracingEnabled()).toBe(false);
  });

  it('exports spans over OTLP/HTTP to <endpoint>/v1/traces with the service name, and turns off again at shutdown', async () => {
    const receiver = await otlpReceiver();
    try {
      const tracing = startTracing('osa-test-service', { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/` });
      expect(tracing.enabled).toBe(true);
      expect(queueTelemetry()).toBeDefined();
      expect(traceContainerRunner(runner)).not.toBe(runner);
      expect(() => startTracing('osa-second', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })).toThrow(/already registered/);

      await inSpan('unit-span', { [OsaAttributes.RunId]: 'run-1' }, async (outer) => {
        expect(outer.isRecording()).toBe(true);
        // The span is active inside: what starts there is its child.
        expect(trace.getActiveSpan()?.spanContext().spanId).toBe(outer.spanContext().spanId);
      });
      // Buffered by the batch processor until flushed; shutdown flushes.
      await tracing.shutdown();

      expect(receiver.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/traces']);
      const body = receiver.requests[0]!.body;
      expect(body).toContain('osa-test-service');
      expect(body).toContain('unit-span');
      expect(body).toContain('run-1');
      expect(tracingEnabled()).toBe(false);
      expect(queueTelemetry()).toBeUndefined();
      await inSpan('after-shutdown', {}, async (span) => expect(span.isRecording()).toBe(false));
    } finally {
      await receiver.close();
    }
  });
});
