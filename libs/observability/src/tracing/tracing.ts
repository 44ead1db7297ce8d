import { context, propagation, trace } from '@opentelemetry/api';
// Types only: the SDK and the exporter (~18 MB resident) are loaded when tracing is turned on.
import type { NodeTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { ConfigError } from '#osa/config';

/** The tracer (instrumentation scope) of every span the pipeline itself starts. */
export const TRACER_NAME = 'osa-ingest';

export const OTLP_ENDPOINT_VARIABLE = 'OTEL_EXPORTER_OTLP_ENDPOINT';

/** The tracing of this process: on once a provider is registered, until it is shut down. */
export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is buffered and unregisters the provider (spans are no-ops afterwards). */
  shutdown(): Promise<void>;
}

const DISABLED: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

let active: { provider: NodeTracerProvider; telemetry: Telemetry } | undefined;

/**
 * A service's tracing from its environment: on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set
 * (spans batched and sent over OTLP/HTTP to `<endpoint>/v1/traces`, with `service.name` =
 * `serviceName`), off otherwise — then no provider is registered and every span the code starts
 * is the OpenTelemetry API's no-op. Call it before the application module is built: queues and
 * workers take their telemetry option when they are constructed (see {@link queueTelemetry}).
 * Off, the SDK is not even loaded.
 */
export async function startTracing(serviceName: string, env: Record<string, string | undefined> = process.env): Promise<Tracing> {
  const endpoint = otlpEndpoint(env);
  if (!endpoint) return DISABLED;
  const [{ OTLPTraceExporter }, { BatchSpanProcessor }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  return registerTracing(serviceName, [new BatchSpanProcessor(exporter)]);
}

/**
 * Registers a tracer provider for this process with the given span processors (an in-memory
 * exporter in a test, say): the global provider, the AsyncLocalStorage context manager that
 * carries the active span across awaits, and the W3C trace-context propagator that BullMQ's
 * telemetry uses to write a job's context into the job and read it back in the worker.
 */
export async function registerTracing(serviceName: string, spanProcessors: SpanProcessor[]): Promise<Tracing> {
  const [{ NodeTracerProvider }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
  ]);
  if (active) throw new Error('tracing is already registered in this process');
  const provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': serviceName }), spanProcessors });
  provider.register();
  const registered = { provider, telemetry: new BullMQOtel({ tracerName: TRACER_NAME }) };
  active = registered;
  return {
    enabled: true,
    shutdown: async () => {
      if (active !== registered) return;
      active = undefined;
      await registered.provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Whether a tracer provider is registered in this process. */
export function tracingEnabled(): boolean {
  return active !== undefined;
}

/**
 * The `telemetry` option for every BullMQ Queue and Worker: with it a job added while a span is
 * active carries that span's context in its options, and the worker processing it starts its
 * span as that context's child, so one run's trace follows its jobs across the services.
 * Undefined while tracing is off, so BullMQ does no tracing work at all.
 */
export function queueTelemetry(): Telemetry | undefined {
  return active?.telemetry;
}

/** Exports the spans still buffered (on application shutdown); nothing when tracing is off. */
export async function flushTracing(): Promise<void> {
  await active?.provider.forceFlush();
}

function otlpEndpoint(env: Record<string, string | undefined>): string | undefined {
  const value = env[OTLP_ENDPOINT_VARIABLE]?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError([`${OTLP_ENDPOINT_VARIABLE}: must be an http(s) URL such as http://otel-collector:4318, got ${JSON.stringify(value)}`]);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError([`${OTLP_ENDPOINT_VARIABLE}: must be an http(s) URL such as http://otel-collector:4318, got ${JSON.stringify(value)}`]);
  }
  return value;
}

/**
 * {@link startTracing} for one of the services (`service.name` is `osa-<app>`), called first in
 * its entry point; a bad `OTEL_EXPORTER_OTLP_ENDPOINT` stops it with exit code 2 and the
 * problem, as a bad variable of the configuration does.
 */
export async function startServiceTracing(appName: string): Promise<Tracing> {
  try {
    return await startTracing(`osa-${appName}`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${appName}: ${err.message}`);
    process.exit(2);
  }
}
