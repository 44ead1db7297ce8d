import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import path from 'node:path';

/** A container output file the services will not read, and why. */
export class OutputFileRefusedError extends Error {
  constructor(
    readonly file: string,
    /** Why, as a sentence that follows the file's name: "is a symbolic link". */
    readonly why: string,
  ) {
    super(`${path.basename(file)} ${why}`);
    this.name = 'OutputFileRefusedError';
    Object.setPrototypeOf(this, OutputFileRefusedError.prototype);
  }
}

export interface OutputFile {
  handle: FileHandle;
  /** Size when opened; reading stops at the limit even if the file grows. */
  size: number;
}

// O_NONBLOCK: should a FIFO slip past the lstat check, opening it still cannot wait for a writer.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens a file a container wrote, without trusting it: a symbolic link is not followed (it could
 * point at any file the service can read), neither for the file nor for its own directory;
 * anything but a regular file is refused (a FIFO would block the read forever, a device such as
 * /dev/zero never ends); and a file over `maxBytes` is refused unread. Resolves undefined when there is no such file; rejects with
 * {@link OutputFileRefusedError} for a file that must not be read, and with the system's error
 * for a failure of the service's own (too many open files, I/O).
 */
export async function openOutputFile(file: string, maxBytes: number): Promise<OutputFile | undefined> {
  // A container that can replace its output directory with a link could point the name at any
  // directory; the directories above it belong to the service.
  if ((await lstat(path.dirname(file)).catch(() => undefined))?.isSymbolicLink()) {
    throw new OutputFileRefusedError(file, 'is in a directory that is a symbolic link: container output must be a regular file in its own directory');
  }
  let before: Stats;
  try {
    before = await lstat(file);
  } catch (err) {
    return absentOrRefused(file, err);
  }
  // Refused before opening: opening a device or FIFO can have effects of its own.
  if (!before.isFile()) throw new OutputFileRefusedError(file, `${describeType(before)}: container output must be a regular file`);
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (err) {
    return absentOrRefused(file, err);
  }
  try {
    const info = await handle.stat();
    // The name may have been swapped between lstat and open; what was opened is what counts.
    if (!info.isFile()) throw new OutputFileRefusedError(file, `${describeType(info)}: container output must be a regular file`);
    if (info.ino !== before.ino || info.dev !== before.dev)
      throw new OutputFileRefusedError(file, 'was replaced by another file while it was being opened');
    if (info.size > maxBytes) throw new OutputFileRefusedError(file, `is ${info.size} bytes, over the ${maxBytes}-byte limit`);
    return { handle, size: info.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Reads a whole output file (bounded by `maxBytes`); undefined when there is none. */
export async function readOutputFile(file: string, maxBytes: number): Promise<Buffer | undefined> {
  const opened = await openOutputFile(file, maxBytes);
  if (!opened) return undefined;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of readChunks(opened.handle, maxBytes)) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  } finally {
    await opened.handle.close();
  }
}

/**
 * The bytes of an open file in chunks, at most `maxBytes` in all. A chunk is only valid until
 * the next one is requested (the buffer is reused); copy what must outlive it.
 */
export async function* readChunks(handle: FileHandle, maxBytes: number, chunkBytes = 256 * 1024): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  let read = 0;
  while (read < maxBytes) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(chunkBytes, maxBytes - read), null);
    if (bytesRead === 0) return;
    read += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

function absentOrRefused(file: string, err: unknown): undefined {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return undefined;
    case 'ELOOP':
      throw new OutputFileRefusedError(file, 'is a symbolic link: container output must be a regular file');
    case 'ENOTDIR':
      throw new OutputFileRefusedError(file, 'is inside something that is not a directory');
    case 'EACCES':
    case 'EPERM':
      throw new OutputFileRefusedError(file, 'is not readable by the service (permission denied)');
    case 'ENXIO':
      throw new OutputFileRefusedError(file, 'is a socket or a device: container output must be a regular file');
    default:
      throw err;
  }
}

function describeType(info: Stats): string {
  if (info.isSymbolicLink()) return 'is a symbolic link';
  if (info.isFIFO()) return 'is a FIFO (named pipe)';
  if (info.isSocket()) return 'is a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'is a device';
  if (info.isDirectory()) return 'is a directory';
  return info.isFile() ? 'is a regular file' : 'is not a regular file';
}
