/**
 * How much of a container's output the services read. Containers are untrusted: without bounds
 * one line or one file could take a service's memory or time.
 */
export interface ContainerOutputLimits {
  /**
   * Largest output file read (records.jsonl, a hook's features/rejections/errors.jsonl); a
   * larger one is refused unread.
   * @defaultValue 4 GiB
   */
  maxFileBytes: number;
  /**
   * Longest line of an output file, i.e. the largest record or hook outcome. A longer line is
   * skipped without being held in memory and counted as an invalid line.
   * @defaultValue 8 MiB
   */
  maxLineBytes: number;
  /**
   * Largest `session.json` an ingester may write; it is stored in Postgres and handed to the
   * next batch's ingester. A larger one is refused and ingestion stops after the batch.
   * @defaultValue 1 MiB
   */
  maxSessionBytes: number;
}

/**
 * The configuration's defaults (`MAX_OUTPUT_FILE_BYTES`, `MAX_RECORD_BYTES`, `MAX_SESSION_BYTES`),
 * for a reader of container output that is not given limits of its own.
 */
export const DEFAULT_CONTAINER_OUTPUT_LIMITS: Readonly<ContainerOutputLimits> = Object.freeze({
  maxFileBytes: 4 * 1024 ** 3,
  maxLineBytes: 8 * 1024 ** 2,
  maxSessionBytes: 1024 ** 2,
});
