// Files written through a temporary file and a rename, so a reader never sees half a file.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';

function tmpName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Writes `data` to `file` with `mode`, atomically (same-directory temporary file, then rename). */
export function writeFileAtomic(file: string, data: string, mode: number): void {
  const tmp = tmpName(file);
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** The same, without blocking the event loop. */
export async function writeFileAtomicAsync(file: string, data: string, mode: number): Promise<void> {
  const tmp = tmpName(file);
  try {
    await fsp.writeFile(tmp, data, { mode });
    await fsp.chmod(tmp, mode);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
