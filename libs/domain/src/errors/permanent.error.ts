import type { ErrorKind } from './error-kind.js';
import { type ErrorContext, InfrastructureError } from './infrastructure.error.js';

/** A failure that will fail again: never retried, accounted at once with its reason. */
export class PermanentError extends InfrastructureError {
  readonly retryable: boolean = false;

  constructor(message: string, kind: ErrorKind, logTail: readonly string[] = [], context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, kind, logTail, context, options);
    this.name = 'PermanentError';
    Object.setPrototypeOf(this, PermanentError.prototype);
  }
}
