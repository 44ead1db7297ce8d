import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkFileRefs } from './index.js';

/**
 * The layout a hostile ingester can build under $OSA_FILES: real directories and files, and
 * symbolic links at every component of "<files root>/<source id>/<dir>/<file>".
 */
describe('checkFileRefs', () => {
  let tmp: string;
  let root: string;
  let outside: string;
  const ref = (relative_path: string) => [{ name: 'f', relative_path }];

  beforeEach(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'osa-file-refs-'));
    root = path.join(tmp, 'files');
    outside = path.join(tmp, 'host');
    await mkdir(path.join(outside, 'etc'), { recursive: true });
    await writeFile(path.join(outside, 'etc', 'passwd'), 'root:x:0:0\n');
    await mkdir(path.join(root, 'rec', 'sub'), { recursive: true });
    await writeFile(path.join(root, 'rec', 'sub', 'a.txt'), 'a');
    await mkdir(path.join(root, 'other'), { recursive: true });
    await writeFile(path.join(root, 'other', 'b.txt'), 'b');
  });
  afterEach(() => rm(tmp, { recursive: true, force: true }));

  it('accepts regular files inside the record directory, also through links that stay inside', async () => {
    await symlink('sub', path.join(root, 'rec', 'alias'));
    await symlink('sub/a.txt', path.join(root, 'rec', 'a-link'));
    await expect(checkFileRefs(root, 'rec', ref('sub/a.txt'))).resolves.toBeUndefined();
    await expect(checkFileRefs(root, 'rec', ref('alias/a.txt'))).resolves.toBeUndefined();
    await expect(checkFileRefs(root, 'rec', ref('a-link'))).resolves.toBeUndefined();
  });

  it('refuses a record directory that is a link out of the files root ($OSA_FILES/<id> -> /etc)', async () => {
    await symlink(path.join(outside, 'etc'), path.join(root, 'etc-id'));
    await expect(checkFileRefs(root, 'etc-id', ref('passwd'))).resolves.toBe('files directory etc-id/ is a symbolic link');
  });

  it("refuses a record directory that is a link to another record's directory", async () => {
    await symlink('other', path.join(root, 'borrower'));
    await expect(checkFileRefs(root, 'borrower', ref('b.txt'))).resolves.toBe('files directory borrower/ is a symbolic link');
  });

  it('refuses a link to a directory outside at a middle component', async () => {
    await symlink(path.join(outside, 'etc'), path.join(root, 'rec', 'sub', 'deeper'));
    await expect(checkFileRefs(root, 'rec', ref('sub/deeper/passwd'))).resolves.toContain('is a link that leaves');
  });

  it('refuses a relative link that climbs out at a middle component', async () => {
    await symlink('../../other', path.join(root, 'rec', 'sub', 'up'));
    await expect(checkFileRefs(root, 'rec', ref('sub/up/b.txt'))).resolves.toContain('is a link that leaves');
  });

  it('refuses a link to a host file at the last component', async () => {
    await symlink(path.join(outside, 'etc', 'passwd'), path.join(root, 'rec', 'passwd'));
    await expect(checkFileRefs(root, 'rec', ref('passwd'))).resolves.toContain('is a link that leaves');
  });

  it('refuses a files root that is itself a link (then "<id>/<path>" would name host files)', async () => {
    const linkedRoot = path.join(tmp, 'files-link');
    await symlink(outside, linkedRoot);
    await expect(checkFileRefs(linkedRoot, 'etc', ref('passwd'))).resolves.toContain('the files directory is a symbolic link');
  });

  it('refuses what is not a regular file, and what does not exist', async () => {
    await expect(checkFileRefs(root, 'rec', ref('sub'))).resolves.toContain('is not a regular file');
    await expect(checkFileRefs(root, 'rec', ref('.'))).resolves.toContain('is not a regular file');
    await expect(checkFileRefs(root, 'rec', ref('missing.txt'))).resolves.toContain('does not exist');
    await expect(checkFileRefs(root, 'nobody', ref('a.txt'))).resolves.toBe('files directory nobody/ does not exist');
  });
});
