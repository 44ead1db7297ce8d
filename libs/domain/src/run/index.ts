export * from './run-status.js';
