// Checkpoints for `--follow`: where each followed file was read up to, and which long-running
// sessions (exec, watch) alerted at ResponseStarted and still await their ResponseComplete.
// A file is identified by device + inode, and confirmed by a hash of its first
// min(HEAD_BYTES, offset) bytes (an inode can be reused; a copytruncate keeps it).
//
// A checkpoint decides what is NOT read, so it is treated as an attack surface (the scan often
// runs as root over a log other users can influence):
//  - it is written to a temporary file with a random name in the same folder, opened with
//    O_CREAT|O_EXCL|O_NOFOLLOW (never through a symlink someone planted), then renamed;
//  - a checkpoint file or folder writable by group/other, owned by another user, or a symlink is
//    refused (CheckpointUnsafeError);
//  - an entry whose head hash does not cover min(HEAD_BYTES, offset) bytes (e.g. an empty hash
//    with a large offset: "skip the whole log") is rejected and its file read from the start.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../core/atomic-write.js';
import { isRecord } from '../core/record.js';

export const CHECKPOINT_VERSION = 1;
/** How many leading bytes of a file its identity hash covers. */
export const HEAD_BYTES = 1024;
/** A checkpoint larger than this is refused (it holds offsets and session IDs, nothing big). */
export const MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024;

export interface FileCheckpoint {
  /** Device and inode, as decimal strings (inode numbers may exceed 2^53). */
  dev: string;
  ino: string;
  /** Byte offset just past the last line processed. */
  offset: number;
  /** Lines processed (for line numbers in reports after a restart). */
  line: number;
  /** sha256 of the file's first `headBytes` bytes (min(HEAD_BYTES, offset)). */
  headBytes: number;
  headHash: string;
}

export interface Checkpoint {
  version: number;
  savedAt: string;
  /** By absolute path of the followed file. */
  files: Record<string, FileCheckpoint>;
  pendingSessions: string[];
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** The checkpoint file or its folder could be changed by someone else: neither read nor written. */
export class CheckpointUnsafeError extends CheckpointError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointUnsafeError';
  }
}

/** An entry that was not used, and why (its file is read from the start). */
export interface RejectedEntry {
  path: string;
  reason: string;
}

const uid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

/**
 * Refuses a path another user could change: a symlink, group/other write permission, or an owner
 * other than this process's user (a folder may also belong to root). Missing: fine.
 */
async function checkPrivate(path: string, what: 'file' | 'folder'): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new CheckpointUnsafeError(`${path}: cannot check the checkpoint ${what}: ${(err as Error).message}`);
  }
  const me = uid();
  if (st.isSymbolicLink()) throw new CheckpointUnsafeError(`${path}: the checkpoint ${what} is a symbolic link: refused (use the real path)`);
  if (what === 'file' && !st.isFile()) throw new CheckpointUnsafeError(`${path}: the checkpoint is not a regular file`);
  if (what === 'folder' && !st.isDirectory()) throw new CheckpointUnsafeError(`${path}: not a folder`);
  if ((st.mode & 0o022) !== 0) {
    throw new CheckpointUnsafeError(
      `${path}: the checkpoint ${what} is writable by ${st.mode & 0o020 ? 'its group' : ''}${(st.mode & 0o022) === 0o022 ? ' and ' : ''}${st.mode & 0o002 ? 'other users' : ''} ` +
        `(mode ${(st.mode & 0o777).toString(8).padStart(3, '0')}): another user could forge it to make the scan skip events. ` +
        `Keep checkpoints in a folder only you can write (chmod ${what === 'folder' ? '700' : '600'} ${path})`,
    );
  }
  if (me !== undefined && st.uid !== me && !(what === 'folder' && st.uid === 0)) {
    throw new CheckpointUnsafeError(`${path}: the checkpoint ${what} belongs to user ${st.uid}, not to this user (${me}): refused`);
  }
}

/** Why an entry cannot be trusted, or undefined when it is well-formed. */
function entryProblem(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not an object';
  if (typeof v.dev !== 'string' || !/^\d+$/.test(v.dev) || typeof v.ino !== 'string' || !/^\d+$/.test(v.ino)) return 'dev and ino must be decimal strings';
  if (!Number.isSafeInteger(v.offset) || (v.offset as number) < 0) return 'offset must be a whole number ≥ 0';
  if (!Number.isSafeInteger(v.line) || (v.line as number) < 0) return 'line must be a whole number ≥ 0';
  const need = Math.min(HEAD_BYTES, v.offset as number);
  if (v.headBytes !== need)
    return `the head hash covers ${JSON.stringify(v.headBytes)} bytes where min(${HEAD_BYTES}, offset ${v.offset}) = ${need} are required`;
  if (need === 0 ? v.headHash !== '' : typeof v.headHash !== 'string' || !/^[0-9a-f]{64}$/.test(v.headHash)) {
    return need === 0 ? 'a head hash for an empty head' : 'the head hash must be a sha256 in hex (64 characters)';
  }
  return undefined;
}

/**
 * The checkpoint in `file` (undefined when there is none yet) and the entries rejected from it.
 * Throws CheckpointUnsafeError when the file or folder is not private, CheckpointError when it is
 * unreadable or not a checkpoint at all.
 */
export async function readCheckpoint(file: string): Promise<{ checkpoint: Checkpoint | undefined; rejected: RejectedEntry[] }> {
  await checkPrivate(dirname(file), 'folder');
  await checkPrivate(file, 'file');
  let text: string;
  let fh: FileHandle | undefined;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const size = (await fh.stat()).size;
    if (size > MAX_CHECKPOINT_BYTES) throw new CheckpointError(`${file}: the checkpoint is larger than ${MAX_CHECKPOINT_BYTES} bytes; remove it to start over`);
    text = await fh.readFile('utf8');
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { checkpoint: undefined, rejected: [] };
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new CheckpointUnsafeError(`${file}: the checkpoint file is a symbolic link: refused`);
    throw new CheckpointError(`${file}: cannot read the checkpoint: ${(err as Error).message}`);
  } finally {
    await fh?.close();
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(`${file}: the checkpoint is not valid JSON (${(err as Error).message}); remove it to start over`);
  }
  if (!isRecord(raw) || raw.version !== CHECKPOINT_VERSION || !isRecord(raw.files)) {
    throw new CheckpointError(`${file}: not a Bulwark audit checkpoint (version ${CHECKPOINT_VERSION}); remove it to start over`);
  }
  const files: Record<string, FileCheckpoint> = {};
  const rejected: RejectedEntry[] = [];
  for (const [path, v] of Object.entries(raw.files)) {
    const problem = entryProblem(v);
    if (problem) rejected.push({ path, reason: `${file}: entry for ${path} rejected: ${problem}` });
    else files[path] = v as unknown as FileCheckpoint;
  }
  const pending = Array.isArray(raw.pendingSessions) ? raw.pendingSessions.filter((s): s is string => typeof s === 'string') : [];
  return {
    checkpoint: { version: CHECKPOINT_VERSION, savedAt: typeof raw.savedAt === 'string' ? raw.savedAt : '', files, pendingSessions: pending },
    rejected,
  };
}

export async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await checkPrivate(dir, 'folder');
  await checkPrivate(file, 'file');
  // core/atomic-write.ts: a random name, created exclusively and never through a symlink.
  try {
    await writeFileAtomicAsync(file, JSON.stringify(cp) + '\n', 0o600);
  } catch (err) {
    throw new CheckpointError(`${file}: cannot write the checkpoint: ${(err as Error).message}`);
  }
}

/** sha256 (hex) of the first `n` bytes of an open file; undefined when the file is shorter. */
export async function headHash(fh: FileHandle, n: number): Promise<string | undefined> {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  if (got < n) return undefined;
  return createHash('sha256').update(buf).digest('hex');
}
