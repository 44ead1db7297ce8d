import { MAX_LISTED_ISSUES } from '#osa/domain';
import type { IngestBatchRow, IngestRunRow } from '#osa/persistence';

/** Counts of a run's batches by ledger state, from its ledger rows. */
export function batchStates(batches: readonly IngestBatchRow[]) {
  const count = (state: string) => batches.filter((b) => b.state === state).length;
  return { sourced: count('sourced'), hooked: count('hooked'), published: count('published'), failed: count('failed'), empty: count('empty') };
}

/** One greppable progress line. */
export function progressLine(run: IngestRunRow, batches: readonly IngestBatchRow[], startedAt: number): string {
  const s = batchStates(batches);
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  const rate = run.recordsSourced / seconds;
  let eta = '';
  if (run.recordLimit && rate > 0 && run.status === 'running') {
    eta = ` eta ${Math.max(0, Math.round((run.recordLimit - run.recordsSourced) / rate))}s`;
  }
  const waiting = run.waitingReason ? ` waiting: ${run.waitingReason}` : '';
  return (
    `run ${run.id.slice(0, 8)} ${run.status}: batches sourced ${run.batchesIngested} ` +
    `(waiting hooks ${s.sourced}, waiting publish ${s.hooked}) published ${run.batchesCompleted} failed ${run.batchesFailed}; ` +
    `records sourced ${run.recordsSourced} published ${run.publishedCount} rejected ${run.rejectedCount} errored ${run.erroredCount} ` +
    `invalid ${run.invalidCount}; ${rate.toFixed(0)} rec/s${eta}${waiting}`
  );
}

/** The run card: what an operator needs to see what happened to every batch. */
export function runSummary(run: IngestRunRow, batches: readonly IngestBatchRow[], issuesNotListed = 0): string {
  const lines = [
    `run        ${run.id}`,
    `convention ${run.conventionId}`,
    `status     ${run.status}${run.ingestionFinished ? '' : ' (ingesting)'}`,
    `batches    ingested ${run.batchesIngested}, completed ${run.batchesCompleted}, failed ${run.batchesFailed}`,
    `records    sourced ${run.recordsSourced}, published ${run.publishedCount}, rejected ${run.rejectedCount}, errored ${run.erroredCount}, invalid lines ${run.invalidCount}`,
  ];
  const hookTotals = new Map<string, { passed: number; rejected: number; errored: number; missing: number; invalid: number }>();
  for (const batch of batches) {
    for (const [hook, counts] of Object.entries(batch.hookCounts)) {
      const total = hookTotals.get(hook) ?? { passed: 0, rejected: 0, errored: 0, missing: 0, invalid: 0 };
      for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += counts[key] ?? 0;
      hookTotals.set(hook, total);
    }
  }
  for (const [hook, t] of hookTotals) {
    lines.push(
      `hook       ${hook}: passed ${t.passed}, rejected ${t.rejected}, errored ${t.errored}, missing ${t.missing}, invalid lines ${t.invalid}`,
    );
  }
  if (issuesNotListed > 0)
    lines.push(`issues     ${issuesNotListed} counted but not listed (each stage step lists at most ${MAX_LISTED_ISSUES} per batch)`);
  if (run.deferrals > 0) lines.push(`waited     ${run.deferrals} deferrals, ${(run.deferredMs / 1000).toFixed(1)}s`);
  if (run.failureReason) lines.push(`last failure [${run.failureKind}] ${run.failureReason}`);
  for (const batch of batches.filter((b) => b.state === 'failed')) {
    lines.push(`  batch ${batch.batchIndex} failed in ${batch.failureStage}: [${batch.failureKind}] ${batch.failureReason}`);
    for (const log of (batch.failureLogs ?? []).slice(-5)) lines.push(`    | ${log}`);
  }
  if (run.completedAt && run.createdAt) {
    lines.push(`duration   ${((run.completedAt.getTime() - run.createdAt.getTime()) / 1000).toFixed(1)}s`);
  }
  return lines.join('\n');
}
