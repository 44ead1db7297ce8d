import fc from 'fast-check';
import type { FsOp } from '../fixtures/apply-fs-ops.mjs';
import {
  blankLine,
  deepJsonText,
  hugeSize,
  invalidUtf8,
  type JsonValue,
  malformedText,
  nestingDepth,
  placeUnstorable,
  rawLineBytes,
  storableObject,
  unstorableChar,
  unstorablePlacement,
} from './hostile-values.arbitraries.js';

/**
 * Generated ingester outputs as data (so a failing case prints readably and shrinks), and how to
 * render one into `records.jsonl`, `session.json`, `$OSA_FILES` and a host directory outside
 * DATA_DIR whose every file holds the canary.
 */

/** What a line must become: kept and published, refused, or either (but counted). */
export type Expect = 'good' | 'bad' | 'any';

interface GoodFile {
  rel: string;
  bytes: number;
}

export type LineSpec =
  | { kind: 'good'; suffix: string; metadata: Record<string, JsonValue>; files: GoodFile[] }
  | { kind: 'blank'; text: string }
  | { kind: 'malformed'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'wrong-type'; field: 'source_id' | 'metadata' | 'files' | 'file-entry' | 'size_mb'; value: JsonValue }
  | { kind: 'bad-id'; id: string }
  | { kind: 'unstorable'; char: string; where: string; inId: boolean }
  | { kind: 'deep'; depth: number; shape: 'array' | 'object' }
  | { kind: 'huge'; bytes: number }
  | { kind: 'invalid-utf8'; bytes: number[]; inId: boolean }
  /** A whole line in another encoding than UTF-8. */
  | { kind: 'foreign-encoding'; encoding: 'utf16le' | 'latin1' }
  | { kind: 'duplicate'; of: number }
  | { kind: 'steal'; of: number }
  | { kind: 'bad-file'; variant: BadFile }
  | { kind: 'odd-file'; variant: OddFile }
  | { kind: 'odd-key'; key: string };

type BadFile =
  'absolute' | 'dotdot' | 'missing' | 'record-dir-link' | 'inner-dir-link' | 'file-link' | 'dev-link' | 'fifo' | 'directory' | 'device' | 'nul-path';
type OddFile = 'hardlink' | 'inner-link' | 'dot-segments' | 'sibling-link';

/** How records.jsonl reaches the reader. */
export type RecordsForm =
  'regular' | 'hardlink' | 'absent' | 'symlink-host' | 'out-dir-symlink' | 'directory' | 'fifo' | 'fifo-endless' | 'device' | 'dev-symlink';
export type SessionForm =
  'absent' | 'valid' | 'invalid-json' | 'unstorable' | 'deep' | 'huge' | 'symlink-host' | 'directory' | 'fifo' | 'device' | 'dev-symlink';

/** $OSA_FILES as the container leaves it: its own, or replaced by a link to a host directory holding the canary, or to nothing. */
export type FilesRoot = 'own' | 'host-link' | 'dangling-link';

export interface IngesterCase {
  lines: LineSpec[];
  crlf: boolean;
  trailingNewline: boolean;
  records: RecordsForm;
  session: SessionForm;
  filesRoot: FilesRoot;
}

/** Families of hostile lines; each property mixes good lines with some of them. */
export type LineFamily = 'malformed' | 'unstorable' | 'nesting' | 'size' | 'encoding' | 'duplicates' | 'file-refs' | 'odd-keys';

const goodSuffix = fc.constantFrom('', '-é', '-🪨', ' with space', '-"quoted"', '-日本語', '-%2F', '-.dot', "-it's");
const goodFile = fc.record({
  rel: fc.constantFrom('a.txt', 'data.bin', 'sub/deep/b.csv', '.hidden', 'é/ü.txt'),
  bytes: fc.integer({ min: 0, max: 64 }),
});

export const goodLine: fc.Arbitrary<LineSpec> = fc.record({
  kind: fc.constant('good' as const),
  suffix: goodSuffix,
  metadata: storableObject,
  files: fc.uniqueArray(goodFile, { maxLength: 2, selector: (f) => f.rel }),
});

const familyLines: Record<LineFamily, fc.Arbitrary<LineSpec>> = {
  malformed: fc.oneof(
    blankLine.map((text) => ({ kind: 'blank' as const, text })),
    malformedText.map((text) => ({ kind: 'malformed' as const, text })),
    rawLineBytes.map((bytes) => ({ kind: 'bytes' as const, bytes })),
    fc.record({
      kind: fc.constant('wrong-type' as const),
      field: fc.constantFrom('source_id' as const, 'metadata' as const, 'files' as const, 'file-entry' as const, 'size_mb' as const),
      value: fc.constantFrom<JsonValue>(null, 1, -1, 'text', [], [1], {}, true),
    }),
    fc.constantFrom('', 'x'.repeat(513), 'tab\there', 'new\nline', 'bell\u0007', 'esc\u001b[0m').map((id) => ({ kind: 'bad-id' as const, id })),
  ),
  unstorable: fc.record({ kind: fc.constant('unstorable' as const), char: unstorableChar, where: unstorablePlacement, inId: fc.boolean() }),
  nesting: fc.record({ kind: fc.constant('deep' as const), depth: nestingDepth, shape: fc.constantFrom('array' as const, 'object' as const) }),
  size: hugeSize.map((bytes) => ({ kind: 'huge' as const, bytes })),
  encoding: fc.oneof(
    fc.record({ kind: fc.constant('invalid-utf8' as const), bytes: invalidUtf8, inId: fc.boolean() }),
    fc.constantFrom('utf16le' as const, 'latin1' as const).map((encoding) => ({ kind: 'foreign-encoding' as const, encoding })),
  ),
  duplicates: fc.oneof(
    fc.nat(20).map((of) => ({ kind: 'duplicate' as const, of })),
    fc.nat(20).map((of) => ({ kind: 'steal' as const, of })),
  ),
  'odd-keys': fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '').map((key) => ({ kind: 'odd-key' as const, key })),
  'file-refs': fc.oneof(
    fc
      .constantFrom<BadFile>(
        'absolute',
        'dotdot',
        'missing',
        'record-dir-link',
        'inner-dir-link',
        'file-link',
        'dev-link',
        'fifo',
        'directory',
        'device',
        'nul-path',
      )
      .map((variant) => ({ kind: 'bad-file' as const, variant })),
    fc.constantFrom<OddFile>('hardlink', 'inner-link', 'dot-segments', 'sibling-link').map((variant) => ({ kind: 'odd-file' as const, variant })),
  ),
};

/** Good lines mixed with lines of the given families, in any order, on a regular records.jsonl. */
export function ingesterCase(
  families: readonly LineFamily[],
  forms: { records?: fc.Arbitrary<RecordsForm>; session?: fc.Arbitrary<SessionForm>; filesRoot?: fc.Arbitrary<FilesRoot> } = {},
): fc.Arbitrary<IngesterCase> {
  const hostile = families.length ? fc.oneof(...families.map((f) => familyLines[f])) : goodLine;
  return fc.record({
    lines: fc.array(fc.oneof({ weight: 2, arbitrary: goodLine }, { weight: 3, arbitrary: hostile }), { maxLength: 24 }),
    crlf: fc.boolean(),
    trailingNewline: fc.boolean(),
    records: forms.records ?? fc.constant('regular' as const),
    session: forms.session ?? fc.constantFrom('absent' as const, 'valid' as const),
    filesRoot: forms.filesRoot ?? fc.constant('own' as const),
  });
}

/** One rendered line with what the checker expects of it. */
export interface RenderedLine {
  bytes: Buffer;
  expect: Expect;
  /** The id the line names (a good line must be published under it, with its metadata as JSON gives it back). */
  sourceId?: string;
  /** A metadata key that must survive if the record is kept (some keys vanish through a plain object). */
  keepsKey?: string;
  /** For a line whose id the reader may decode differently (invalid UTF-8): how it starts. */
  idPrefix?: string;
  metadata?: unknown;
  hasFiles?: boolean;
}

export interface RenderedIngesterOutput {
  lines: RenderedLine[];
  /** The bytes of records.jsonl as the container wrote them. */
  recordsBytes: Buffer;
  ops: FsOp[];
}

const text = (s: string) => Buffer.from(s, 'utf8');
const json = (v: unknown) => text(JSON.stringify(v));
const write = (at: string, content: Buffer | string): FsOp => ({ op: 'write', path: at, base64: Buffer.from(content).toString('base64') });

/** Where the host files are and the canary each of them holds. */
export interface HostContext {
  token: string;
  hostDir: string;
}

/** Renders a case; host files (outside DATA_DIR) are written under the op root `host`. */
export function renderIngesterCase(spec: IngesterCase, { token, hostDir }: HostContext): RenderedIngesterOutput {
  const ops: FsOp[] = [];
  const lines: RenderedLine[] = [];
  const goodIds = spec.lines.map((l, i) => (l.kind === 'good' ? `good-${i}${l.suffix}` : undefined));
  const idsBefore = (i: number) => goodIds.slice(0, i).filter((id): id is string => id !== undefined);
  const idsAfter = (i: number) => goodIds.slice(i + 1).filter((id): id is string => id !== undefined);
  const hostFile = (name: string, content: string) => ops.push(write(`host/${name}`, content));

  hostFile('secret.txt', `root:x:0:0:${token}:/root:/bin/bash\n`);
  hostFile('dir/secret.txt', `${token}\n`);
  hostFile('records.jsonl', `${JSON.stringify({ source_id: `host-${token}`, metadata: { secret: token } })}\n`);
  hostFile('session.json', JSON.stringify({ secret: token }));

  spec.lines.forEach((line, i) => {
    const id = `bad-${i}`;
    switch (line.kind) {
      case 'good': {
        const sourceId = goodIds[i]!;
        for (const f of line.files) ops.push(write(`files/${sourceId}/${f.rel}`, 'x'.repeat(f.bytes)));
        const files = line.files.map((f) => ({ name: f.rel, relative_path: f.rel, size_mb: f.bytes / 1e6 }));
        lines.push({
          bytes: json({ source_id: sourceId, metadata: line.metadata, files }),
          expect: 'good',
          sourceId,
          metadata: JSON.parse(JSON.stringify(line.metadata)),
          hasFiles: files.length > 0,
        });
        return;
      }
      case 'blank':
        lines.push({ bytes: text(line.text), expect: 'any' });
        return;
      case 'malformed':
        lines.push({ bytes: text(line.text), expect: 'bad' });
        return;
      case 'bytes':
        lines.push({ bytes: Buffer.from(line.bytes), expect: 'bad' });
        return;
      case 'wrong-type': {
        const record: Record<string, unknown> = { source_id: id, metadata: {}, files: [] };
        if (line.field === 'file-entry') record.files = [line.value];
        else if (line.field === 'size_mb')
          record.files = [{ name: 'f', relative_path: 'f', size_mb: typeof line.value === 'number' ? -1 : line.value }];
        else record[line.field] = line.value;
        // A metadata object or an empty files array is valid: those values do not make the line bad.
        const harmless =
          (line.field === 'metadata' && isObject(line.value)) ||
          (line.field === 'files' && Array.isArray(line.value) && line.value.length === 0) ||
          (line.field === 'source_id' && typeof line.value === 'string');
        lines.push({ bytes: json(record), expect: harmless ? 'any' : 'bad', sourceId: typeof record.source_id === 'string' ? record.source_id : id });
        return;
      }
      case 'bad-id':
        lines.push({ bytes: json({ source_id: line.id, metadata: {} }), expect: 'bad', sourceId: line.id });
        return;
      case 'unstorable': {
        const record = line.inId
          ? { source_id: `${id}${line.char}`, metadata: {} }
          : { source_id: id, metadata: placeUnstorable(line.char, line.where) };
        lines.push({ bytes: json(record), expect: 'bad', sourceId: record.source_id });
        return;
      }
      case 'deep':
        lines.push({ bytes: text(`{"source_id":"${id}","metadata":{"deep":${deepJsonText(line.depth, line.shape)}}}`), expect: 'any', sourceId: id });
        return;
      case 'huge':
        lines.push({ bytes: json({ source_id: id, metadata: { blob: 'h'.repeat(line.bytes) } }), expect: 'any', sourceId: id });
        return;
      case 'invalid-utf8': {
        const bad = Buffer.from(line.bytes);
        const bytes = line.inId
          ? Buffer.concat([text(`{"source_id":"${id}-`), bad, text('","metadata":{}}')])
          : Buffer.concat([text(`{"source_id":"${id}","metadata":{"v":"a`), bad, text('b"}}')]);
        lines.push(line.inId ? { bytes, expect: 'any', idPrefix: `${id}-` } : { bytes, expect: 'any', sourceId: id });
        return;
      }
      case 'foreign-encoding': {
        // UTF-16 is not JSON to a UTF-8 reader (NUL bytes); Latin-1 "é" is a stray byte in a string.
        const bytes = Buffer.from(JSON.stringify({ source_id: `${id}-é`, metadata: { v: 'café' } }), line.encoding);
        lines.push(line.encoding === 'utf16le' ? { bytes, expect: 'bad' } : { bytes, expect: 'any', idPrefix: `${id}-` });
        return;
      }
      case 'duplicate': {
        const before = idsBefore(i);
        if (before.length === 0) lines.push({ bytes: text('{"source_id": "dup-without-original'), expect: 'bad' });
        else lines.push({ bytes: json({ source_id: before[line.of % before.length], metadata: { second: true } }), expect: 'bad' });
        return;
      }
      case 'steal': {
        const after = idsAfter(i);
        const target = after.length ? after[line.of % after.length] : id;
        lines.push({ bytes: json({ source_id: target, metadata: ['not', 'an', 'object'] }), expect: 'bad' });
        return;
      }
      case 'bad-file':
        lines.push({
          bytes: json({ source_id: id, metadata: {}, files: [{ name: 'f', relative_path: badFile(line.variant, id, ops, hostDir) }] }),
          expect: 'bad',
          sourceId: id,
        });
        return;
      case 'odd-key':
        // Built as text: an object literal would take "__proto__" as its prototype, not a key.
        lines.push({
          bytes: text(`{"source_id":"${id}","metadata":{${JSON.stringify(line.key)}:{"x":1},"n":2}}`),
          expect: 'any',
          sourceId: id,
          keepsKey: line.key,
        });
        return;
      case 'odd-file':
        lines.push({
          bytes: json({ source_id: id, metadata: {}, files: [{ name: 'f', relative_path: oddFile(line.variant, id, ops) }] }),
          expect: 'any',
          sourceId: id,
        });
        return;
    }
  });

  const eol = spec.crlf ? '\r\n' : '\n';
  const parts: Buffer[] = [];
  lines.forEach((l, i) => parts.push(l.bytes, i < lines.length - 1 || spec.trailingNewline ? text(eol) : Buffer.alloc(0)));
  const recordsBytes = Buffer.concat(parts);
  ops.push(...recordsOps(spec.records, recordsBytes, hostDir));
  // With $OSA_OUT itself a link to the host, the session is the host's too.
  if (spec.records !== 'out-dir-symlink') ops.push(...sessionOps(spec.session, hostDir));
  if (spec.filesRoot !== 'own') {
    if (spec.filesRoot === 'host-link') {
      hostFile('files-root/.keep', '');
      for (const l of lines) if (l.hasFiles) hostFile(`files-root/${l.sourceId}/a.txt`, token);
    }
    ops.push({ op: 'remove', path: 'files' }, { op: 'symlink', path: 'files', target: `${hostDir}/files-root` });
  }
  return { lines, recordsBytes, ops };
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A file reference that must be refused, with the files that make it so. */
function badFile(variant: BadFile, id: string, ops: FsOp[], hostDir: string): string {
  const dir = `files/${id}`;
  switch (variant) {
    case 'absolute':
      return `${hostDir}/secret.txt`;
    case 'dotdot':
      ops.push({ op: 'mkdir', path: dir });
      return `${'../'.repeat(24)}${hostDir.slice(1)}/secret.txt`;
    case 'missing':
      ops.push({ op: 'mkdir', path: dir });
      return 'nope.txt';
    case 'record-dir-link':
      ops.push({ op: 'symlink', path: dir, target: `${hostDir}/dir` });
      return 'secret.txt';
    case 'inner-dir-link':
      ops.push({ op: 'symlink', path: `${dir}/sub`, target: `${hostDir}/dir` });
      return 'sub/secret.txt';
    case 'file-link':
      ops.push({ op: 'symlink', path: `${dir}/data.txt`, target: `${hostDir}/secret.txt` });
      return 'data.txt';
    case 'dev-link':
      ops.push({ op: 'symlink', path: `${dir}/zero`, target: '/dev/zero' });
      return 'zero';
    case 'fifo':
      ops.push({ op: 'fifo', path: `${dir}/pipe` });
      return 'pipe';
    case 'directory':
      ops.push({ op: 'mkdir', path: `${dir}/d` });
      return 'd';
    case 'device':
      ops.push({ op: 'device', path: `${dir}/zero`, major: 1, minor: 5 });
      return 'zero';
    case 'nul-path':
      ops.push({ op: 'write', path: `${dir}/a`, base64: '' });
      return 'a\u0000b';
  }
}

/** A file reference that stays inside the run's files: either outcome is fine, nothing may leave. */
function oddFile(variant: OddFile, id: string, ops: FsOp[]): string {
  const dir = `files/${id}`;
  ops.push({ op: 'write', path: `${dir}/orig.txt`, base64: Buffer.from('inside').toString('base64') });
  switch (variant) {
    case 'hardlink':
      ops.push({ op: 'hardlink', path: `${dir}/copy.txt`, existing: `${dir}/orig.txt` });
      return 'copy.txt';
    case 'inner-link':
      ops.push({ op: 'symlink', path: `${dir}/alias.txt`, target: 'orig.txt' });
      return 'alias.txt';
    case 'dot-segments':
      ops.push({ op: 'mkdir', path: `${dir}/sub` });
      return './sub/../orig.txt';
    case 'sibling-link':
      ops.push({ op: 'write', path: `files/${id}-sibling/other.txt`, base64: Buffer.from('sibling').toString('base64') });
      ops.push({ op: 'symlink', path: `${dir}/other.txt`, target: `../${id}-sibling/other.txt` });
      return 'other.txt';
  }
}

function recordsOps(form: RecordsForm, bytes: Buffer, hostDir: string): FsOp[] {
  const at = 'out/records.jsonl';
  switch (form) {
    case 'regular':
      return [write(at, bytes)];
    case 'hardlink':
      return [write('files/.staging/records.jsonl', bytes), { op: 'hardlink', path: at, existing: 'files/.staging/records.jsonl' }];
    case 'absent':
      return [];
    case 'symlink-host':
      return [{ op: 'symlink', path: at, target: `${hostDir}/records.jsonl` }];
    case 'out-dir-symlink':
      return [
        { op: 'remove', path: 'out' },
        { op: 'symlink', path: 'out', target: hostDir },
      ];
    case 'directory':
      return [{ op: 'mkdir', path: at }];
    case 'fifo':
    case 'fifo-endless':
      return [{ op: 'fifo', path: at }];
    case 'device':
      return [{ op: 'device', path: at, major: 1, minor: 5 }];
    case 'dev-symlink':
      return [{ op: 'symlink', path: at, target: '/dev/zero' }];
  }
}

function sessionOps(form: SessionForm, hostDir: string): FsOp[] {
  const at = 'out/session.json';
  switch (form) {
    case 'absent':
      return [];
    case 'valid':
      return [write(at, JSON.stringify({ offset: 10, cursor: 'é🪨' }))];
    case 'invalid-json':
      return [write(at, '{"offset": ')];
    case 'unstorable':
      return [write(at, JSON.stringify({ cursor: 'a\u0000b', lone: '\ud800' }))];
    case 'deep':
      return [write(at, `{"cursor":${deepJsonText(20_000, 'array')}}`)];
    case 'huge':
      return [write(at, JSON.stringify({ cursor: 's'.repeat(60 * 1024 * 1024) }))];
    case 'symlink-host':
      return [{ op: 'symlink', path: at, target: `${hostDir}/session.json` }];
    case 'directory':
      return [{ op: 'mkdir', path: at }];
    case 'fifo':
      return [{ op: 'fifo', path: at }];
    case 'device':
      return [{ op: 'device', path: at, major: 1, minor: 5 }];
    case 'dev-symlink':
      return [{ op: 'symlink', path: at, target: '/dev/zero' }];
  }
}
