import { ErrorKind } from './error-kind.js';
import { type ErrorContext, InfrastructureError } from './infrastructure.error.js';

/** A failure that may succeed when tried again later: retried with capped backoff. */
export class TransientError extends InfrastructureError {
  readonly retryable = true;

  constructor(
    message: string,
    kind: ErrorKind = ErrorKind.Unexpected,
    logTail: readonly string[] = [],
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, kind, logTail, context, options);
    this.name = 'TransientError';
    Object.setPrototypeOf(this, TransientError.prototype);
  }
}
