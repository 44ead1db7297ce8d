import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';

export interface JsonLine {
  text: string;
  /** 1-based. */
  lineNumber: number;
  /** Byte offset of the line in the file, for reading it again with readAt(). */
  offset: number;
  byteLength: number;
  /** False for a last line without a newline: possibly cut short by a killed writer. */
  terminated: boolean;
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
      const line = yieldable(buffer, start, nl, offset + start, lineNumber, true);
      if (line) yield line;
      start = nl + 1;
    }
    offset += start;
    carry = buffer.subarray(start);
    buffer = carry;
  }
  if (carry.length) {
    lineNumber++;
    const line = yieldable(carry, 0, carry.length, offset, lineNumber, false);
    if (line) yield line;
  }
}

function yieldable(buffer: Buffer, start: number, end: number, offset: number, lineNumber: number, terminated: boolean): JsonLine | undefined {
  const text = buffer.toString('utf8', start, end).replace(/\r$/, '');
  if (text.trim() === '') return undefined;
  return { text, lineNumber, offset, byteLength: end - start, terminated };
}

/**
 * Writes JSONL through a temporary file renamed into place on close: a reader never sees a
 * half-written file, and a crash leaves only a `.tmp` that nothing trusts.
 */
export class JsonLinesWriter {
  private readonly stream: WriteStream;
  private readonly tmp: string;
  count = 0;
  /** Bytes written so far: the offset of the next line. */
  bytes = 0;

  private constructor(private readonly file: string) {
    this.tmp = `${file}.tmp`;
    this.stream = createWriteStream(this.tmp);
  }

  static async open(file: string): Promise<JsonLinesWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    return new JsonLinesWriter(file);
  }

  /** Writes a line that is already JSON, as it is. */
  async writeLine(json: string): Promise<void> {
    this.count++;
    this.bytes += Buffer.byteLength(json) + 1;
    if (!this.stream.write(`${json}\n`)) await once(this.stream, 'drain');
  }

  /** Writes one line; returns where it sits in the file, for reading it back with readLineAt(). */
  async write(value: unknown): Promise<{ offset: number; byteLength: number }> {
    const line = `${JSON.stringify(value)}\n`;
    const at = { offset: this.bytes, byteLength: Buffer.byteLength(line) - 1 };
    this.count++;
    this.bytes += at.byteLength + 1;
    if (!this.stream.write(line)) await once(this.stream, 'drain');
    return at;
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

/** Reads lines back by offset with one open handle per file, for joins that must not hold a batch in memory. */
export class LineReader {
  private readonly handles = new Map<string, FileHandle>();

  async read(file: string, offset: number, byteLength: number): Promise<string> {
    let handle = this.handles.get(file);
    if (!handle) {
      handle = await open(file, 'r');
      this.handles.set(file, handle);
    }
    const buffer = Buffer.alloc(byteLength);
    await handle.read(buffer, 0, byteLength, offset);
    return buffer.toString('utf8');
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.values()].map((h) => h.close()));
    this.handles.clear();
  }
}
