/**
 * Machine-readable failure kinds. Stored with every failed batch and run, so operators can
 * group failures without parsing messages.
 */
export const ErrorKind = {
  // transient: retried with capped exponential backoff
  KubernetesApi: 'kubernetes_api',
  Unschedulable: 'unschedulable',
  Timeout: 'timeout',
  IngesterExit: 'ingester_exit',
  Evicted: 'evicted',
  Vanished: 'vanished',
  Unexpected: 'unexpected',
  // permanent: accounted as failed at once
  Forbidden: 'forbidden',
  NamespaceMissing: 'namespace_missing',
  ImagePull: 'image_pull',
  HookExit: 'hook_exit',
  InvalidConvention: 'invalid_convention',
  InvalidPayload: 'invalid_payload',
  /** A stage job the run's ledger does not call for (wrong id, or a batch not in that stage); it fails alone. */
  StrayJob: 'stray_job',
  InvalidOutput: 'invalid_output',
  Oom: 'oom',
  Backpressure: 'backpressure',
  RetriesExhausted: 'retries_exhausted',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];
