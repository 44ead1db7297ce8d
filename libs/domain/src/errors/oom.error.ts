import { ErrorKind } from './error-kind.js';
import type { ErrorContext } from './infrastructure.error.js';
import { PermanentError } from './permanent.error.js';

/** The container was killed for exceeding its memory limit (OOMKilled, exit 137). */
export class OOMError extends PermanentError {
  constructor(
    message: string,
    readonly memoryLimitBytes: number,
    logTail: readonly string[] = [],
    context: ErrorContext = {},
  ) {
    super(message, ErrorKind.Oom, logTail, context);
    this.name = 'OOMError';
    Object.setPrototypeOf(this, OOMError.prototype);
  }
}
