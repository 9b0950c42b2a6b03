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
