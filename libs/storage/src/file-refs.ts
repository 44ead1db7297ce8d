import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export interface FileRef {
  name: string;
  relative_path: string;
  size_mb?: number;
}

/**
 * Checks that a record's file references stay inside `$OSA_FILES/<source_id>/`: no absolute
 * paths, no `..`, and no symbolic link anywhere on the way — the files root, the record's
 * directory or any component below — that leads out. Every file must resolve under the real
 * files root joined with the source id, so a record directory that is itself a link (to /etc,
 * or to another record's directory) is refused. Returns the reason for the first bad reference,
 * or undefined when every file is inside and is a regular file.
 */
export async function checkFileRefs(filesRoot: string, sourceId: string, files: readonly FileRef[]): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  if (sourceId === '.' || sourceId === '..' || sourceId.includes('/') || sourceId.includes('\\') || sourceId.includes('\0')) {
    return `source_id "${sourceId}" cannot name a files directory (it must be a single path segment)`;
  }
  for (const file of files) {
    const rel = file.relative_path;
    if (path.isAbsolute(rel)) return `file "${file.name}": absolute path "${rel}" is not allowed`;
    const normalized = path.normalize(rel);
    if (normalized === '..' || normalized.startsWith(`..${path.sep}`))
      return `file "${file.name}": path "${rel}" leaves the record's files directory`;
  }
  // The container may have replaced $OSA_FILES itself with a link (say, to /): then
  // "<source_id>/<path>" would name host files.
  const rootInfo = await lstat(filesRoot).catch(() => undefined);
  if (!rootInfo?.isDirectory())
    return `the files directory ${rootInfo?.isSymbolicLink() ? 'is a symbolic link' : 'does not exist'}, so no file can be published`;
  const recordDir = path.join(filesRoot, sourceId);
  const recordInfo = await lstat(recordDir).catch(() => undefined);
  if (!recordInfo) return `files directory ${sourceId}/ does not exist`;
  if (!recordInfo.isDirectory()) return `files directory ${sourceId}/ is ${recordInfo.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`;
  const realRecordDir = path.join(await realpath(filesRoot), sourceId);
  for (const file of files) {
    const rel = file.relative_path;
    let real: string;
    try {
      real = await realpath(path.join(recordDir, path.normalize(rel)));
    } catch {
      return `file "${file.name}": "${rel}" does not exist`;
    }
    if (real !== realRecordDir && !real.startsWith(realRecordDir + path.sep))
      return `file "${file.name}": "${rel}" is a link that leaves the record's files directory`;
    const info = await stat(real);
    if (!info.isFile()) return `file "${file.name}": "${rel}" is not a regular file`;
  }
  return undefined;
}
