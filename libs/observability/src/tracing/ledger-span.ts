import { OsaAttributes } from './osa-attributes.js';
import { inSpan } from './span.js';

/** What a guarded ledger transition reports (the run ledger's result, as far as a span needs it). */
export interface LedgerOutcome {
  applied: boolean;
  runTerminal: boolean;
  completed: boolean;
}

/**
 * Runs one ledger transaction in a span (`ledger <operation>`), under the job that made it: run
 * and batch, and what the guarded transition did — `applied` (false for a repeated step),
 * `run_terminal` (the run had ended) and `completed` (this transition completed the run).
 */
export function inLedgerSpan<T extends LedgerOutcome>(
  operation: string,
  runId: string,
  batchIndex: number,
  transaction: () => Promise<T>,
): Promise<T> {
  const attributes = { [OsaAttributes.LedgerOperation]: operation, [OsaAttributes.RunId]: runId, [OsaAttributes.BatchIndex]: batchIndex };
  return inSpan(`ledger ${operation}`, attributes, async (span) => {
    const result = await transaction();
    span.setAttributes({
      [OsaAttributes.Applied]: result.applied,
      [OsaAttributes.RunTerminal]: result.runTerminal,
      [OsaAttributes.Completed]: result.completed,
    });
    return result;
  });
}
