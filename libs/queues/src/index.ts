export * from './job-ids.js';
export * from './job-options.js';
export * from './payloads.js';
export * from './queue-names.js';
export * from './redis-connection.js';
export * from './retry-policy.js';
