/** The stages that run containers. */
export type ContainerStage = 'ingester' | 'hooks';

/**
 * Receives every container run and every memory escalation or bisection step of a hook; the
 * stage services report to it when one is given.
 */
export interface ContainerRunObserver {
  /** `outcome` is `succeeded` or the failure's kind (`oom`, `timeout`, `hook_exit`, …). */
  containerRun(stage: ContainerStage, hook: string | undefined, outcome: string): void;
  /** A hook killed for memory is run again with more memory. */
  memoryEscalated(hook: string): void;
  /** A hook killed for memory at the ceiling is run on a part of what is left. */
  bisectionStep(hook: string): void;
}
