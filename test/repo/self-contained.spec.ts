import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository explains itself: its comments and documents give their reasons or point to a
 * document in the repository (docs/architecture.md), never to notes, reviews or tracker issues a
 * user of the repository does not have, nor to paths outside it.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = path.relative(ROOT, fileURLToPath(import.meta.url));

/** What a user cannot follow, each with the reason a hit is reported under. */
const FOREIGN_REFERENCES: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /\b(?:DESIGN|TRAPS|STYLE)\.md\b/, why: 'cites a design note that is not in the repository' },
  { pattern: /§\s*\d/, why: 'cites a numbered section of a document that is not in the repository' },
  { pattern: /\bseed (?:review|PR|pull request)\b|\bseed-ingest\b|\bthe seed's\b/i, why: 'cites the review of another project' },
  { pattern: /\b(?:issue|ticket) #?\d+\b|\bhardening issue\b/i, why: 'cites a tracker issue' },
  { pattern: /\bP[0-3]s?\b(?=[\s.,)']|$)/, why: 'cites a review finding by its priority' },
  { pattern: /(?:\.\.\/)+shared\b|\/work\/shared\b|\breference\/seed/, why: 'names a path outside the repository' },
];

/**
 * Files that cannot change: the migrator refuses an applied migration whose text differs from
 * the checksum it recorded, so these two keep the references their first comments were written
 * with. docs/architecture.md covers the same ground. A new migration is checked like any file.
 */
const FROZEN = new Set(['migrations/0001_init.sql', 'migrations/0002_backpressure.sql']);

/** Tracked files and new files not ignored: what a clone (or the next commit) holds. */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return [...new Set(out.split('\0').filter(Boolean))].filter((f) => f !== SELF && !FROZEN.has(f) && !f.endsWith('package-lock.json'));
}

function readText(file: string): string | undefined {
  const full = path.join(ROOT, file);
  if (!existsSync(full)) return undefined; // deleted in the working tree, not yet committed
  if (!lstatSync(full).isFile()) return undefined; // a link (e.g. a linked node_modules) or a submodule
  const bytes = readFileSync(full);
  if (bytes.includes(0)) return undefined; // binary
  return bytes.toString('utf8');
}

/** Every hit as `file:line: why: the line`, so a failure says exactly what to change. */
function foreignReferences(file: string, text: string): string[] {
  const hits: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { pattern, why } of FOREIGN_REFERENCES) {
      if (pattern.test(line)) hits.push(`${file}:${i + 1}: ${why}: ${line.trim().slice(0, 160)}`);
    }
  });
  return hits;
}

describe('the repository is self-contained', () => {
  const files = repositoryFiles().flatMap((file) => {
    const text = readText(file);
    return text === undefined ? [] : [{ file, text }];
  });

  it('finds the files it checks', () => {
    expect(files.map((f) => f.file)).toEqual(expect.arrayContaining(['README.md', 'libs/persistence/src/repositories/run-ledger.ts']));
  });

  it('no file cites notes, reviews or issues a user does not have, or a path outside the repository', () => {
    expect(files.flatMap(({ file, text }) => foreignReferences(file, text))).toEqual([]);
  });

  it('every docs/*.md a file points to exists', () => {
    const missing = files.flatMap(({ file, text }) =>
      [...text.matchAll(/\bdocs\/[\w.-]+\.md\b/g)]
        .map((m) => m[0])
        .filter((doc) => !existsSync(path.join(ROOT, doc)))
        .map((doc) => `${file}: ${doc}`),
    );
    expect(missing).toEqual([]);
  });

  it('names the file, line and reason of a foreign reference', () => {
    const text = [
      'ok',
      '// see DESIGN.md §3.2',
      'per the seed review',
      'from issue 6',
      'the P1s',
      "import '../../shared/x'",
      'issues 195000 counted but not listed',
    ].join('\n');
    expect(foreignReferences('a.ts', text)).toEqual([
      'a.ts:2: cites a design note that is not in the repository: // see DESIGN.md §3.2',
      'a.ts:2: cites a numbered section of a document that is not in the repository: // see DESIGN.md §3.2',
      'a.ts:3: cites the review of another project: per the seed review',
      'a.ts:4: cites a tracker issue: from issue 6',
      'a.ts:5: cites a review finding by its priority: the P1s',
      "a.ts:6: names a path outside the repository: import '../../shared/x'",
    ]);
  });
});
