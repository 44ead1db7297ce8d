import fc from 'fast-check';
import type { FsOp } from '../fixtures/apply-fs-ops.mjs';
import {
  blankLine,
  deepJsonText,
  hugeSize,
  type JsonValue,
  nestingDepth,
  placeUnstorable,
  rawLineBytes,
  storableJson,
  unstorableChar,
  unstorablePlacement,
} from './hostile-values.arbitraries.js';
import type { HostContext } from './ingester-output.arbitraries.js';
import { countLines } from './jsonl-lines.js';

/**
 * Generated hook outputs as data: for every record of the batch a plan (the outcome lines the
 * hook writes for it), plus lines that belong to no record, and how each output file reaches the
 * reader (a regular file, a link to the host, a FIFO, …).
 */

export const OUTCOME_FILES = ['features', 'rejections', 'errors'] as const;
export type OutcomeFile = (typeof OUTCOME_FILES)[number];

export type IdPlan =
  | { plan: 'passed'; features: JsonValue[] }
  | { plan: 'rejected'; reason: string }
  | { plan: 'errored'; error: string; retryable: boolean }
  | { plan: 'missing' }
  /** Valid outcomes for one id in two or three files: the record must not be published. */
  | { plan: 'conflict'; files: OutcomeFile[] }
  /** Two features lines for one id in features.jsonl. */
  | { plan: 'duplicate' }
  | { plan: 'unstorable'; file: OutcomeFile; char: string; where: string }
  | { plan: 'deep'; depth: number; shape: 'array' | 'object' }
  | { plan: 'huge'; bytes: number }
  /** A line naming the id that the schema refuses (wrong types): the id has no outcome. */
  | { plan: 'mistyped'; file: OutcomeFile; variant: number };

export type ExtraLine =
  | { kind: 'blank'; text: string }
  | { kind: 'malformed'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'unknown-id'; file: OutcomeFile };

export type HookOutputForm = 'regular' | 'absent' | 'symlink-host' | 'directory' | 'fifo' | 'hardlink-input' | 'device' | 'dev-symlink';

export interface HookCase {
  /** One plan per record of the batch (record i is `r<i><suffix>`). */
  plans: Array<{ suffix: string; plan: IdPlan }>;
  /** Many more records, `count` per plan, appended (kept out of `plans` so a failure prints short). */
  bulk?: Array<{ count: number; plan: IdPlan }>;
  extras: Array<{ at: number; line: ExtraLine }>;
  forms: Record<OutcomeFile, HookOutputForm>;
  /** $OSA_OUT itself replaced by a link to a host directory holding outcome files. */
  outDirLink: boolean;
  crlf: boolean;
}

export type HookFamily = 'malformed' | 'duplicates' | 'conflicts' | 'unstorable' | 'nesting' | 'size';

const ordinary: fc.Arbitrary<IdPlan> = fc.oneof(
  fc.array(storableJson, { maxLength: 3 }).map((features) => ({ plan: 'passed' as const, features })),
  fc
    .string({ unit: 'grapheme', maxLength: 20 })
    .filter((s) => !s.includes('\u0000'))
    .map((reason) => ({ plan: 'rejected' as const, reason })),
  fc.record({ plan: fc.constant('errored' as const), error: fc.constantFrom('timeout talking to the catalog', 'é', ''), retryable: fc.boolean() }),
  fc.constant({ plan: 'missing' as const }),
);

const outcomeFile = fc.constantFrom(...OUTCOME_FILES);

const familyPlans: Record<HookFamily, fc.Arbitrary<IdPlan>> = {
  malformed: fc.record({ plan: fc.constant('mistyped' as const), file: outcomeFile, variant: fc.nat(5) }),
  duplicates: fc.constant({ plan: 'duplicate' as const }),
  conflicts: fc.uniqueArray(outcomeFile, { minLength: 2, maxLength: 3 }).map((files) => ({ plan: 'conflict' as const, files })),
  unstorable: fc.record({ plan: fc.constant('unstorable' as const), file: outcomeFile, char: unstorableChar, where: unstorablePlacement }),
  nesting: fc.record({ plan: fc.constant('deep' as const), depth: nestingDepth, shape: fc.constantFrom('array' as const, 'object' as const) }),
  size: hugeSize.map((bytes) => ({ plan: 'huge' as const, bytes })),
};

const extraLine: fc.Arbitrary<ExtraLine> = fc.oneof(
  blankLine.map((text) => ({ kind: 'blank' as const, text })),
  fc
    .constantFrom('{"id": "r0", "features": [', 'null', '[]', '{"id": 7, "features": []}', 'not json at all')
    .map((text) => ({ kind: 'malformed' as const, text })),
  rawLineBytes.map((bytes) => ({ kind: 'bytes' as const, bytes })),
  outcomeFile.map((file) => ({ kind: 'unknown-id' as const, file })),
);

const suffix = fc.constantFrom('', '-é', '-🪨', ' spaced', '-"q"', '-日本');

export function hookCase(
  families: readonly HookFamily[],
  forms: { form?: fc.Arbitrary<HookOutputForm>; outDirLink?: fc.Arbitrary<boolean>; maxRecords?: number } = {},
): fc.Arbitrary<HookCase> {
  const plan = families.length
    ? fc.oneof({ weight: 2, arbitrary: ordinary }, { weight: 3, arbitrary: fc.oneof(...families.map((f) => familyPlans[f])) })
    : ordinary;
  const form = forms.form ?? fc.constant('regular' as const);
  return fc.record({
    // An empty batch never reaches the hooks.
    plans: fc.array(fc.record({ suffix, plan }), { minLength: 1, maxLength: forms.maxRecords ?? 20 }),
    extras: fc.array(fc.record({ at: fc.nat(40), line: families.includes('malformed') ? extraLine : extraLine.filter((l) => l.kind === 'blank') }), {
      maxLength: 8,
    }),
    forms: fc.record({ features: form, rejections: form, errors: form }),
    outDirLink: forms.outDirLink ?? fc.constant(false),
    crlf: fc.boolean(),
  });
}

/** What the checker expects of one record, given the lines that reached regular files. */
export type RecordExpectation =
  | { must: 'passed'; features: unknown[] }
  | { must: 'rejected' | 'errored' | 'missing' }
  /** `conflict`: only while the hook ran whole; a killed run may have finished one of the lines. */
  | { must: 'not-passed'; conflict?: boolean }
  | { must: 'any' };

export interface RenderedHookOutput {
  ids: string[];
  /** Op paths are relative to the roots in, out, files and host. */
  ops: FsOp[];
  /** Non-blank lines the hook wrote into regular output files of its own. */
  lines: number;
  /** Output files that are not regular files of the hook's own: each may add one invalid-output issue. */
  refusedFiles: number;
  expectations: Map<string, RecordExpectation>;
}

const enc = (v: unknown) => JSON.stringify(v);

/**
 * Renders a case: the outcome files in $OSA_OUT and a host directory holding the canary. Given
 * `batch` (the records an ingester wrote), the plans are dealt in turn to its `planned` ids, and
 * its `passed` ids (records the ingester should have refused) are passed, so that whatever of
 * them it kept reaches the publisher.
 */
export function renderHookCase(
  spec: HookCase,
  { token, hostDir }: HostContext,
  batch?: { planned: readonly string[]; passed: readonly string[] },
): RenderedHookOutput {
  let plans = [...spec.plans, ...(spec.bulk ?? []).flatMap(({ count, plan }) => Array.from({ length: count }, () => ({ suffix: '', plan })))];
  if (batch) {
    const passed = { suffix: '', plan: { plan: 'passed' as const, features: [] } };
    plans = [...batch.planned.map((_, i) => plans[i % plans.length]!), ...batch.passed.map(() => passed)];
  }
  const ids = batch ? [...batch.planned, ...batch.passed] : plans.map((p, i) => `r${i}${p.suffix}`);
  const files: Record<OutcomeFile, Buffer[]> = { features: [], rejections: [], errors: [] };
  const expectations = new Map<string, RecordExpectation>();
  const good = (file: OutcomeFile, id: string, n = 0): string => {
    if (file === 'features') return enc({ id, features: [n] });
    if (file === 'rejections') return enc({ id, reason: `rejected ${n}` });
    return enc({ id, error: `errored ${n}`, retryable: false });
  };
  const regular = (file: OutcomeFile) => spec.forms[file] === 'regular' && !spec.outDirLink;

  plans.forEach(({ plan }, i) => {
    const id = ids[i]!;
    switch (plan.plan) {
      case 'passed':
        files.features.push(Buffer.from(enc({ id, features: plan.features })));
        expectations.set(id, regular('features') ? { must: 'passed', features: JSON.parse(enc(plan.features)) as unknown[] } : { must: 'missing' });
        return;
      case 'rejected':
        files.rejections.push(Buffer.from(enc({ id, reason: plan.reason })));
        expectations.set(id, { must: regular('rejections') ? 'rejected' : 'missing' });
        return;
      case 'errored':
        files.errors.push(Buffer.from(enc({ id, error: plan.error, retryable: plan.retryable })));
        expectations.set(id, { must: regular('errors') ? 'errored' : 'missing' });
        return;
      case 'missing':
        expectations.set(id, { must: 'missing' });
        return;
      case 'conflict':
        plan.files.forEach((file, n) => files[file].push(Buffer.from(good(file, id, n))));
        expectations.set(id, { must: 'not-passed', conflict: true });
        return;
      case 'duplicate':
        files.features.push(Buffer.from(good('features', id, 1)), Buffer.from(good('features', id, 2)));
        expectations.set(id, { must: 'any' });
        return;
      case 'unstorable': {
        const value = placeUnstorable(plan.char, plan.where);
        const line =
          plan.file === 'features'
            ? { id, features: [value] }
            : plan.file === 'rejections'
              ? { id, reason: `bad ${plan.char}` }
              : { id, error: `bad ${plan.char}`, retryable: false };
        files[plan.file].push(Buffer.from(enc(line)));
        expectations.set(id, { must: 'not-passed' });
        return;
      }
      case 'deep':
        files.features.push(Buffer.from(`{"id":${enc(id)},"features":[${deepJsonText(plan.depth, plan.shape)}]}`));
        expectations.set(id, { must: 'any' });
        return;
      case 'huge':
        files.features.push(Buffer.from(enc({ id, features: ['h'.repeat(plan.bytes)] })));
        expectations.set(id, { must: 'any' });
        return;
      case 'mistyped': {
        const variants: unknown[] = [
          { id, features: 'not-an-array' },
          { id, reason: 42 },
          { id, error: ['x'] },
          { id, error: 'x', retryable: 'yes' },
          { id: [id], features: [] },
          { features: [], reason: 'no id' },
        ];
        files[plan.file].push(Buffer.from(enc(variants[plan.variant % variants.length])));
        expectations.set(id, { must: 'missing' });
        return;
      }
    }
  });

  for (const { at, line } of spec.extras) {
    const file = line.kind === 'unknown-id' ? line.file : OUTCOME_FILES[at % 3]!;
    const bytes =
      line.kind === 'bytes' ? Buffer.from(line.bytes) : Buffer.from(line.kind === 'unknown-id' ? good(file, `stranger-${at}`) : line.text);
    files[file].splice(at % (files[file].length + 1), 0, bytes);
  }

  const ops: FsOp[] = [];
  let lines = 0;
  let refusedFiles = 0;
  const eol = Buffer.from(spec.crlf ? '\r\n' : '\n');
  for (const file of OUTCOME_FILES) {
    const at = `out/${file}.jsonl`;
    const bytes = Buffer.concat(files[file].flatMap((line) => [line, eol]));
    ops.push({
      op: 'write',
      path: `host/${file}.jsonl`,
      base64: Buffer.from(ids.map((id) => `${hostLine(file, id, token)}\n`).join('')).toString('base64'),
    });
    switch (spec.forms[file]) {
      case 'regular':
        ops.push({ op: 'write', path: at, base64: bytes.toString('base64') });
        if (!spec.outDirLink) lines += countLines(bytes);
        break;
      case 'absent':
        break;
      case 'symlink-host':
        ops.push({ op: 'symlink', path: at, target: `${hostDir}/${file}.jsonl` });
        refusedFiles++;
        break;
      case 'directory':
        ops.push({ op: 'mkdir', path: at });
        refusedFiles++;
        break;
      case 'fifo':
        ops.push({ op: 'fifo', path: at });
        refusedFiles++;
        break;
      case 'hardlink-input':
        // The hook's own input hard-linked as its output: a regular file whose every line is invalid.
        ops.push({ op: 'hardlink', path: at, existing: 'in/records.jsonl' });
        if (!spec.outDirLink) lines += ids.length;
        break;
      case 'device':
        ops.push({ op: 'device', path: at, major: 1, minor: 5 });
        refusedFiles++;
        break;
      case 'dev-symlink':
        ops.push({ op: 'symlink', path: at, target: '/dev/zero' });
        refusedFiles++;
        break;
    }
  }
  if (spec.outDirLink) {
    ops.push({ op: 'remove', path: 'out' }, { op: 'symlink', path: 'out', target: hostDir });
    // What the hook wrote into its own directory is gone; each outcome file behind the link is refused.
    refusedFiles = OUTCOME_FILES.length;
  }
  return { ids, ops, lines, refusedFiles, expectations };
}

/** An outcome line for a batch record that carries the canary: what a host file holds. */
function hostLine(file: OutcomeFile, id: string, token: string): string {
  if (file === 'features') return enc({ id, features: [token] });
  if (file === 'rejections') return enc({ id, reason: token });
  return enc({ id, error: token, retryable: false });
}
