import { ConflictException, NotFoundException } from '@nestjs/common';
import type { ReplayResult } from '#osa/pipeline';
import { badRequest, problemToField } from './validation.js';

/** Maps a replay outcome to the HTTP answer: 202 with what was requeued, or why not. */
export function replayResponse(runId: string, result: ReplayResult) {
  switch (result.outcome) {
    case 'replayed':
      return {
        runId,
        replay: result.replay,
        reopened: result.reopened,
        status: result.run.status,
        batches: result.requeued ?? [],
        skipped: result.skipped,
      };
    case 'not-found':
      throw new NotFoundException(`no run ${runId}`);
    case 'nothing-to-replay':
      throw new ConflictException({
        statusCode: 409,
        error: 'Conflict',
        message: `run ${runId} has no failed batch that can be replayed`,
        skipped: result.skipped,
      });
    case 'active-run-exists':
      throw new ConflictException(
        `run ${runId} cannot be reopened: its convention has another active run${result.activeRunId ? ` (${result.activeRunId})` : ''}`,
      );
    case 'invalid-override':
      throw badRequest('replay override', result.problems.map(problemToField));
  }
}
