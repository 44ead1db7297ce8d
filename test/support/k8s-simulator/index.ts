export * from './fault-injection.js';
export * from './k8s-api.simulator.js';
export * from './selectors.js';
// Shared with the node agent of the real-control-plane tests, so both run pods the same way.
export { executePod } from './pod-executor.js';
export { PodStatus } from './pod-lifecycle.js';
export type { Obj } from './k8s-objects.js';
