// Checkpoints for `--follow`: where each followed file was read up to, and which long-running
// sessions (exec, watch) alerted at ResponseStarted and still await their ResponseComplete.
// A file is identified by device + inode, and confirmed by a hash of its first bytes (an inode can
// be reused; a copytruncate keeps it). Written to a temporary file and renamed: never half-written.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../core/atomic-write.js';
import { dirname } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { isRecord } from '../core/record.js';

export const CHECKPOINT_VERSION = 1;
/** How many leading bytes of a file its identity hash covers. */
export const HEAD_BYTES = 1024;

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

/** The checkpoint in `file`, or undefined when there is none yet. Throws CheckpointError when it is unreadable or invalid. */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CheckpointError(`${file}: cannot read the checkpoint: ${(err as Error).message}`);
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
  for (const [path, v] of Object.entries(raw.files)) {
    if (
      isRecord(v) && typeof v.dev === 'string' && typeof v.ino === 'string' && Number.isSafeInteger(v.offset) &&
      Number.isSafeInteger(v.line) && Number.isSafeInteger(v.headBytes) && typeof v.headHash === 'string'
    ) {
      files[path] = v as unknown as FileCheckpoint;
    } else throw new CheckpointError(`${file}: invalid entry for ${path}; remove the checkpoint to start over`);
  }
  const pending = Array.isArray(raw.pendingSessions) ? raw.pendingSessions.filter((s): s is string => typeof s === 'string') : [];
  return { version: CHECKPOINT_VERSION, savedAt: typeof raw.savedAt === 'string' ? raw.savedAt : '', files, pendingSessions: pending };
}

export async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomicAsync(file, JSON.stringify(cp) + '\n', 0o600);
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
