export * from './database-cause.js';
export * from './error-kind.js';
export * from './failure.js';
export * from './infrastructure.error.js';
export * from './oom.error.js';
export * from './permanent.error.js';
export * from './transient.error.js';
