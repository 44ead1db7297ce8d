export * from './convention-id.js';
export * from './convention.schema.js';
export * from './cpu.js';
export * from './image-allow-list.js';
export * from './memory.js';
export * from './parse-convention.js';
export * from './storable-json.js';
