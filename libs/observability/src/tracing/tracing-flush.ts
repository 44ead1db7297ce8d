import type { OnApplicationShutdown } from '@nestjs/common';
import { flushTracing } from './tracing.js';

/**
 * Exports the spans still buffered when the application stops: its last jobs' spans end while
 * the workers close, just before this runs, and the process exits right after.
 */
export class TracingFlush implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await flushTracing();
  }
}
