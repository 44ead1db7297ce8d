// Shared plumbing of the geo hooks: stream $OSA_IN/records.jsonl, write the JSON Lines outputs.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

export function hookEnv(hook) {
  const missing = ['OSA_IN', 'OSA_OUT'].filter((name) => !process.env[name]);
  if (missing.length) {
    console.error(`${hook}: ${missing.join(', ')} not set`);
    process.exit(2);
  }
  return { inDir: process.env.OSA_IN, outDir: process.env.OSA_OUT, filesDir: process.env.OSA_FILES };
}

export async function readConfig(inDir) {
  try {
    return JSON.parse(await readFile(path.join(inDir, 'config.json'), 'utf8'));
  } catch (err) {
    if (err.code === 'ENOENT') return {};
    throw err;
  }
}

/** Yields each input record; a line that is not JSON or has no id cannot get an outcome, so it is only logged. */
export async function* readRecords(inDir, hook) {
  const lines = createInterface({ input: createReadStream(path.join(inDir, 'records.jsonl')), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (!line.trim()) continue;
    let record;
    try {
      record = JSON.parse(line);
    } catch (err) {
      console.error(`${hook}: records.jsonl line ${lineNumber} is not JSON (${err.message}); skipped`);
      continue;
    }
    if (typeof record?.id !== 'string' || !record.id) {
      console.error(`${hook}: records.jsonl line ${lineNumber} has no id; skipped`);
      continue;
    }
    yield record;
  }
}

export function jsonlWriter(file) {
  const stream = createWriteStream(file);
  return {
    count: 0,
    async write(value) {
      this.count++;
      if (!stream.write(JSON.stringify(value) + '\n')) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(stream, 'finish');
    },
  };
}
