import pg from 'pg';
import { TEST_POSTGRES_URL } from '#osa/testing';

/**
 * Asks the real Postgres whether values can be stored: JSON text as jsonb (what the publisher
 * inserts) and strings as text (record issues, reasons). Returns the values it refuses, each
 * with Postgres's own message.
 */
export class PostgresStorable {
  private constructor(private readonly client: pg.Client) {}

  static async connect(): Promise<PostgresStorable> {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, application_name: 'osa-fuzz-storable' });
    await client.connect();
    return new PostgresStorable(client);
  }

  refusedJson(texts: readonly string[]): Promise<Array<{ value: string; error: string }>> {
    return this.refused(texts, 'SELECT count(*) FROM unnest($1::text[]) AS t(x) WHERE x::jsonb IS NOT NULL', 'SELECT $1::text::jsonb IS NOT NULL');
  }

  refusedText(texts: readonly string[]): Promise<Array<{ value: string; error: string }>> {
    return this.refused(texts, 'SELECT count(*) FROM unnest($1::text[])', 'SELECT $1::text IS NOT NULL');
  }

  close(): Promise<void> {
    return this.client.end();
  }

  /** One query for all; only when it fails, one per value to name the culprits. */
  private async refused(texts: readonly string[], all: string, one: string) {
    if (texts.length === 0) return [];
    try {
      await this.client.query(all, [texts]);
      return [];
    } catch {
      const refused: Array<{ value: string; error: string }> = [];
      for (const value of texts) {
        await this.client.query(one, [value]).catch((err: Error) => refused.push({ value: preview(value), error: err.message }));
      }
      return refused;
    }
  }
}

/** Enough of a value to recognise it in a failure message. */
export function preview(value: string): string {
  return value.length > 200 ? `${JSON.stringify(value.slice(0, 200))}… (${value.length} chars)` : JSON.stringify(value);
}
