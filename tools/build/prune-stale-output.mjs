#!/usr/bin/env node
// Usage: node tools/build/prune-stale-output.mjs <project root>
//
// Deletes from dist/<project root> what earlier builds compiled from sources that are gone (a
// renamed or deleted .ts file), so the folder holds exactly what the current sources compile to.
// tsc rewrites its outputs in place and never deletes one; emptying the folder before each build
// would instead leave it empty for as long as the compile takes, under services started from it.
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

const COMPILED = /(\.d\.ts|\.js)(\.map)?$/;

const root = process.argv[2];
if (!root || process.argv.length > 3 || path.isAbsolute(root) || path.normalize(root).split(path.sep).includes('..')) {
  console.error('usage: node tools/build/prune-stale-output.mjs <project root, relative to the repository root>');
  process.exit(2);
}
const outDir = path.join('dist', root);

const exists = (file) =>
  stat(file).then(
    () => true,
    (error) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
  );

async function prune(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await prune(file);
      if ((await readdir(file)).length === 0) await rmdir(file);
    } else if (COMPILED.test(entry.name)) {
      const source = path.join(root, path.relative(outDir, file).replace(COMPILED, '.ts'));
      if (!(await exists(source))) await rm(file);
    }
  }
}

await prune(outDir);
