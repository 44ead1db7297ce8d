import type pg from 'pg';

/**
 * `COPY … FROM STDIN` on a plain `pg` client without pg-copy-streams: a submittable query that
 * streams the chunks it is given as CopyData messages (the floor of the publish benchmark).
 */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

type ChunkSource = AsyncIterable<Buffer | string> | Iterable<Buffer | string>;

class CopyIn {
  rowCount = 0;
  readonly done: Promise<number>;
  private resolve!: (n: number) => void;
  private reject!: (err: Error) => void;
  private failed: Error | undefined;

  constructor(
    readonly text: string,
    private readonly source: ChunkSource,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: PgConnection): void {
    void this.pump(connection);
  }

  private async pump(connection: PgConnection): Promise<void> {
    try {
      for await (const chunk of this.source) {
        if (this.failed) return;
        connection.sendCopyFromChunk(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        if (connection.stream.writableNeedDrain) await new Promise((r) => connection.stream.once('drain', r));
      }
      connection.endCopyFrom();
    } catch (err) {
      connection.sendCopyFail((err as Error).message);
    }
  }

  handleCommandComplete(msg: { text: string }): void {
    this.rowCount = Number(/(\d+)$/.exec(msg.text)?.[1] ?? 0);
  }

  handleReadyForQuery(): void {
    if (this.failed) this.reject(this.failed);
    else this.resolve(this.rowCount);
  }

  handleError(err: Error): void {
    this.failed = err;
  }

  // Messages a COPY FROM never receives, present because the client may call them.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Runs `COPY <table> (...) FROM STDIN` with the given text-format chunks; resolves the row count. */
export function copyFrom(client: pg.ClientBase, text: string, source: ChunkSource): Promise<number> {
  const copy = new CopyIn(text, source);
  (client as unknown as { query(q: unknown): void }).query(copy);
  return copy.done;
}

/** Escapes a value for COPY's text format. */
export function copyText(value: string): string {
  return value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}
