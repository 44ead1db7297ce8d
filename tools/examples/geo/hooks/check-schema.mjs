#!/usr/bin/env node
// Hook check_schema: accepts a record only if it satisfies geo-sample/v1; otherwise rejects it with
// every problem found, worded for the person who has to fix the source record.
// Optional $OSA_IN/config.json: { "materials": [...] } replaces the material vocabulary.
import path from 'node:path';
import { hookEnv, jsonlWriter, readConfig, readRecords } from './io.mjs';

const HOOK = 'check_schema';
const { inDir, outDir } = hookEnv(HOOK);
const config = await readConfig(inDir);
const MATERIALS = config.materials ?? ['rock', 'sediment', 'soil', 'water', 'ice', 'mineral'];

const show = (value) => (typeof value === 'string' ? JSON.stringify(value) : String(value));
const kind = (value) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

// A string that merely looks like a date (2007-02-30) must also name a real day.
function isIsoDate(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
  return date.toISOString().slice(0, 10) === value;
}

function problemsOf(m) {
  const problems = [];
  const present = (field) => {
    if (m[field] === undefined || m[field] === null) problems.push(`${field} is missing`);
    return m[field] !== undefined && m[field] !== null;
  };
  const text = (field) => {
    if (!present(field)) return;
    if (typeof m[field] !== 'string') problems.push(`${field} must be a string, got ${kind(m[field])}`);
    else if (!m[field].trim()) problems.push(`${field} is empty`);
  };
  const number = (field, lo, hi) => {
    if (!present(field)) return;
    const value = m[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${field} must be a number, got ${kind(value)} ${show(value)}`);
    else if (value < lo || value > hi) problems.push(`${field} ${value} out of range [${lo}, ${hi}]`);
  };

  text('title');
  if (present('collected_at') && (typeof m.collected_at !== 'string' || !isIsoDate(m.collected_at))) {
    problems.push(`collected_at ${show(m.collected_at)} is not a valid ISO date (YYYY-MM-DD)`);
  }
  number('latitude', -90, 90);
  number('longitude', -180, 180);
  number('elevation_m', -11000, 9000);
  if (present('material') && !MATERIALS.includes(m.material)) problems.push(`material ${show(m.material)} is not one of ${MATERIALS.join(', ')}`);
  text('collector');
  if (present('keywords') && !(Array.isArray(m.keywords) && m.keywords.every((k) => typeof k === 'string'))) {
    problems.push(`keywords must be an array of strings, got ${kind(m.keywords)}`);
  }
  if (m.description !== undefined && typeof m.description !== 'string') problems.push(`description must be a string, got ${kind(m.description)}`);
  return problems;
}

const features = jsonlWriter(path.join(outDir, 'features.jsonl'));
const rejections = jsonlWriter(path.join(outDir, 'rejections.jsonl'));
for await (const { id, metadata } of readRecords(inDir, HOOK)) {
  const problems =
    metadata && typeof metadata === 'object' && !Array.isArray(metadata)
      ? problemsOf(metadata)
      : [`metadata must be an object, got ${kind(metadata)}`];
  if (problems.length) await rejections.write({ id, reason: problems.join('; ') });
  else await features.write({ id, features: [{ schema: 'geo-sample/v1' }] });
}
await features.close();
await rejections.close();
console.log(`${HOOK}: ${features.count} passed, ${rejections.count} rejected`);
