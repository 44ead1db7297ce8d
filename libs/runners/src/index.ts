export * from './local/index.js';
export * from './port/index.js';
export * from './kubernetes/index.js';
