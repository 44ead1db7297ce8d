export * from './metrics.controller.js';
export * from './metrics.module.js';
export * from './pino-logger.service.js';
export * from './stage-metrics.js';
export * from './bounded-label.js';
export * from './container-run-observer.js';
export * from './tracing/index.js';
