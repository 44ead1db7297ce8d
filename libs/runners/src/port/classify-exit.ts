import { ErrorKind, PermanentError, TransientError } from '#osa/domain';
import type { ContainerRunRequest } from './container-runner.port.js';

/**
 * The one place that decides what a non-zero exit means, for every runner: an ingester's exit
 * is transient (upstream APIs fail and recover) unless the convention lists the code as
 * permanent; a hook's exit is permanent (hook logic is deterministic on the same input).
 */
export function exitError(request: ContainerRunRequest, exitCode: number, logTail: string[]): Error {
  const context = { runId: request.runId, batchIndex: request.batchIndex, hook: request.hook, exitCode };
  if (request.role === 'hook') {
    return new PermanentError(`hook "${request.hook}" exited with code ${exitCode}`, ErrorKind.HookExit, logTail, context);
  }
  if (request.permanentExitCodes?.includes(exitCode)) {
    return new PermanentError(
      `ingester exited with code ${exitCode}, which the convention lists as permanent`,
      ErrorKind.IngesterExit,
      logTail,
      context,
    );
  }
  return new TransientError(`ingester exited with code ${exitCode}`, ErrorKind.IngesterExit, logTail, context);
}

/** A short description of the container for messages: `ingester` or `hook "check_schema"`. */
export function describeContainer(request: Pick<ContainerRunRequest, 'role' | 'hook'>): string {
  return request.role === 'hook' ? `hook "${request.hook}"` : 'ingester';
}
