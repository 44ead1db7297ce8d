import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { TRACER_NAME } from './tracing.js';

/**
 * Runs `body` in a new span, a child of the active one and active itself while `body` runs
 * (so what `body` starts, a job it adds included, nests under it). A thrown error is recorded
 * and marks the span as failed; the span ends when `body` settles.
 */
export function inSpan<T>(name: string, attributes: Attributes, body: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await body(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
