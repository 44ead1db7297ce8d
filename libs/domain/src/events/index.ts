export * from './ingest-events.js';
