import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as tables from '../schema/tables.js';

export type Database = NodePgDatabase<typeof tables>;
/** A transaction handle or the database itself: repositories accept either. */
export type Executor = Pick<Database, 'select' | 'insert' | 'update' | 'delete' | 'execute' | 'transaction'>;

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Most connections the pool opens. @defaultValue 10 */
  max?: number;
  /** `application_name` of the connections, so `pg_stat_activity` shows which service holds them. @defaultValue `osa-ingest` */
  applicationName?: string;
  /**
   * How long a query waits for a connection before it fails, so an unreachable server fails a
   * step (which is retried) instead of holding it forever. @defaultValue 10000
   */
  connectionTimeoutMs?: number;
  /** Told about every connection that was lost (idle or in use); nothing else needs doing. */
  onConnectionError?: (err: Error) => void;
}

export function openDatabase(url: string, options: OpenDatabaseOptions = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'osa-ingest',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    keepAlive: true,
  });
  const onError = options.onConnectionError ?? (() => undefined);
  // A lost connection is reported twice: its pending query rejects (the step fails and is
  // retried), and the client emits 'error'. The pool listens only while a client is idle; a
  // client checked out for a transaction emits with no listener, which would end the process.
  // The pool discards the broken client when it is released, and the next query reconnects.
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const db = drizzle(pool, { schema: tables });
  return { db, pool, close: () => pool.end() };
}
