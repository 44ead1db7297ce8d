export * from './contract/index.js';
export * from './convention/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './issues/index.js';
export * from './run/index.js';
export * from './text/index.js';
