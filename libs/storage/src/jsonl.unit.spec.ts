import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type JsonLine, JsonLinesWriter, readJsonLines } from './index.js';

/** Reads container output the way the stages do; options the old signature ignores are harmless. */
const readAll = async (file: string, options: Record<string, unknown> = { containerOutput: true }) => {
  const lines: JsonLine[] = [];
  for await (const line of (readJsonLines as (f: string, o?: unknown) => AsyncGenerator<JsonLine>)(file, options)) lines.push(line);
  return lines;
};

describe('readJsonLines', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'osa-jsonl-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('yields each non-blank line with its number, offset and length, across chunk boundaries', async () => {
    const long = JSON.stringify({ v: 'x'.repeat(700_000) });
    const file = path.join(dir, 'a.jsonl');
    await writeFile(file, `{"a":1}\r\n\n${long}\n{"é":2}\n{"cut":`);
    const lines = await readAll(file, {});
    expect(lines.map((l) => [l.lineNumber, l.offset, l.byteLength, l.terminated])).toEqual([
      [1, 0, 8, true],
      [3, 10, long.length, true],
      [4, 11 + long.length, 8, true],
      [5, 20 + long.length, 7, false],
    ]);
    expect(lines.map((l) => l.text)).toEqual(['{"a":1}', long, '{"é":2}', '{"cut":']);
  });

  it('skips a line over the line limit without holding it, says why, and reads on', async () => {
    const file = path.join(dir, 'records.jsonl');
    // 9 MiB: over the default limit of 8 MiB.
    const huge = `{"v":"${'y'.repeat(9 * 1024 * 1024)}"}`;
    await writeFile(file, `{"a":1}\n${huge}\n{"b":2}\n${huge}`);
    const lines = await readAll(file);
    expect(lines.map((l) => [l.lineNumber, l.text.length, l.problem?.kind])).toEqual([
      [1, 7, undefined],
      [2, 0, 'line_too_long'],
      [3, 7, undefined],
      [4, 0, 'line_too_long'],
    ]);
    expect(lines[1]!.problem!.message).toBe(`line 2 is ${huge.length} bytes, over the ${8 * 1024 * 1024}-byte limit for one line`);
    expect(lines[2]).toMatchObject({ offset: 9 + huge.length, byteLength: 7 });
    expect(lines[3]).toMatchObject({ terminated: false, byteLength: huge.length });
  });

  it('does not decode a line with a NUL byte: it is never JSON, and its text could not be stored', async () => {
    const file = path.join(dir, 'records.jsonl');
    await writeFile(file, Buffer.concat([Buffer.from('{"a":1}\n{"b":'), Buffer.from([0]), Buffer.from('}\n{"c":3}\n')]));
    const lines = await readAll(file);
    expect(lines.map((l) => l.problem?.message ?? l.text)).toEqual(['{"a":1}', 'line 2 contains a NUL byte, which JSON does not allow', '{"c":3}']);
  });

  it.each([
    ['a symbolic link to a readable file', async (file: string) => symlink(path.join(dir, 'secret'), file), 'is a symbolic link'],
    ['a dangling symbolic link', async (file: string) => symlink('/nonexistent/x', file), 'is a symbolic link'],
    ['a FIFO', (file: string) => Promise.resolve(execFileSync('mkfifo', [file])), 'is a FIFO (named pipe)'],
    ['a directory', async (file: string) => mkdir(file), 'is a directory'],
    ['a device (a link to /dev/zero is not followed)', async (file: string) => symlink('/dev/zero', file), 'is a symbolic link'],
  ])(
    'refuses container output that is %s, without reading it or waiting',
    async (_what, make, why) => {
      await writeFile(path.join(dir, 'secret'), '{"password":"hunter2"}\n');
      const file = path.join(dir, 'features.jsonl');
      await make(file);
      const lines = await readAll(file);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ lineNumber: 0, text: '', problem: { kind: 'file_refused' } });
      expect(lines[0]!.problem!.message).toBe(`features.jsonl ${why}: container output must be a regular file; it was not read`);
    },
    10_000,
  );

  it('refuses container output whose directory the container replaced with a link', async () => {
    await mkdir(path.join(dir, 'elsewhere'));
    await writeFile(path.join(dir, 'elsewhere', 'records.jsonl'), '{"a":1}\n');
    await symlink(path.join(dir, 'elsewhere'), path.join(dir, 'out'));
    const lines = await readAll(path.join(dir, 'out', 'records.jsonl'));
    expect(lines.map((l) => l.problem?.kind)).toEqual(['file_refused']);
    expect(lines[0]!.problem!.message).toContain('records.jsonl is in a directory that is a symbolic link');
  });

  it('refuses a container output file over the file size limit', async () => {
    const file = path.join(dir, 'records.jsonl');
    await writeFile(file, '{"a":1}\n'.repeat(200));
    const lines = await readAll(file, { containerOutput: true, maxFileBytes: 1000 });
    expect(lines.map((l) => l.problem?.message)).toEqual(['records.jsonl is 1600 bytes, over the 1000-byte limit; it was not read']);
  });

  it('throws for a file of its own that is a link, and for a missing file', async () => {
    const file = path.join(dir, 'passed.jsonl');
    await writeFile(path.join(dir, 'secret'), '{}\n');
    await symlink(path.join(dir, 'secret'), file);
    await expect(readAll(file, {})).rejects.toThrow('passed.jsonl is a symbolic link');
    await expect(readAll(path.join(dir, 'absent.jsonl'), {})).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('JsonLinesWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'osa-writer-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('publishes the file only on close', async () => {
    const file = path.join(dir, 'out', 'batch.jsonl');
    const writer = await JsonLinesWriter.open(file);
    expect(await writer.write({ a: 1 })).toEqual({ offset: 0, byteLength: 7 });
    expect(existsSync(file)).toBe(false);
    await writer.close();
    expect((await readAll(file, {})).map((l) => l.text)).toEqual(['{"a":1}']);
  });

  it('aborts with a write pending without an uncaught error, and removes its temporary file', async () => {
    const file = path.join(dir, 'batch.jsonl');
    const writer = await JsonLinesWriter.open(file);
    // Larger than the stream's buffer, so the write is still pending when the writer is aborted.
    const pending = writer.write({ v: 'z'.repeat(1024 * 1024) });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await writer.abort();
      await pending.catch(() => undefined);
      // Give a stray 'error' event the turn it would be emitted in.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(existsSync(file)).toBe(false);
    await expect(writer.write({ late: true })).rejects.toThrow();
  });

  it('aborts right after opening, and twice, without error', async () => {
    const file = path.join(dir, 'batch.jsonl');
    const writer = await JsonLinesWriter.open(file);
    await writer.abort();
    await writer.abort();
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });
});
