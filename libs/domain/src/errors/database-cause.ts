/** How many `cause` links are followed looking for the database's own error. */
const MAX_CAUSE_DEPTH = 8;

/** The error pg raises for an error the server sent: its own message and SQLSTATE code. */
interface ServerError extends Error {
  code: string;
  severity: string;
}

function isServerError(err: unknown): err is ServerError {
  const candidate = err as Partial<ServerError> | null;
  return (
    err instanceof Error && typeof candidate?.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code) && typeof candidate.severity === 'string'
  );
}

/** drizzle's query error: its message is the SQL text and its parameters, i.e. record data. */
function isQueryError(err: unknown): boolean {
  return err instanceof Error && typeof (err as { query?: unknown }).query === 'string' && 'params' in err;
}

/**
 * Says what went wrong with a database call without the query or its parameters: the server's
 * message and SQLSTATE (`database error 22P05: unsupported Unicode escape sequence`), or, for a
 * query that never got an answer, the cause the driver gave (`Connection terminated
 * unexpectedly`). Undefined when no database error is in the `cause` chain.
 */
export function describeDatabaseCause(err: unknown): string | undefined {
  let wrapped = false;
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (isServerError(current)) return `database error ${current.code}: ${current.message}`;
    if (isQueryError(current)) wrapped = true;
    else if (wrapped) return `database query failed: ${current.message}`;
    current = current.cause;
  }
  return wrapped ? 'database query failed (the driver gave no cause)' : undefined;
}
