export * from './run-id.js';
export * from './run-status.js';
export * from './hold-signal.js';
