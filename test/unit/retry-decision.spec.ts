import { UnrecoverableError } from 'bullmq';
import { ErrorKind, InfrastructureError, OOMError, PermanentError, TransientError } from '#osa/domain';
import { toJobError } from '#osa/pipeline';
import { backoffDelay, type BackoffSettings, decideRetry, parseFailedReason, type RetryDecision } from '#osa/queues';

/**
 * The failure taxonomy (docs/architecture.md, "Failure taxonomy"): every kind with the class
 * it is raised as. `recorded` kinds are never thrown; the ledger writes them.
 */
type Raised = 'transient' | 'permanent' | 'oom' | 'plain' | 'recorded';
const TAXONOMY: Record<ErrorKind, readonly Raised[]> = {
  [ErrorKind.KubernetesApi]: ['transient'],
  [ErrorKind.Unschedulable]: ['transient'],
  [ErrorKind.Timeout]: ['transient'],
  // Transient, unless the convention lists the exit code as permanent.
  [ErrorKind.IngesterExit]: ['transient', 'permanent'],
  [ErrorKind.Evicted]: ['transient'],
  [ErrorKind.Vanished]: ['transient'],
  // Anything not classified: a bug, a dropped connection (a TransientError without a kind says the same).
  [ErrorKind.Unexpected]: ['plain', 'transient'],
  [ErrorKind.Forbidden]: ['permanent'],
  [ErrorKind.NamespaceMissing]: ['permanent'],
  [ErrorKind.ImagePull]: ['permanent'],
  [ErrorKind.HookExit]: ['permanent'],
  [ErrorKind.InvalidConvention]: ['permanent'],
  [ErrorKind.InvalidPayload]: ['permanent'],
  [ErrorKind.StrayJob]: ['permanent'],
  [ErrorKind.InvalidOutput]: ['permanent'],
  [ErrorKind.Oom]: ['oom'],
  [ErrorKind.Backpressure]: ['permanent'],
  [ErrorKind.RetriesExhausted]: ['recorded'],
};

const DECISION: Record<Exclude<Raised, 'recorded'>, RetryDecision> = {
  transient: 'retry-transient',
  permanent: 'give-up',
  oom: 'give-up',
  plain: 'retry-unexpected',
};

const LOG_TAIL = ['starting', 'last words'];

function raise(kind: ErrorKind, as: Exclude<Raised, 'recorded'>): Error {
  const message = `${kind} happened`;
  switch (as) {
    case 'transient':
      return kind === ErrorKind.Unexpected ? new TransientError(message) : new TransientError(message, kind, LOG_TAIL);
    case 'permanent':
      return new PermanentError(message, kind, LOG_TAIL);
    case 'oom':
      return new OOMError(message, 256 * 1024 * 1024, LOG_TAIL);
    case 'plain':
      return new TypeError(message);
  }
}

const CASES = Object.entries(TAXONOMY).flatMap(([kind, raisedAs]) =>
  raisedAs.filter((as): as is Exclude<Raised, 'recorded'> => as !== 'recorded').map((as) => ({ kind: kind as ErrorKind, as })),
);

const SETTINGS: BackoffSettings = { backoffBaseMs: 1000, backoffCapMs: 5000, unexpectedBaseMs: 100, unexpectedCapMs: 300 };
/** The delay before retry n (attempts made 1..6) on each schedule: doubling from the base, capped. */
const TRANSIENT_DELAYS = [1000, 2000, 4000, 5000, 5000, 5000];
const UNEXPECTED_DELAYS = [100, 200, 300, 300, 300, 300];

describe('the retry decision, for every kind of the failure taxonomy', () => {
  it('has a row for every ErrorKind', () => {
    expect(Object.keys(TAXONOMY).sort()).toEqual(Object.values(ErrorKind).sort());
  });

  describe.each(CASES)('$kind raised as $as', ({ kind, as }) => {
    const expected = DECISION[as];

    it(`is decided ${expected}`, () => {
      expect(decideRetry(raise(kind, as))).toBe(expected);
    });

    it('becomes a job error BullMQ retries or gives up on accordingly, keeping the kind in its reason', () => {
      const jobError = toJobError(raise(kind, as));
      expect(jobError instanceof UnrecoverableError).toBe(expected === 'give-up');
      // The worker's backoff strategy is handed the job error, not the original: it must decide the same.
      expect(decideRetry(jobError)).toBe(expected);
      expect(jobError.message).toBe(`[${kind}] ${as === 'plain' ? `TypeError: ${kind} happened` : `${kind} happened`}`);
      expect(parseFailedReason(jobError.message)).toEqual({ kind, message: as === 'plain' ? `TypeError: ${kind} happened` : `${kind} happened` });
    });

    it("keeps the failure as the ledger stores it: the kind, the unprefixed reason and the container's last lines", () => {
      const { failure } = toJobError(raise(kind, as)) as Error & { failure?: { kind: string; reason: string; logTail: string[] } };
      expect(failure).toEqual({
        kind,
        reason: as === 'plain' ? `TypeError: ${kind} happened` : `${kind} happened`,
        logTail: as === 'plain' || (as === 'transient' && kind === ErrorKind.Unexpected) ? [] : LOG_TAIL,
      });
    });

    if (expected !== 'give-up') {
      it(`waits on the ${expected === 'retry-transient' ? 'transient' : 'unexpected'} schedule between attempts`, () => {
        const jobError = toJobError(raise(kind, as));
        const delays = TRANSIENT_DELAYS.map((_, i) => backoffDelay(i + 1, jobError, SETTINGS));
        expect(delays).toEqual(expected === 'retry-transient' ? TRANSIENT_DELAYS : UNEXPECTED_DELAYS);
      });
    }
  });
});

describe(decideRetry.name, () => {
  it("gives up on BullMQ's own UnrecoverableError, whoever threw it", () => {
    expect(decideRetry(new UnrecoverableError('[stray_job] not ours'))).toBe('give-up');
  });

  it('retries what is not an Error at all on the unexpected schedule', () => {
    expect(decideRetry('a string')).toBe('retry-unexpected');
    expect(decideRetry(undefined)).toBe('retry-unexpected');
    expect(toJobError('a string').message).toBe('[unexpected] a string');
  });

  it('decides by class, so a new InfrastructureError subclass is transient unless it is permanent', () => {
    class Throttled extends InfrastructureError {
      readonly retryable = true;
    }
    expect(decideRetry(new Throttled('slow down', ErrorKind.KubernetesApi))).toBe('retry-transient');
  });
});

describe(backoffDelay.name, () => {
  it('treats attempt 0 (BullMQ before the first retry is counted) as the first', () => {
    expect(backoffDelay(0, new TransientError('x', ErrorKind.Timeout), SETTINGS)).toBe(1000);
    expect(backoffDelay(0, new Error('x'), SETTINGS)).toBe(100);
  });

  it('stays at the cap for any number of attempts, without overflowing to Infinity', () => {
    expect(backoffDelay(5000, new TransientError('x', ErrorKind.Timeout), SETTINGS)).toBe(5000);
    expect(backoffDelay(5000, new Error('x'), SETTINGS)).toBe(300);
  });
});
