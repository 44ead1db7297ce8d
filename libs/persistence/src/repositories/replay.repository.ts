import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { type Convention, ingestRunReplayed, InvalidConventionError, type ReplayResumeState, RunStatus, validateConvention } from '#osa/domain';
import type { Database, Executor } from '../database/database.js';
import { type IngestRunRow, ingestBatches, ingestRuns } from '../schema/tables.js';
import { OutboxRepository } from './outbox.repository.js';

/** Limits to give the replayed batches' hooks, written to the run's convention snapshot. */
export interface ReplayOverride {
  /** The hook to change; every hook of the convention when absent. */
  hook?: string;
  memory?: string;
  image?: string;
}

export interface ReplayRequest {
  runId: string;
  /** The failed batches to replay; every replayable failed batch when absent. */
  batchIndexes?: readonly number[];
  override?: ReplayOverride;
}

/** A reset batch and the stage it goes back to: hooks (`sourced`) or the publisher (`hooked`). */
export interface ReplayedBatch {
  batchIndex: number;
  state: ReplayResumeState;
}

export interface SkippedBatch {
  batchIndex: number;
  reason: string;
}

export type ReplayOutcome =
  | { outcome: 'replayed'; run: IngestRunRow; replay: number; reopened: boolean; batches: ReplayedBatch[]; skipped: SkippedBatch[] }
  | { outcome: 'not-found' }
  | { outcome: 'nothing-to-replay'; skipped: SkippedBatch[] }
  | { outcome: 'active-run-exists'; activeRunId: string | undefined }
  | { outcome: 'invalid-override'; problems: string[] };

const UNIQUE_VIOLATION = '23505';

/**
 * Re-opens the failed batches of a run for another try. Only batches that failed in the hooks
 * or the publisher can be replayed: their sourced output is still on the ledger. A batch goes
 * back to `hooked` when its hook outcomes were already committed (so its rejected and errored
 * counts are not counted twice), else to `sourced`. The run's failed-batch counter drops by the
 * same number and a completed run is running again, all in one transaction with the run row
 * locked, so concurrent replays and stage steps serialize. An `IngestRunReplayed` event keeps
 * each batch's previous failure in the outbox (the run's audit trail). The caller then
 * re-enqueues each batch's job. Reached only through RunLedger.reopenFailedBatches.
 */
export class ReplayRepository {
  constructor(private readonly outbox = new OutboxRepository()) {}

  async reopenFailedBatches(db: Database, request: ReplayRequest): Promise<ReplayOutcome> {
    try {
      return await db.transaction((tx) => this.reopen(tx, request));
    } catch (err) {
      if (pgCode(err) !== UNIQUE_VIOLATION) throw err;
      // The run was completed and its convention has started another run since.
      const [target] = await db.select({ conventionId: ingestRuns.conventionId }).from(ingestRuns).where(eq(ingestRuns.id, request.runId));
      const [active] = target
        ? await db
            .select({ id: ingestRuns.id })
            .from(ingestRuns)
            .where(and(eq(ingestRuns.conventionId, target.conventionId), inArray(ingestRuns.status, [RunStatus.Pending, RunStatus.Running])))
        : [];
      return { outcome: 'active-run-exists', activeRunId: active?.id };
    }
  }

  private async reopen(tx: Executor, request: ReplayRequest): Promise<ReplayOutcome> {
    const { runId } = request;
    const [run] = await tx.select().from(ingestRuns).where(eq(ingestRuns.id, runId)).for('update');
    if (!run) return { outcome: 'not-found' };

    const failed = await tx
      .select()
      .from(ingestBatches)
      .where(and(eq(ingestBatches.runId, runId), eq(ingestBatches.state, 'failed')))
      .for('update');
    const skipped: SkippedBatch[] = [];
    const wanted = request.batchIndexes ? new Set(request.batchIndexes) : undefined;
    for (const index of wanted ?? []) {
      if (!failed.some((b) => b.batchIndex === index)) skipped.push({ batchIndex: index, reason: 'not a failed batch of this run' });
    }
    const candidates = failed.filter((b) => !wanted || wanted.has(b.batchIndex));
    for (const batch of candidates.filter((b) => b.failureStage === 'ingester')) {
      skipped.push({ batchIndex: batch.batchIndex, reason: 'the ingester never sourced it; start a new run to pull it again' });
    }
    const replayable = candidates.filter((b) => b.failureStage !== 'ingester');
    if (replayable.length === 0) return { outcome: 'nothing-to-replay', skipped };

    let convention: Convention = run.convention;
    if (request.override) {
      const changed = applyOverride(run.convention, request.override);
      if ('problems' in changed) return { outcome: 'invalid-override', problems: changed.problems };
      convention = changed.convention;
    }

    const indexes = replayable.map((b) => b.batchIndex);
    const reset = await tx
      .update(ingestBatches)
      .set({
        state: sql`CASE WHEN ${ingestBatches.hooksAttempt} IS NULL THEN 'sourced' ELSE 'hooked' END`,
        failureStage: null,
        failureReason: null,
        failureKind: null,
        failureLogs: null,
        failedAt: null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(ingestBatches.runId, runId),
          inArray(ingestBatches.batchIndex, indexes),
          eq(ingestBatches.state, 'failed'),
          ne(ingestBatches.failureStage, 'ingester'),
        ),
      )
      .returning({ batchIndex: ingestBatches.batchIndex, state: ingestBatches.state });

    const reopened = run.status === RunStatus.Completed;
    const [updated] = await tx
      .update(ingestRuns)
      .set({
        batchesFailed: sql`${ingestRuns.batchesFailed} - ${reset.length}`,
        status: RunStatus.Running,
        completedAt: null,
        convention,
        updatedAt: sql`now()`,
      })
      .where(and(eq(ingestRuns.id, runId), sql`${ingestRuns.batchesFailed} >= ${reset.length}`))
      .returning();
    if (!updated) throw new Error(`run ${runId}: batches_failed is below the ${reset.length} failed batches being replayed`);

    const replay = (await this.outbox.count(tx, runId, 'IngestRunReplayed')) + 1;
    const batches = reset.map((r) => ({ batchIndex: r.batchIndex, state: r.state as ReplayResumeState })).sort((a, b) => a.batchIndex - b.batchIndex);
    await this.outbox.append(
      tx,
      ingestRunReplayed({
        runId,
        conventionId: run.conventionId,
        replay,
        reopened,
        override: request.override ?? null,
        batches: batches.map(({ batchIndex, state }) => {
          const previous = replayable.find((b) => b.batchIndex === batchIndex)!;
          return {
            batchIndex,
            resumesAt: state,
            previousFailure: { stage: previous.failureStage, kind: previous.failureKind, reason: previous.failureReason },
          };
        }),
      }),
    );
    return { outcome: 'replayed', run: updated, replay, reopened, batches, skipped };
  }
}

function applyOverride(convention: Convention, override: ReplayOverride): { convention: Convention } | { problems: string[] } {
  if (override.hook && !convention.hooks.some((h) => h.name === override.hook)) {
    return { problems: [`hook: the run's convention has no hook "${override.hook}"`] };
  }
  const hooks = convention.hooks.map((hook) => {
    if (override.hook && hook.name !== override.hook) return hook;
    return {
      ...hook,
      ...(override.image ? { image: override.image } : {}),
      ...(override.memory ? { limits: { ...hook.limits, memory: override.memory } } : {}),
    };
  });
  try {
    return { convention: validateConvention({ ...convention, hooks }, 'override') };
  } catch (err) {
    if (err instanceof InvalidConventionError) return { problems: err.problems };
    throw err;
  }
}

function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
