export * from './osa-attributes.js';
export * from './span.js';
export * from './traced-container-runner.js';
export * from './ledger-span.js';
export * from './tracing-flush.js';
export * from './tracing.js';
