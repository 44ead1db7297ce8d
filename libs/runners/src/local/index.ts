export * from './local-process.runner.js';
export * from './process-supervisor.js';
