export * from './batch-layout.js';
export * from './file-refs.js';
export * from './jsonl.js';
export * from './output-file.js';
export * from './output-limits.js';
