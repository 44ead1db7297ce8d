export * from './classify-exit.js';
export * from './container-runner.port.js';
