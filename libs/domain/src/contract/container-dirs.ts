/**
 * Directories a container sees, relative to DATA_DIR so every runner can mount them (sub-paths on
 * Kubernetes). Part of the container contract: storage lays them out, runners mount them.
 */
export interface ContainerDirs {
  /** Read-only input: config.json, session.json or records.jsonl. */
  in: string;
  /** Writable output of this attempt. */
  out: string;
  /** Record files: writable for ingesters, read-only for hooks. */
  files: string;
}
