import { inLedgerSpan, tracingEnabled } from '#osa/observability';
import { type Database, type LedgerResult, RunLedger } from '#osa/persistence';

/** The run ledger with a span around each batch transition's transaction (see inLedgerSpan). */
export class TracedRunLedger extends RunLedger {
  override recordSourced(...args: Parameters<RunLedger['recordSourced']>): Promise<LedgerResult> {
    const [batch] = args;
    return inLedgerSpan('recordSourced', batch.runId, batch.batchIndex, () => super.recordSourced(...args));
  }

  override recordHooked(...args: Parameters<RunLedger['recordHooked']>): Promise<LedgerResult> {
    const [batch] = args;
    return inLedgerSpan('recordHooked', batch.runId, batch.batchIndex, () => super.recordHooked(...args));
  }

  override recordPublished(...args: Parameters<RunLedger['recordPublished']>): Promise<LedgerResult> {
    const [runId, batchIndex] = args;
    return inLedgerSpan('recordPublished', runId, batchIndex, () => super.recordPublished(...args));
  }

  override failBatch(...args: Parameters<RunLedger['failBatch']>): Promise<LedgerResult> {
    const [runId, batchIndex] = args;
    return inLedgerSpan('failBatch', runId, batchIndex, () => super.failBatch(...args));
  }

  override failIngestion(...args: Parameters<RunLedger['failIngestion']>): Promise<LedgerResult> {
    const [runId, batchIndex] = args;
    return inLedgerSpan('failIngestion', runId, batchIndex, () => super.failIngestion(...args));
  }
}

/** The services' run ledger on `db`: traced while tracing is on. */
export function createRunLedger(db: Database): RunLedger {
  return tracingEnabled() ? new TracedRunLedger(db) : new RunLedger(db);
}
