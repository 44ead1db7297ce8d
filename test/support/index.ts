export * from './persistence-tables.js';
export * from './rejection.js';
export * from './test-database.js';
export * from './test-redis.js';
export * from './wait-for.js';
export * from './k8s-simulator/index.js';
