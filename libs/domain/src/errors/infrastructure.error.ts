import type { ErrorKind } from './error-kind.js';

export interface ErrorContext {
  runId?: string;
  batchIndex?: number;
  stage?: string;
  hook?: string;
  [key: string]: unknown;
}

/**
 * Base of every failure the pipeline classifies. Carries a machine-readable kind, the
 * container's last log lines (captured before cleanup) and context, rather than formatting
 * them into the message.
 */
export abstract class InfrastructureError extends Error {
  abstract readonly retryable: boolean;

  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly logTail: readonly string[] = [],
    readonly context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
