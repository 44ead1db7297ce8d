export * from './container-dirs.js';
export * from './container-output.schema.js';
export * from './storable-output.js';
