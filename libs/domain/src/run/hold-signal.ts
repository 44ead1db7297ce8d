/**
 * Why the ingester's next pull is held (backpressure). The runner reports the capacity
 * signals; the pipeline adds the breaker and downstream lag. Metrics label deferrals with it.
 */
export const HoldSignal = {
  /** Too many of the run's recent batches failed: pulling is paused. */
  FailureBreaker: 'failure_breaker',
  /** Too many of the run's batches wait for hooks or publishing. */
  DownstreamLag: 'downstream_lag',
  /** Kubernetes: a pod of ours is Unschedulable. */
  Unschedulable: 'unschedulable',
  /** Local runner: every container slot is taken. */
  LocalSlots: 'local_slots',
  /** A runner reported no capacity without saying why. */
  NoCapacity: 'no_capacity',
} as const;
export type HoldSignal = (typeof HoldSignal)[keyof typeof HoldSignal];

/** The signals a runner's capacity check may report. */
export type CapacitySignal = typeof HoldSignal.Unschedulable | typeof HoldSignal.LocalSlots | typeof HoldSignal.NoCapacity;
