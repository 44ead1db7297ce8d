import { UnrecoverableError } from 'bullmq';
import { InfrastructureError, PermanentError } from '#osa/domain';

export interface BackoffSettings {
  backoffBaseMs: number;
  backoffCapMs: number;
  unexpectedBaseMs: number;
  unexpectedCapMs: number;
}

/** The custom backoff type every stage job uses; the Worker's backoffStrategy handles it. */
export const BACKOFF_TYPE = 'osa-capped';

export type RetryDecision = 'give-up' | 'retry-transient' | 'retry-unexpected';

/** The one place that decides retry vs give up, for every stage. */
export function decideRetry(err: unknown): RetryDecision {
  if (err instanceof PermanentError || err instanceof UnrecoverableError) return 'give-up';
  if (err instanceof InfrastructureError) return 'retry-transient';
  return 'retry-unexpected';
}

/** min(cap, base · 2^(attempt-1)); unexpected errors use their own, shorter schedule. */
export function backoffDelay(attemptsMade: number, err: unknown, settings: BackoffSettings): number {
  const decision = decideRetry(err);
  const exponent = Math.max(0, attemptsMade - 1);
  if (decision === 'retry-transient') return Math.min(settings.backoffCapMs, settings.backoffBaseMs * 2 ** exponent);
  return Math.min(settings.unexpectedCapMs, settings.unexpectedBaseMs * 2 ** exponent);
}

/**
 * Failed-reason text kept by BullMQ: `[kind] message`, so the reconciler can recover the kind
 * of a failure whose in-process accounting was lost.
 */
export function failedReason(kind: string, message: string): string {
  return `[${kind}] ${message}`;
}

export function parseFailedReason(reason: string | undefined): { kind: string | undefined; message: string } {
  const match = /^\[([a-z_]+)\] ([\s\S]*)$/.exec(reason ?? '');
  return match ? { kind: match[1], message: match[2]! } : { kind: undefined, message: reason ?? 'unknown failure' };
}
