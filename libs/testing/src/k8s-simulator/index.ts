export * from './fault-injection.js';
export * from './k8s-api.simulator.js';
export * from './selectors.js';
