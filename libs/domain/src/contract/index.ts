export * from './container-output.schema.js';
