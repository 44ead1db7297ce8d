// The drizzle table objects, for specs that check what a step left in the database. They are not
// exported by `#osa/persistence`: run and batch state changes only through RunLedger, and the
// other layers read through RunReadModel (docs/architecture.md, "One door in, one way out").
export {
  conventions,
  ingestBatches,
  ingestRuns,
  outboxEvents,
  recordFeatures,
  recordIssues,
  records,
} from '../../libs/persistence/src/schema/tables.js';
