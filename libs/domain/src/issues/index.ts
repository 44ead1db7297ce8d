export * from './capped-issues.js';
export * from './record-issue.js';
