import { toStorableText } from '../text/storable-text.js';
import { describeDatabaseCause } from './database-cause.js';
import { ErrorKind } from './error-kind.js';
import { InfrastructureError } from './infrastructure.error.js';

/** What the ledger keeps about a failure: it outlives the container and the queue job. */
export interface FailureRecord {
  kind: ErrorKind;
  reason: string;
  logTail: string[];
}

/** The longest stored reason, in characters. */
const MAX_FAILURE_REASON = 2000;
/** How many of a container's last log lines are kept, and how long each may be. */
const MAX_LOG_LINES = 50;
const MAX_LOG_LINE = 500;

/**
 * What to keep of a failure. A classified failure keeps its message and the container's own
 * last log lines. An unexpected one keeps its cause in words: for a database error the server's
 * message and SQLSTATE, never the query or its parameters (record data), and no stack trace
 * (the service's own code paths are no business of the run's operators). Everything is bounded
 * and made storable in Postgres (a container may print NUL).
 */
export function describeFailure(err: unknown): FailureRecord {
  if (err instanceof InfrastructureError) {
    return {
      kind: err.kind,
      reason: bounded(err.message, MAX_FAILURE_REASON),
      logTail: err.logTail.slice(-MAX_LOG_LINES).map((line) => bounded(line, MAX_LOG_LINE)),
    };
  }
  return { kind: ErrorKind.Unexpected, reason: bounded(unexpectedReason(err), MAX_FAILURE_REASON), logTail: [] };
}

function unexpectedReason(err: unknown): string {
  const database = describeDatabaseCause(err);
  if (database) return database;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function bounded(text: string, max: number): string {
  return toStorableText(text.length > max ? `${text.slice(0, max - 1)}…` : text);
}
