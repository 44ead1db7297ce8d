import { ConflictException, NotFoundException } from '@nestjs/common';
import type { RunLedger } from '#osa/persistence';

/**
 * Lifts the failure breaker's pause of a run, for the API and the run page alike: 404 for an
 * unknown run, 409 for one that is not paused (resuming it would reset the breaker's count) or
 * no longer active.
 */
export async function resumeRun(ledger: RunLedger, runId: string): Promise<void> {
  const result = await ledger.resume(runId);
  if (result.outcome === 'resumed') return;
  if (result.outcome === 'not-found') throw new NotFoundException(`no run ${runId}`);
  if (result.outcome === 'not-paused') throw new ConflictException(`run ${runId} is not paused`);
  throw new ConflictException(`run ${runId} is not active (${result.run.status}): only an active run can be resumed`);
}
