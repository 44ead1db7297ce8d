#!/usr/bin/env node
// Usage: node tools/build/prune-stale-output.mjs <tsconfig>...
//
// Deletes from each project's outDir what earlier builds compiled from sources that are gone (a
// renamed or deleted .ts file), so the folder holds exactly what the current sources compile to.
// tsc rewrites its outputs in place and never deletes one; emptying the folder before each build
// would instead leave it empty for as long as the compile takes, under services started from it.
// A solution tsconfig (no files of its own, only references) stands for the projects it references.
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

const COMPILED = /(\.d\.ts|\.js)(\.map)?$/;

function fail(message) {
  console.error(`prune-stale-output: ${message}`);
  process.exit(2);
}

/** Each project's rootDir and outDir, a solution's references expanded. */
function projects(configFile) {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.resolve(configFile),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')),
    },
  );
  if (!parsed) fail(`cannot read ${configFile}`);
  if (parsed.fileNames.length === 0 && parsed.projectReferences?.length) {
    return parsed.projectReferences.flatMap((reference) => projects(ts.resolveProjectReferencePath(reference)));
  }
  const { rootDir, outDir } = parsed.options;
  if (!rootDir || !outDir) fail(`${configFile} sets no rootDir or no outDir`);
  return [{ rootDir, outDir }];
}

const exists = (file) =>
  stat(file).then(
    () => true,
    (error) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
  );

async function prune(dir, project) {
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
      await prune(file, project);
      if ((await readdir(file)).length === 0) await rmdir(file);
    } else if (COMPILED.test(entry.name)) {
      const source = path.join(project.rootDir, path.relative(project.outDir, file).replace(COMPILED, '.ts'));
      if (!(await exists(source))) await rm(file);
    }
  }
}

const configFiles = process.argv.slice(2);
if (configFiles.length === 0) fail('usage: node tools/build/prune-stale-output.mjs <tsconfig>...');
for (const project of configFiles.flatMap(projects)) await prune(project.outDir, project);
