// Identities from a static token file in kube-apiserver's --token-auth-file format
// (token,user,uid,"group1,group2", further columns ignored as the API server ignores them),
// roles from group membership (`api.roles`). The file is re-read when it changes.
//
// Revocation fails closed: once running, a file that cannot be read (deleted, unreadable, too
// large) or parsed (one bad line) revokes ALL its tokens until it is fixed, and readiness() says
// why (the alerts API's /readyz answers 503). Keeping the old tokens would keep a token the
// operator just removed valid for as long as the file stays broken.
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { CsvSyntaxError, parseCsvRecords } from './csv.js';
import { roleOf, sha256, type AccessControl, type Identity, type Readiness, type RoleMap, type Verb } from './types.js';

export interface TokenEntry {
  /** SHA-256 of the token: the token itself is not kept in memory longer than parsing takes. */
  tokenHash: Buffer;
  user: string;
  uid: string;
  groups: string[];
  line: number;
}

export class TokenFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

/** A token file larger than this is refused (and, once running, revokes every token). */
export const MAX_TOKEN_FILE_BYTES = 4 * 1024 * 1024;

export interface ParsedTokenFile {
  entries: TokenEntry[];
  /** Lines that load but look like a mistake (e.g. unquoted groups: columns after the 4th). */
  warnings: string[];
}

/**
 * Parses a kube-apiserver token file: `token,user,uid` and optionally `"group1,group2"` (quoted
 * when it lists several groups); further columns are ignored, as the API server ignores them.
 * Every malformed line is an error that names the line; nothing is half-loaded.
 */
export function parseTokenFileDetailed(text: string, source = 'token file'): ParsedTokenFile {
  const entries: TokenEntry[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  let records;
  try {
    records = parseCsvRecords(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError) throw new TokenFileError(`${source}${err.line !== undefined ? `:${err.line}` : ''}: ${err.message}`);
    throw new TokenFileError(`${source}: ${(err as Error).message}`);
  }
  for (const { fields, line } of records) {
    const where = `${source}:${line}`;
    if (fields.length < 3) {
      errors.push(`${where}: expected token,user,uid[,"group1,group2"], found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
      continue;
    }
    if (fields.length > 4) {
      warnings.push(
        `${where}: ${fields.length} fields: columns after the 4th are ignored (as kube-apiserver ignores them); quote several groups: token,user,uid,"group1,group2"`,
      );
    }
    const [token, user, uid, groupField] = fields as [string, string, string, string | undefined];
    if (token === '') {
      errors.push(`${where}: the token is empty`);
      continue;
    }
    if (/\s/.test(token)) {
      errors.push(`${where}: the token contains white space`);
      continue;
    }
    if (user === '') {
      errors.push(`${where}: the user name is empty`);
      continue;
    }
    const hash = sha256(token);
    const key = hash.toString('hex');
    if (seen.has(key)) {
      errors.push(`${where}: the same token as line ${seen.get(key)}`);
      continue;
    }
    seen.set(key, line);
    const groups =
      groupField === undefined || groupField === ''
        ? []
        : groupField
            .split(',')
            .map((g) => g.trim())
            .filter((g) => g !== '');
    entries.push({ tokenHash: hash, user, uid, groups, line });
  }
  if (errors.length > 0) throw new TokenFileError(errors.join('\n'));
  return { entries, warnings };
}

export function parseTokenFile(text: string, source = 'token file'): TokenEntry[] {
  return parseTokenFileDetailed(text, source).entries;
}

export interface TokenFileAccessOptions {
  /** How often at most the file is checked for changes (default 1 s); 0 checks on every request. */
  checkIntervalMs?: number;
}

/** Identity from a token file (reloaded when it changes), roles from group membership. */
export class TokenFileAccess implements AccessControl {
  private entries: TokenEntry[] = [];
  private stamp = '';
  private lastCheck = 0;
  /** Why every token is revoked right now; undefined while the file loads cleanly. */
  private failure: string | undefined;
  private readonly checkIntervalMs: number;

  constructor(
    private readonly file: string,
    private readonly roles: RoleMap,
    private readonly logger: Logger,
    options: TokenFileAccessOptions = {},
  ) {
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.lastCheck = Date.now();
    this.load(true);
  }

  private statStamp(st: fs.Stats = fs.statSync(this.file)): string {
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  }

  /** Fail closed: no token is valid until the file loads again. */
  private revoke(stamp: string, reason: string): void {
    const had = this.entries.length;
    this.entries = [];
    this.stamp = stamp; // do not re-read the same broken file on every request
    if (this.failure !== reason) {
      this.logger.error({ file: this.file, error: reason, revoked: had }, 'token file unusable: every token of it is revoked until it is fixed');
    }
    this.failure = reason;
  }

  /** Reads the file; at start-up an error is fatal, later it revokes every token. */
  private load(initial: boolean): void {
    let stamp: string;
    let text: string;
    try {
      const st = fs.statSync(this.file);
      stamp = this.statStamp(st);
      if (st.size > MAX_TOKEN_FILE_BYTES) {
        const message = `the token file ${this.file} is larger than ${MAX_TOKEN_FILE_BYTES} bytes (${st.size})`;
        if (initial) throw new TokenFileError(message);
        this.revoke(stamp, message);
        return;
      }
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if (err instanceof TokenFileError) throw err;
      const message = `cannot read the token file ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      if (initial) throw new TokenFileError(message);
      this.revoke('unreadable', message);
      return;
    }
    let parsed: ParsedTokenFile;
    try {
      parsed = parseTokenFileDetailed(text, this.file);
    } catch (err) {
      if (initial) throw err;
      this.revoke(stamp, (err as Error).message);
      return;
    }
    for (const w of parsed.warnings) this.logger.warn({ file: this.file, warning: w }, 'token file line ignored in part');
    this.entries = parsed.entries;
    this.stamp = stamp;
    const recovered = this.failure !== undefined;
    this.failure = undefined;
    if (!initial) this.logger.info({ file: this.file, tokens: this.entries.length, ...(recovered ? { recovered } : {}) }, 'token file reloaded');
  }

  private maybeReload(): void {
    const now = Date.now();
    if (now - this.lastCheck < this.checkIntervalMs) return;
    this.lastCheck = now;
    let stamp: string | undefined;
    try {
      stamp = this.statStamp();
    } catch {
      stamp = undefined; // deleted or unreadable: load() revokes and says why
    }
    // A Secret volume swaps its ..data symlink atomically: the path never goes missing on rotation,
    // so a missing file is a deleted one. Still missing and already revoked: nothing to do.
    if (stamp === undefined ? this.stamp !== 'unreadable' : stamp !== this.stamp) this.load(false);
  }

  readiness(): Readiness {
    this.maybeReload();
    return this.failure === undefined ? { ready: true } : { ready: false, reason: `${this.failure} (every token of the file is revoked until it is fixed)` };
  }

  async authenticate(token: string): Promise<Identity | undefined> {
    this.maybeReload();
    const presented = sha256(token);
    let match: TokenEntry | undefined;
    // Compare against every entry, in constant time each, so that timing says nothing about which matched.
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.tokenHash) && !match) match = e;
    }
    return match ? { username: match.user, uid: match.uid, groups: [...match.groups] } : undefined;
  }

  async authorize(identity: Identity, verb: Verb): Promise<boolean> {
    const role = roleOf(identity.groups, this.roles);
    if (verb === 'update') return role === 'admin';
    return role === 'admin' || role === 'reader';
  }

  describeRequirement(verb: Verb): string {
    return verb === 'update'
      ? `the admin role (a group in api.roles.admin: ${this.roles.admin.join(', ') || 'none configured'})`
      : `the reader or admin role (a group in api.roles.reader or api.roles.admin)`;
  }
}
