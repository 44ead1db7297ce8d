import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';

export interface JsonLine {
  text: string;
  /** 1-based. */
  lineNumber: number;
  /** Byte offset of the line in the file, for reading it again with readAt(). */
  offset: number;
  byteLength: number;
}

const NEWLINE = 0x0a;

/** Streams a JSONL file line by line (skipping blank lines) without holding the file in memory. */
export async function* readJsonLines(file: string): AsyncGenerator<JsonLine> {
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  let lineNumber = 0;
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buffer = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    let nl: number;
    while ((nl = buffer.indexOf(NEWLINE, start)) !== -1) {
      lineNumber++;
      const line = yieldable(buffer, start, nl, offset + start, lineNumber);
      if (line) yield line;
      start = nl + 1;
    }
    offset += start;
    carry = buffer.subarray(start);
    buffer = carry;
  }
  if (carry.length) {
    lineNumber++;
    const line = yieldable(carry, 0, carry.length, offset, lineNumber);
    if (line) yield line;
  }
}

function yieldable(buffer: Buffer, start: number, end: number, offset: number, lineNumber: number): JsonLine | undefined {
  const text = buffer.toString('utf8', start, end).replace(/\r$/, '');
  if (text.trim() === '') return undefined;
  return { text, lineNumber, offset, byteLength: end - start };
}

/**
 * Writes JSONL through a temporary file renamed into place on close: a reader never sees a
 * half-written file, and a crash leaves only a `.tmp` that nothing trusts.
 */
export class JsonLinesWriter {
  private readonly stream: WriteStream;
  private readonly tmp: string;
  count = 0;

  private constructor(private readonly file: string) {
    this.tmp = `${file}.tmp`;
    this.stream = createWriteStream(this.tmp);
  }

  static async open(file: string): Promise<JsonLinesWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    return new JsonLinesWriter(file);
  }

  async write(value: unknown): Promise<void> {
    this.count++;
    if (!this.stream.write(`${JSON.stringify(value)}\n`)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
    await rename(this.tmp, this.file);
  }

  /** Closes without publishing the file (the step failed). */
  abort(): void {
    this.stream.destroy();
  }
}
