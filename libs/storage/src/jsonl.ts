import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { openOutputFile, OutputFileRefusedError, readChunks } from './output-file.js';
import { DEFAULT_CONTAINER_OUTPUT_LIMITS } from './output-limits.js';

export interface JsonLine {
  text: string;
  /** 1-based; 0 for a problem with the whole file. */
  lineNumber: number;
  /** Byte offset of the line in the file, for reading it again with readAt(). */
  offset: number;
  byteLength: number;
  /** False for a last line without a newline: possibly cut short by a killed writer. */
  terminated: boolean;
  /**
   * Why the line (or, with `lineNumber` 0, the whole file) was not read; `text` is empty then.
   * Only container output has problems: a reader of it must count such a line as invalid.
   */
  problem?: LineProblem;
}

export interface LineProblem {
  /** `file_refused`: the whole file was not read (see {@link openOutputFile}). */
  kind: 'file_refused' | 'line_too_long' | 'nul_byte';
  /** A sentence naming the file or line and what is wrong, safe to store. */
  message: string;
}

export interface ReadJsonLinesOptions {
  /**
   * The file was written by a container, so nothing in it is trusted: the file is bounded in
   * size, each line is bounded, and what cannot be read is yielded as a line with a `problem`
   * (which the caller counts as invalid) instead of failing the read. Without it the file is one
   * the pipeline wrote itself from output it already checked (a normalized batch, a checkpoint,
   * passed records): no size limits apply — a record with every hook's features may be longer
   * than one line a container may write — and a file that cannot be read throws. Either way the
   * file is opened without following links.
   * @defaultValue false
   */
  containerOutput?: boolean;
  /**
   * With `containerOutput`: longer lines are skipped without being held in memory.
   * @defaultValue the process's limit (`MAX_RECORD_BYTES`)
   */
  maxLineBytes?: number;
  /**
   * With `containerOutput`: a larger file is not read.
   * @defaultValue the process's limit (`MAX_OUTPUT_FILE_BYTES`)
   */
  maxFileBytes?: number;
}

const NEWLINE = 0x0a;
const NUL = 0x00;

/**
 * Streams a JSONL file line by line (skipping blank lines) without holding the file in memory.
 * Every byte is looked at once, however long a line is. The file is opened through
 * {@link openOutputFile}: no links, regular files only. Container output (see
 * {@link ReadJsonLinesOptions.containerOutput}) is bounded, and a refused file, a line over the
 * limit and a line with a NUL byte (never valid JSON, and text Postgres cannot store) are each
 * yielded with a `problem`. A file that does not exist throws ENOENT, as reading it would.
 */
export async function* readJsonLines(file: string, options: ReadJsonLinesOptions = {}): AsyncGenerator<JsonLine> {
  const untrusted = options.containerOutput === true;
  const maxLineBytes = untrusted ? (options.maxLineBytes ?? DEFAULT_CONTAINER_OUTPUT_LIMITS.maxLineBytes) : Infinity;
  const maxFileBytes = untrusted ? (options.maxFileBytes ?? DEFAULT_CONTAINER_OUTPUT_LIMITS.maxFileBytes) : Infinity;
  let opened: Awaited<ReturnType<typeof openOutputFile>>;
  try {
    opened = await openOutputFile(file, maxFileBytes);
  } catch (err) {
    if (!untrusted || !(err instanceof OutputFileRefusedError)) throw err;
    yield lineProblem(0, 0, 0, true, { kind: 'file_refused', message: `${err.message}; it was not read` });
    return;
  }
  if (!opened) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT', path: file });

  // The line being read: pieces copied out of earlier chunks (the reader reuses its buffer).
  let pieces: Buffer[] = [];
  let lineBytes = 0;
  let lineOffset = 0;
  let lineNumber = 0;
  let hasNul = false;
  let chunkOffset = 0;
  const problemLine = (terminated: boolean): JsonLine | undefined => {
    if (lineBytes > maxLineBytes) {
      const message = `line ${lineNumber} is ${lineBytes} bytes, over the ${maxLineBytes}-byte limit for one line`;
      return lineProblem(lineNumber, lineOffset, lineBytes, terminated, { kind: 'line_too_long', message });
    }
    if (hasNul && untrusted) {
      return lineProblem(lineNumber, lineOffset, lineBytes, terminated, {
        kind: 'nul_byte',
        message: `line ${lineNumber} contains a NUL byte, which JSON does not allow`,
      });
    }
    return undefined;
  };
  try {
    for await (const chunk of readChunks(opened.handle, maxFileBytes)) {
      let nul = chunk.indexOf(NUL);
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, start);
        const end = newline === -1 ? chunk.length : newline;
        if (nul !== -1 && nul < end) {
          hasNul = true;
          nul = chunk.indexOf(NUL, end);
        }
        if (newline === -1) {
          // The line goes on in the next chunk: keep a copy, unless it is already too long.
          if (lineBytes + (end - start) <= maxLineBytes) pieces.push(Buffer.from(chunk.subarray(start, end)));
          else pieces = [];
          lineBytes += end - start;
          break;
        }
        lineNumber++;
        lineBytes += end - start;
        const line =
          problemLine(true) ??
          (pieces.length === 0
            ? decode(chunk, start, end, lineNumber, lineOffset, true)
            : decode(Buffer.concat([...pieces, chunk.subarray(start, end)]), 0, lineBytes, lineNumber, lineOffset, true));
        if (line) yield line;
        pieces = [];
        lineBytes = 0;
        hasNul = false;
        lineOffset = chunkOffset + newline + 1;
        start = newline + 1;
      }
      chunkOffset += chunk.length;
    }
    if (lineBytes > 0) {
      lineNumber++;
      const line = problemLine(false) ?? decode(Buffer.concat(pieces), 0, lineBytes, lineNumber, lineOffset, false);
      if (line) yield line;
    }
  } finally {
    await opened.handle.close();
  }
}

function decode(bytes: Buffer, start: number, end: number, lineNumber: number, offset: number, terminated: boolean): JsonLine | undefined {
  const text = bytes.toString('utf8', start, end).replace(/\r$/, '');
  if (text.trim() === '') return undefined;
  return { text, lineNumber, offset, byteLength: end - start, terminated };
}

function lineProblem(lineNumber: number, offset: number, byteLength: number, terminated: boolean, problem: LineProblem): JsonLine {
  return { text: '', lineNumber, offset, byteLength, terminated, problem };
}

/**
 * Writes JSONL through a temporary file renamed into place on close: a reader never sees a
 * half-written file, and a crash leaves only a `.tmp` that nothing trusts.
 */
export class JsonLinesWriter {
  private readonly stream: WriteStream;
  private readonly tmp: string;
  /** The stream's first error: every later write and the close fail with it. */
  private failure: Error | undefined;
  private aborted: Promise<void> | undefined;
  count = 0;
  /** Bytes written so far: the offset of the next line. */
  bytes = 0;

  private constructor(private readonly file: string) {
    this.tmp = `${file}.tmp`;
    this.stream = createWriteStream(this.tmp);
    // Without a listener a stream error (a full disk, a write pending when the writer is
    // aborted) is an uncaught exception, and the whole service exits.
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  static async open(file: string): Promise<JsonLinesWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    return new JsonLinesWriter(file);
  }

  /** Writes a line that is already JSON, as it is. */
  async writeLine(json: string): Promise<void> {
    this.count++;
    this.bytes += Buffer.byteLength(json) + 1;
    await this.put(`${json}\n`);
  }

  /** Writes one line; returns where it sits in the file, for reading it back with readLineAt(). */
  async write(value: unknown): Promise<{ offset: number; byteLength: number }> {
    const line = `${JSON.stringify(value)}\n`;
    const at = { offset: this.bytes, byteLength: Buffer.byteLength(line) - 1 };
    this.count++;
    this.bytes += at.byteLength + 1;
    await this.put(line);
    return at;
  }

  async close(): Promise<void> {
    if (this.failure) throw this.failure;
    const finished = once(this.stream, 'finish');
    this.stream.end();
    await finished;
    await rename(this.tmp, this.file);
  }

  /**
   * Closes without publishing the file (the step failed) and removes the temporary file. Never
   * rejects, whatever state the writer is in (a write pending, already closed or aborted), so a
   * failing step can always call it on its way out.
   */
  abort(): Promise<void> {
    this.aborted ??= new Promise<void>((resolve) => {
      const remove = () => {
        unlink(this.tmp).then(resolve, () => resolve());
      };
      if (this.stream.closed) {
        remove();
      } else {
        this.stream.once('close', remove);
        this.stream.destroy();
      }
    });
    return this.aborted;
  }

  private async put(line: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stream.destroyed) throw new Error(`${path.basename(this.file)} was written to after its writer was aborted`);
    if (!this.stream.write(line)) await this.drained();
  }

  /** Waits for the stream to take more; settles also when it fails or is destroyed meanwhile. */
  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        this.stream.off('drain', onDrain).off('error', onError).off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => settle();
      const onError = (err: Error) => settle(err);
      const onClose = () => settle(this.failure ?? new Error(`${path.basename(this.file)}: the writer was aborted while a line was being written`));
      this.stream.on('drain', onDrain).on('error', onError).on('close', onClose);
    });
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
