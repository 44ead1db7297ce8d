import { MAX_LISTED_ISSUES } from '#osa/domain';
import type { BatchCountsByState, BatchView, RunDetail, RunSummary } from '#osa/persistence';

/** One greppable progress line. */
export function progressLine(run: RunSummary, byState: BatchCountsByState, startedAt: number): string {
  const c = run.counters;
  const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
  const rate = c.recordsSourced / seconds;
  let eta = '';
  if (run.recordLimit && rate > 0 && run.status === 'running') {
    eta = ` eta ${Math.max(0, Math.round((run.recordLimit - c.recordsSourced) / rate))}s`;
  }
  const waiting = run.waiting.reason ? ` waiting: ${run.waiting.reason}` : '';
  return (
    `run ${run.id.slice(0, 8)} ${run.status}: batches sourced ${c.batchesIngested} ` +
    `(waiting hooks ${byState.sourced}, waiting publish ${byState.hooked}) published ${c.batchesPublished} failed ${c.batchesFailed}; ` +
    `records sourced ${c.recordsSourced} published ${c.published} rejected ${c.rejected} errored ${c.errored} ` +
    `invalid ${c.invalid}; ${rate.toFixed(0)} rec/s${eta}${waiting}`
  );
}

/** The run card as text: what an operator needs to see what happened to every batch. */
export function runCard(detail: RunDetail, failedBatches: readonly BatchView[]): string {
  const { summary: run, hookOutcomes, issuesNotListed } = detail;
  const c = run.counters;
  const lines = [
    `run        ${run.id}`,
    `convention ${run.conventionId}`,
    `status     ${run.status}${run.ingestionFinished ? '' : ' (ingesting)'}`,
    `batches    ingested ${c.batchesIngested}, published ${c.batchesPublished}, failed ${c.batchesFailed}`,
    `records    sourced ${c.recordsSourced}, published ${c.published}, rejected ${c.rejected}, errored ${c.errored}, invalid lines ${c.invalid}`,
  ];
  for (const [hook, t] of Object.entries(hookOutcomes)) {
    lines.push(
      `hook       ${hook}: passed ${t.passed}, rejected ${t.rejected}, errored ${t.errored}, missing ${t.missing}, invalid lines ${t.invalid}`,
    );
  }
  if (issuesNotListed > 0)
    lines.push(`issues     ${issuesNotListed} counted but not listed (each stage step lists at most ${MAX_LISTED_ISSUES} per batch)`);
  if (run.waiting.deferrals > 0) lines.push(`waited     ${run.waiting.deferrals} deferrals, ${(run.waiting.deferredMs / 1000).toFixed(1)}s`);
  if (run.latestFailure) lines.push(`last failure [${run.latestFailure.kind}] ${run.latestFailure.reason}`);
  for (const batch of failedBatches) {
    if (!batch.failure) continue;
    lines.push(`  batch ${batch.batchIndex} failed in ${batch.failure.stage}: [${batch.failure.kind}] ${batch.failure.reason}`);
    for (const log of batch.failure.logs.slice(-5)) lines.push(`    | ${log}`);
  }
  if (run.completedAt) {
    lines.push(`duration   ${((run.completedAt.getTime() - run.createdAt.getTime()) / 1000).toFixed(1)}s`);
  }
  return lines.join('\n');
}
