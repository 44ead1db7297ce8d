export * from './convention.schema.js';
export * from './memory.js';
export * from './parse-convention.js';
