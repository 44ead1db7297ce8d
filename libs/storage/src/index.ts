export * from './batch-layout.js';
export * from './file-refs.js';
export * from './jsonl.js';
