import { ErrorKind } from './error-kind.js';
import { InfrastructureError } from './infrastructure.error.js';

/** What the ledger keeps about a failure: it outlives the container and the queue job. */
export interface FailureRecord {
  kind: ErrorKind;
  reason: string;
  logTail: string[];
}

const MAX_REASON = 2000;
const MAX_LOG_LINES = 50;

export function describeFailure(err: unknown): FailureRecord {
  if (err instanceof InfrastructureError) {
    return {
      kind: err.kind,
      reason: truncate(err.message),
      logTail: err.logTail.slice(-MAX_LOG_LINES).map((l) => truncate(l, 500)),
    };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { kind: ErrorKind.Unexpected, reason: truncate(message), logTail: [] };
}

function truncate(text: string, max = MAX_REASON): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
