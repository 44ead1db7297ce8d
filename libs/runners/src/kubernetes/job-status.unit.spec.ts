import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { jobOutcome, newestPod, unschedulableCondition } from './job-status.js';

const job = (conditions: { type: string; status: string }[], counts: object = {}): V1Job => ({ status: { conditions, ...counts } });

describe('jobOutcome', () => {
  it.each([
    ['Complete', 'succeeded'],
    ['SuccessCriteriaMet', 'succeeded'],
    ['Failed', 'failed'],
    ['FailureTarget', 'failed'],
  ])('reads %s=True as %s', (type, outcome) => {
    expect(jobOutcome(job([{ type, status: 'True' }]))).toBe(outcome);
  });

  it('never infers the outcome from the pod counts', () => {
    expect(jobOutcome(job([], { failed: 1, active: 0 }))).toBeUndefined();
    expect(jobOutcome(job([{ type: 'Complete', status: 'False' }], { succeeded: 1 }))).toBeUndefined();
  });
});

describe('unschedulableCondition', () => {
  const pending = (conditions: object[]): V1Pod => ({ status: { phase: 'Pending', conditions } }) as V1Pod;

  it('finds PodScheduled False with reason Unschedulable', () => {
    expect(unschedulableCondition(pending([{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'm' }]))?.message).toBe('m');
  });

  it('ignores a pod that is merely being placed', () => {
    expect(unschedulableCondition(pending([{ type: 'PodScheduled', status: 'False', reason: 'SchedulerError' }]))).toBeUndefined();
    expect(unschedulableCondition(pending([]))).toBeUndefined();
  });
});

describe('newestPod', () => {
  it('skips pods owned by another Job of the same name', () => {
    const pod = (uid: string, at: string): V1Pod => ({
      metadata: { name: uid, creationTimestamp: new Date(at), ownerReferences: [{ uid } as never] },
    });
    expect(newestPod([pod('mine', '2026-01-01'), pod('other', '2026-02-01')], 'mine')?.metadata?.name).toBe('mine');
  });
});
