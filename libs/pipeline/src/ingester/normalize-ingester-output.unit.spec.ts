import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// Typed asymmetric matchers (the global `expect.any`/`stringMatching` are typed `any`).
import { expect } from '@jest/globals';
import { normalizeIngesterOutput } from './normalize-ingester-output.js';

/** An ingester's output directory as a hostile or careless container leaves it. */
describe(normalizeIngesterOutput.name, () => {
  let dir: string;
  let out: string;
  let files: string;
  const normalize = (limit = 100) =>
    normalizeIngesterOutput({
      runId: 'run-1',
      batchIndex: 0,
      outDir: out,
      filesDir: files,
      filesStoragePath: 'runs/run-1/b0/ingester/a1/files',
      batchFile: path.join(dir, 'batch', 'records.jsonl'),
      hookInputFile: path.join(dir, 'batch', 'hook-input.jsonl'),
      limit,
    });
  const records = (...lines: string[]) => writeFile(path.join(out, 'records.jsonl'), `${lines.join('\n')}\n`);
  const good = (id: string) => JSON.stringify({ source_id: id, metadata: { id } });
  const keptIds = async () =>
    (await readFile(path.join(dir, 'batch', 'records.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { id: string }).id);
  const issuesOf = (batch: Awaited<ReturnType<typeof normalize>>) =>
    batch.issues.map((i) => ({ kind: i.kind, line: i.lineNumber, reason: i.reason, sourceId: i.sourceId }));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'osa-normalize-'));
    out = path.join(dir, 'out');
    files = path.join(dir, 'files');
    await mkdir(out, { recursive: true });
    await mkdir(files, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('refuses a 20,000-deep line on its own and keeps the other records (the worker stays alive)', async () => {
    await records(good('a'), `{"source_id":"deep","metadata":${'{"x":'.repeat(20_000)}1${'}'.repeat(20_000)}}`, good('b'));
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 2, invalidCount: 1 });
    expect(issuesOf(batch)).toEqual([
      { kind: 'unstorable_value', line: 2, sourceId: 'deep', reason: `line 2: metadata${'.x'.repeat(63)}: nests deeper than 64 levels` },
    ]);
    expect(await keptIds()).toEqual(['a', 'b']);
    expect(existsSync(path.join(dir, 'batch', 'records.jsonl.tmp'))).toBe(false);
  });

  it('rejects, without an uncaught error, when writing the batch fails, and leaves no temporary file', async () => {
    await records(good('a'), good('b'));
    // A directory where the batch's temporary file goes: the write stream fails to open.
    await mkdir(path.join(dir, 'batch', 'records.jsonl.tmp'), { recursive: true });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await expect(normalize()).rejects.toThrow('EISDIR');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(existsSync(path.join(dir, 'batch', 'hook-input.jsonl.tmp'))).toBe(false);
  });

  it('refuses, record by record, values Postgres cannot store, saying what and where', async () => {
    await records(
      good('a'),
      '{"source_id":"nul-value","metadata":{"a":{"b":"x\\u0000y"}}}',
      '{"source_id":"nul-key","metadata":{"k\\u0000":1}}',
      '{"source_id":"surrogate","metadata":{"t":["ok","\\ud800"]}}',
      '{"source_id":"id-\\udc00","metadata":{}}',
      '{"source_id":"proto","metadata":{"__proto__":{"polluted":true}}}',
      '{"source_id":"huge-number","metadata":{"n":1e400}}',
      good('b'),
    );
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 2, invalidCount: 6 });
    const issues = issuesOf(batch);
    expect(issues.map((i) => [i.kind, i.line, i.sourceId])).toEqual([
      ['unstorable_value', 2, 'nul-value'],
      ['unstorable_value', 3, 'nul-key'],
      ['unstorable_value', 4, 'surrogate'],
      // An id that is not well-formed Unicode is refused, and not stored with the issue.
      ['unstorable_value', 5, undefined],
      ['unstorable_value', 6, 'proto'],
      ['unstorable_value', 7, 'huge-number'],
    ]);
    expect(issues[0]!.reason).toBe(
      'line 2: metadata.a.b: must not contain NUL characters or unpaired UTF-16 surrogates (Postgres cannot store them)',
    );
    expect(issues[1]!.reason).toContain('metadata."k\\u0000": key must not contain NUL');
    expect(issues[2]!.reason).toContain('metadata.t.1: must not contain');
    expect(issues[3]!.reason).toContain('line 5: source_id: must not contain');
    expect(issues[4]!.reason).toContain('metadata.__proto__: the key "__proto__" is not allowed');
    expect(issues[5]!.reason).toContain('metadata.n: must be a finite number');
    for (const issue of issues)
      expect(issue.reason.includes('\u0000') || !(issue.reason as string & { isWellFormed(): boolean }).isWellFormed()).toBe(false);
    expect(await keptIds()).toEqual(['a', 'b']);
  });

  it('refuses a line over the record size limit without failing the batch', async () => {
    const huge = JSON.stringify({ source_id: 'huge', metadata: { blob: 'z'.repeat(9 * 1024 * 1024) } });
    await records(good('a'), huge, good('b'));
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 2, invalidCount: 1 });
    expect(issuesOf(batch)).toEqual([
      {
        kind: 'oversized_record',
        line: 2,
        sourceId: undefined,
        reason: `line 2 is ${huge.length} bytes, over the ${8 * 1024 * 1024}-byte limit for one line`,
      },
    ]);
  });

  it('refuses a record that is over the size limit once written out (1e20 is stored as 21 digits)', async () => {
    const numbers = `{"source_id":"expands","metadata":{"n":[${Array(420_000).fill('1e20').join(',')}]}}`;
    await records(good('a'), numbers);
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 1, invalidCount: 1 });
    expect(issuesOf(batch)).toEqual([
      {
        kind: 'oversized_record',
        line: 2,
        sourceId: 'expands',
        reason: expect.stringMatching(/^line 2: the record is \d+ bytes as stored, over the 8388608-byte limit for one record$/),
      },
    ]);
  });

  it('refuses a line with a raw NUL byte with a reason that can be stored', async () => {
    await writeFile(
      path.join(out, 'records.jsonl'),
      Buffer.concat([Buffer.from(`${good('a')}\n{"source_id":"x`), Buffer.from([0]), Buffer.from(`"}\n${good('b')}\n`)]),
    );
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 2, invalidCount: 1 });
    expect(issuesOf(batch)).toEqual([
      { kind: 'malformed_line', line: 2, sourceId: undefined, reason: 'line 2 contains a NUL byte, which JSON does not allow' },
    ]);
  });

  it('does not follow records.jsonl when it is a link to a host file', async () => {
    await writeFile(path.join(dir, 'host-file.jsonl'), `${good('host-secret')}\n`);
    await symlink(path.join(dir, 'host-file.jsonl'), path.join(out, 'records.jsonl'));
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 0, invalidCount: 1 });
    expect(issuesOf(batch)).toEqual([
      {
        kind: 'refused_output_file',
        line: undefined,
        sourceId: undefined,
        reason: 'records.jsonl is a symbolic link: container output must be a regular file; it was not read',
      },
    ]);
    expect(await keptIds()).toEqual([]);
  });

  it('does not wait on records.jsonl when it is a FIFO', async () => {
    execFileSync('mkfifo', [path.join(out, 'records.jsonl')]);
    const batch = await normalize();
    expect(issuesOf(batch)).toEqual([
      {
        kind: 'refused_output_file',
        line: undefined,
        sourceId: undefined,
        reason: 'records.jsonl is a FIFO (named pipe): container output must be a regular file; it was not read',
      },
    ]);
  }, 10_000);

  it('records an issue when the ingester wrote no records.jsonl, unless it was asked for none', async () => {
    expect(issuesOf(await normalize())).toEqual([
      {
        kind: 'no_records_file',
        line: undefined,
        sourceId: undefined,
        reason: 'the ingester exited successfully without writing records.jsonl; the batch has no records, so ingestion stops after it',
      },
    ]);
    expect((await normalize(0)).issues).toEqual([]);
  });

  it('refuses a record whose files directory is a link to a host directory', async () => {
    await mkdir(path.join(dir, 'etc'));
    await writeFile(path.join(dir, 'etc', 'passwd'), 'root:x:0:0\n');
    await symlink(path.join(dir, 'etc'), path.join(files, 'linked'));
    await records(JSON.stringify({ source_id: 'linked', metadata: {}, files: [{ name: 'p', relative_path: 'passwd' }] }), good('a'));
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 1, invalidCount: 1 });
    expect(issuesOf(batch)).toEqual([{ kind: 'invalid_file', line: 1, sourceId: 'linked', reason: 'files directory linked/ is a symbolic link' }]);
  });

  it.each([
    ['a link to a host directory', async (host: string) => symlink(host, files)],
    ['a dangling link', async (host: string) => symlink(path.join(host, 'gone'), files)],
    ['a file', async () => writeFile(files, 'not a directory')],
  ])('gives the hooks an empty files directory of their own when $OSA_FILES was replaced by %s', async (_what, replace) => {
    const host = path.join(dir, 'host');
    await mkdir(host);
    await writeFile(path.join(host, 'secret'), 'host secret\n');
    await rm(files, { recursive: true });
    await replace(host);
    await records(good('a'), JSON.stringify({ source_id: 'b', metadata: {}, files: [{ name: 's', relative_path: 'secret' }] }));
    const batch = await normalize();
    expect(batch).toMatchObject({ recordCount: 1, invalidCount: 1 });
    expect(batch.issues.map((i) => i.kind)).toEqual(['invalid_file', 'refused_output_file']);
    expect(batch.issues[1]!.reason).toMatch(
      /^the files directory \(\$OSA_FILES\) is (a symbolic link|not a directory); it was replaced by an empty directory/,
    );
    expect((await lstat(files)).isDirectory()).toBe(true);
    expect(await readdir(files)).toEqual([]);
    expect(await readFile(path.join(host, 'secret'), 'utf8')).toBe('host secret\n');
  });

  describe('session.json', () => {
    const session = async () => {
      await records(good('a'));
      const batch = await normalize();
      return { value: batch.session, issues: batch.issues.filter((i) => i.kind === 'invalid_session').map((i) => i.reason) };
    };

    it('is passed on when it is a small, storable JSON document', async () => {
      await writeFile(path.join(out, 'session.json'), '{"cursor":"abc","n":[1,2]}');
      expect(await session()).toEqual({ value: { cursor: 'abc', n: [1, 2] }, issues: [] });
    });

    it('is not followed when it is a link to a host file', async () => {
      await writeFile(path.join(dir, 'host-secret.json'), '{"token":"s3cret"}');
      await symlink(path.join(dir, 'host-secret.json'), path.join(out, 'session.json'));
      expect(await session()).toEqual({
        value: undefined,
        issues: ['session.json is a symbolic link: container output must be a regular file; it was not read, so ingestion stops after this batch'],
      });
    });

    it('is refused over 1 MiB (it is stored and handed to the next ingester)', async () => {
      await writeFile(path.join(out, 'session.json'), JSON.stringify({ pad: 'p'.repeat(2 * 1024 * 1024) }));
      const { value, issues } = await session();
      expect(value).toBeUndefined();
      expect(issues).toEqual([
        expect.stringMatching(/^session\.json is \d+ bytes, over the 1048576-byte limit; it was not read, so ingestion stops after this batch$/),
      ]);
    });

    it('is refused when it holds values the archive cannot store, or nests too deep', async () => {
      await writeFile(path.join(out, 'session.json'), '{"cursor":"a\\u0000b"}');
      expect((await session()).issues).toEqual([
        'session.json cannot be stored: cursor: must not contain NUL characters or unpaired UTF-16 surrogates (Postgres cannot store them), so ingestion stops after this batch',
      ]);
      await writeFile(path.join(out, 'session.json'), `${'['.repeat(20_000)}${']'.repeat(20_000)}`);
      expect((await session()).issues[0]).toContain('nests deeper than 64 levels');
    });
  });
});
