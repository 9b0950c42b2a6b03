// `--follow`: tails live audit logs the way `tail -F` does — by name, surviving rotation by rename
// (the old file is drained to its end, then the new one read from its start) and by copytruncate
// (a shrunk file, or one whose first bytes changed, is read again from the start) — and keeps a
// checkpoint so that a restart neither skips nor re-alerts events.
//
// Restart: a checkpointed file with the same device+inode and the same first bytes is resumed at
// its offset. If the name now holds another file (rotated while Bulwark was down), the directory is
// searched for the checkpointed inode and the rest of that file is read first.
// The checkpoint is written after every chunk that raised alerts (once they are recorded), every
// `checkpointEveryMs` otherwise, and on exit.
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEvent } from './event.js';
import { HEAD_BYTES, headHash, readCheckpoint, writeCheckpoint, type Checkpoint, type FileCheckpoint } from './checkpoint.js';
import { describeError, eventSplitter, type MalformedLine } from './input.js';
import { isRequestReceivedLine } from './skim.js';
import type { LineSplitter } from './lines.js';

const CHUNK = 1 << 20;

export interface FollowLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface FollowOptions {
  /** Stops following (the checkpoint is written, files closed). */
  signal?: AbortSignal;
  pollMs?: number;
  checkpointFile?: string;
  checkpointEveryMs?: number;
  /** Read to the current end once, save the checkpoint and return (a cron-style incremental scan). */
  once?: boolean;
  maxLineBytes: number;
  /** Handles one event; resolves to the number of alerts it raised once they are recorded. */
  onEvent(ev: AuditEvent, file: string, line: number): number | Promise<number>;
  onMalformed(m: MalformedLine): void;
  /** When given, a RequestReceived line as the API server writes it is counted here instead of parsed (isRequestReceivedLine). */
  onRequestReceived?(): void;
  /** Runs before the last checkpoint is written (to emit alerts still held for de-duplication). */
  beforeFinalSave?: () => void | Promise<void>;
  /**
   * A checkpoint (or one of its entries) was not trusted: forged, malformed, or not matching the
   * file it names. The file is read from the start; the caller warns loudly (log, metric, alert).
   */
  onCheckpointRejected?: (reason: string) => void;
  /** Pending long-running sessions, saved with the checkpoint and restored from it. */
  sessions?: { pending(): string[]; restore(ids: readonly string[]): void };
  log: FollowLog;
}

type Item = { ev: AuditEvent; line: number } | { bad: MalformedLine };

class Tailer {
  readonly abs: string;
  private fh: FileHandle | undefined;
  private dev = '';
  private ino = '';
  private splitter: LineSplitter | undefined;
  private items: Item[] = [];
  private head: { bytes: number; hash: string } = { bytes: 0, hash: '' };
  private missingLogged = false;
  /**
   * RequestReceived lines are counted unparsed (opts.onRequestReceived). Completed requests are
   * not skimmed here (AuditAnalyser.skipLine): lines are queued and analysed later, and whether one
   * needs analysing depends on the sessions the lines before it open.
   */
  private readonly countRequestReceived: ((text: string) => boolean) | undefined;

  constructor(
    readonly path: string,
    private readonly opts: FollowOptions,
  ) {
    this.abs = resolve(path);
    const counted = opts.onRequestReceived;
    this.countRequestReceived =
      counted &&
      ((text) => {
        if (!isRequestReceivedLine(text)) return false;
        counted();
        return true;
      });
  }

  /** Opens the file, resuming from the checkpoint when it still describes it. */
  async start(cp: FileCheckpoint | undefined): Promise<number> {
    let alerts = 0;
    if (cp) {
      const cur = await statOrUndefined(this.path);
      if (!cur || cur.dev.toString() !== cp.dev || cur.ino.toString() !== cp.ino) alerts += await this.drainRotated(cp);
      else if (await this.openAt(cp)) return alerts;
    }
    await this.openAt(undefined);
    return alerts;
  }

  /** Reads what is new; handles truncation and rotation. Resolves to the alerts raised. */
  async poll(): Promise<number> {
    let alerts = 0;
    if (!this.fh && !(await this.openAt(undefined))) return 0;
    alerts += await this.readToEnd();
    const cur = await statOrUndefined(this.path);
    if (!cur || cur.dev.toString() !== this.dev || cur.ino.toString() !== this.ino) {
      // Renamed (or deleted): drain what was written before the rotation, then take the new file.
      alerts += await this.readToEnd();
      alerts += await this.finishFile();
      await this.close();
      this.opts.log.info(`${this.path}: rotated${cur ? '; reading the new file from its start' : '; waiting for the new file'}`);
      if (cur && (await this.openAt(undefined))) alerts += await this.readToEnd();
    }
    return alerts;
  }

  checkpoint(): FileCheckpoint | undefined {
    if (!this.fh || !this.splitter) return undefined;
    return {
      dev: this.dev,
      ino: this.ino,
      offset: this.splitter.committed,
      line: this.splitter.lineNo - 1,
      headBytes: this.head.bytes,
      headHash: this.head.hash,
    };
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.splitter = undefined;
    if (fh) await fh.close().catch(() => undefined);
  }

  private newSplitter(offset: number, line: number): LineSplitter {
    return eventSplitter(
      this.path,
      this.opts.maxLineBytes,
      {
        event: (ev, lineNo) => void this.items.push({ ev, line: lineNo }),
        malformed: (m) => void this.items.push({ bad: m }),
        skip: this.countRequestReceived,
      },
      offset,
      line + 1,
    );
  }

  private async openAt(cp: FileCheckpoint | undefined): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      if (!this.missingLogged) {
        this.opts.log.warn(`${this.path}: ${describeError(err)}; waiting for it`);
        this.missingLogged = true;
      }
      return false;
    }
    this.missingLogged = false;
    const st = await fh.stat({ bigint: true });
    let offset = 0;
    let line = 0;
    if (cp && st.dev.toString() === cp.dev && st.ino.toString() === cp.ino && st.size >= BigInt(cp.offset)) {
      const hash = cp.headBytes > 0 ? await headHash(fh, cp.headBytes) : '';
      if (hash === cp.headHash) {
        offset = cp.offset;
        line = cp.line;
        this.head = { bytes: cp.headBytes, hash: cp.headHash };
      } else {
        const reason = `${this.path}: the checkpoint's head hash does not match the file's first ${cp.headBytes} bytes (the file was rewritten while stopped, or the checkpoint was forged); reading from the start`;
        this.opts.log.warn(reason);
        this.opts.onCheckpointRejected?.(reason);
      }
    } else if (cp) {
      await fh.close();
      return false;
    }
    if (offset === 0) this.head = { bytes: 0, hash: '' };
    this.fh = fh;
    this.dev = st.dev.toString();
    this.ino = st.ino.toString();
    this.splitter = this.newSplitter(offset, line);
    if (offset > 0) this.opts.log.info(`${this.path}: resuming at byte ${offset} (line ${line + 1}) from the checkpoint`);
    return true;
  }

  /** The file the checkpoint names is no longer at `path`: find it by inode and read its rest. */
  private async drainRotated(cp: FileCheckpoint): Promise<number> {
    const dir = dirname(this.abs);
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      // An unreadable directory: nothing to drain.
    }
    for (const name of names) {
      if (name === basename(this.abs)) continue;
      const candidate = join(dir, name);
      const st = await statOrUndefined(candidate);
      if (!st || !st.isFile() || st.dev.toString() !== cp.dev || st.ino.toString() !== cp.ino) continue;
      const rotated = new Tailer(candidate, this.opts);
      if (!(await rotated.openAt(cp))) break;
      this.opts.log.info(`${this.path}: rotated while stopped; reading the rest of ${candidate} first`);
      let alerts = await rotated.readToEnd();
      alerts += await rotated.finishFile();
      await rotated.close();
      return alerts;
    }
    this.opts.log.warn(
      `${this.path}: the checkpointed file (inode ${cp.ino}) is gone (rotated and removed or compressed); events written to it after the checkpoint were not read`,
    );
    return 0;
  }

  private async readToEnd(): Promise<number> {
    const fh = this.fh;
    const splitter = this.splitter;
    if (!fh || !splitter) return 0;
    const st = await fh.stat();
    if (st.size < splitter.offset || (await this.headChanged(fh))) {
      this.opts.log.warn(`${this.path}: truncated (copytruncate?); reading from the start`);
      splitter.reset(0, 1);
      this.head = { bytes: 0, hash: '' };
    }
    let alerts = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, splitter.offset);
      if (bytesRead === 0) break;
      splitter.push(bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead));
      alerts += await this.drainItems();
      await this.updateHead(fh, splitter.committed);
    }
    return alerts;
  }

  private async finishFile(): Promise<number> {
    this.splitter?.end();
    return this.drainItems();
  }

  private async drainItems(): Promise<number> {
    let alerts = 0;
    const items = this.items;
    this.items = [];
    for (const item of items) {
      if ('bad' in item) this.opts.onMalformed(item.bad);
      else {
        const r = this.opts.onEvent(item.ev, this.path, item.line);
        alerts += typeof r === 'number' ? r : await r;
      }
    }
    return alerts;
  }

  private async updateHead(fh: FileHandle, committed: number): Promise<void> {
    if (this.head.bytes >= HEAD_BYTES || committed <= this.head.bytes) return;
    const n = Math.min(HEAD_BYTES, committed);
    const hash = await headHash(fh, n);
    if (hash !== undefined) this.head = { bytes: n, hash };
  }

  private async headChanged(fh: FileHandle): Promise<boolean> {
    if (this.head.bytes === 0) return false;
    const hash = await headHash(fh, this.head.bytes);
    return hash !== this.head.hash;
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

export interface FollowResult {
  checkpointWrites: number;
}

/** Follows the files until the signal aborts (or once to their current end with `once`). */
export async function followAuditFiles(paths: readonly string[], opts: FollowOptions): Promise<FollowResult> {
  const pollMs = opts.pollMs ?? 250;
  const every = opts.checkpointEveryMs ?? 5000;
  const result: FollowResult = { checkpointWrites: 0 };
  const read = opts.checkpointFile ? await readCheckpoint(opts.checkpointFile) : undefined;
  const cp: Checkpoint | undefined = read?.checkpoint;
  for (const r of read?.rejected ?? []) {
    opts.log.warn(`${r.reason}; reading that file from the start`);
    opts.onCheckpointRejected?.(r.reason);
  }
  if (cp && opts.sessions) opts.sessions.restore(cp.pendingSessions);
  const tailers = paths.map((p) => new Tailer(p, opts));
  const save = async (): Promise<void> => {
    if (!opts.checkpointFile) return;
    const files: Record<string, FileCheckpoint> = { ...(cp?.files ?? {}) };
    for (const t of tailers) {
      const c = t.checkpoint();
      if (c) files[t.abs] = c;
    }
    await writeCheckpoint(opts.checkpointFile, {
      version: 1,
      savedAt: new Date().toISOString(),
      files,
      pendingSessions: opts.sessions?.pending() ?? [],
    });
    result.checkpointWrites++;
  };
  let lastSave = Date.now();
  try {
    let alerts = 0;
    for (const t of tailers) alerts += await t.start(cp?.files[t.abs]);
    for (;;) {
      for (const t of tailers) alerts += await t.poll();
      if (opts.checkpointFile && !opts.once && (alerts > 0 || Date.now() - lastSave >= every)) {
        await save();
        lastSave = Date.now();
        alerts = 0;
      }
      if (opts.once || opts.signal?.aborted) break;
      try {
        await sleep(pollMs, undefined, { signal: opts.signal });
      } catch {
        // Aborted: one last poll so that nothing already written is left unread.
      }
    }
  } finally {
    try {
      await opts.beforeFinalSave?.();
      await save();
    } finally {
      for (const t of tailers) await t.close();
    }
  }
  return result;
}
