// Files written through a temporary file and a rename, so a reader never sees half a file. The
// temporary file has a random name in the same folder and is created exclusively, never through a
// symlink (O_EXCL | O_NOFOLLOW): nobody who can write to the folder can plant the path and have
// the data written elsewhere. The data is synced before the rename, so a crash leaves the old file
// or the new one.
import { randomBytes } from 'node:crypto';
import fs, { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function tmpName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${randomBytes(12).toString('hex')}.tmp`);
}

/** Writes `data` to `file` with exactly `mode` (umask aside), atomically. */
export function writeFileAtomic(file: string, data: string, mode: number): void {
  const tmp = tmpName(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, FLAGS, mode);
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** The same, without blocking the event loop. */
export async function writeFileAtomicAsync(file: string, data: string, mode: number): Promise<void> {
  const tmp = tmpName(file);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, FLAGS, mode);
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, file);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A folder for private keys: a new one is made 0700 whatever the umask (mkdir's mode is masked by
 * it, so it is set again with chmod, which is not). An existing folder is left as it is, but not
 * one that every user can write to (they could swap the files after we write them).
 */
export function preparePrivateDir(dir: string, flag: string): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!stat) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    return;
  }
  if (stat.isSymbolicLink()) stat = fs.statSync(dir);
  if (!stat.isDirectory()) throw new Error(`${flag} ${dir} exists and is not a folder`);
  if ((stat.mode & 0o002) !== 0) {
    throw new Error(`${flag} ${dir} is writable by every user (mode ${(stat.mode & 0o7777).toString(8)}); use a private folder`);
  }
}
