// Who is calling the alerts API, and what they may do. Two sources of identity, one interface:
//  - a static token file in kube-apiserver's --token-auth-file format, groups mapped to roles
//    by `api.roles` (reader: list and get; admin: also change status);
//  - in a cluster, the API server itself: TokenReview (authentication.k8s.io/v1) for the token,
//    SubjectAccessReview (authorization.k8s.io/v1) for verbs on `alerts` in group `bulwark.io`.
// Tokens are never logged or kept: lookups and caches use their SHA-256.
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../core/log.js';

export interface Identity {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request wants to do to alerts: the Kubernetes verbs of the ClusterRoles. */
export type Verb = 'list' | 'get' | 'update';

export interface AccessControl {
  /** The identity a bearer token stands for; undefined when the token is not valid. */
  authenticate(token: string): Promise<Identity | undefined>;
  authorize(identity: Identity, verb: Verb): Promise<boolean>;
  /** Says, for a 403, what the caller lacks. */
  describeRequirement(verb: Verb): string;
}

/** The identity backend could not answer (the API server is unreachable…): 503, not 401. */
export class AccessBackendError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'AccessBackendError';
  }
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

// ---------------------------------------------------------------------------------------------
// Token file

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

interface CsvRecord {
  fields: string[];
  line: number;
}

/** RFC 4180 records as Go's encoding/csv reads them for kube-apiserver (quoted fields, "" escapes). */
function parseCsv(text: string, source: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    // Blank lines and (an extension to the kube-apiserver format) # comment lines.
    if (text[i] === '\n' || text[i] === '\r') {
      if (text[i] === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      continue;
    }
    if (text[i] === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++; // leading space, as TrimLeadingSpace
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new TokenFileError(`${source}:${startLine}: unterminated quoted field`);
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new TokenFileError(`${source}:${line}: extraneous character ${JSON.stringify(text[i])} after a closing quote`);
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new TokenFileError(`${source}:${line}: a quote inside an unquoted field: quote the whole field ("…") and double inner quotes`);
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') {
      i++;
      line++;
    }
    records.push({ fields, line: startLine });
  }
  return records;
}

/**
 * Parses a kube-apiserver token file: `token,user,uid` and optionally `"group1,group2"` (quoted
 * when it lists several groups). Every malformed line is an error that names the line; nothing
 * is half-loaded.
 */
export function parseTokenFile(text: string, source = 'token file'): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const errors: string[] = [];
  const seen = new Map<string, number>();
  let records: CsvRecord[];
  try {
    records = parseCsv(text.replace(/^\uFEFF/, ''), source);
  } catch (err) {
    throw err instanceof TokenFileError ? err : new TokenFileError(`${source}: ${(err as Error).message}`);
  }
  for (const { fields, line } of records) {
    const where = `${source}:${line}`;
    if (fields.length < 3) {
      errors.push(`${where}: expected token,user,uid[,"group1,group2"], found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
      continue;
    }
    if (fields.length > 4) {
      errors.push(`${where}: ${fields.length} fields where at most 4 are allowed: quote the groups, e.g. token,user,uid,"group1,group2"`);
      continue;
    }
    const [token, user, uid, groupField] = fields.map((f) => f.trim()) as [string, string, string, string | undefined];
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
    const key = sha256(token).toString('hex');
    if (seen.has(key)) {
      errors.push(`${where}: the same token as line ${seen.get(key)}`);
      continue;
    }
    seen.set(key, line);
    const groups = groupField === undefined || groupField === '' ? [] : groupField.split(',').map((g) => g.trim()).filter((g) => g !== '');
    entries.push({ tokenHash: sha256(token), user, uid, groups, line });
  }
  if (errors.length > 0) throw new TokenFileError(errors.join('\n'));
  return entries;
}

export interface RoleMap {
  admin: string[];
  reader: string[];
}

export type Role = 'admin' | 'reader';

export function roleOf(groups: readonly string[], roles: RoleMap): Role | undefined {
  if (groups.some((g) => roles.admin.includes(g))) return 'admin';
  if (groups.some((g) => roles.reader.includes(g))) return 'reader';
  return undefined;
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
  private readonly checkIntervalMs: number;

  constructor(
    private readonly file: string,
    private readonly roles: RoleMap,
    private readonly logger: Logger,
    options: TokenFileAccessOptions = {},
  ) {
    this.checkIntervalMs = options.checkIntervalMs ?? 1000;
    this.load(true);
  }

  private statStamp(): string {
    const st = fs.statSync(this.file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  }

  /** Reads the file; at start-up an error is fatal, later it keeps the tokens it had. */
  private load(initial: boolean): void {
    let stamp: string;
    let text: string;
    try {
      stamp = this.statStamp();
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      const message = `cannot read the token file ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      if (initial) throw new TokenFileError(message);
      this.logger.error({ file: this.file }, `${message}; keeping the tokens loaded before`);
      return;
    }
    try {
      this.entries = parseTokenFile(text, this.file);
      this.stamp = stamp;
      if (!initial) this.logger.info({ file: this.file, tokens: this.entries.length }, 'token file reloaded');
    } catch (err) {
      if (initial) throw err;
      this.stamp = stamp; // do not re-parse the same broken file on every request
      this.logger.error({ file: this.file, error: (err as Error).message }, 'token file has errors; keeping the tokens loaded before');
    }
  }

  private maybeReload(): void {
    const now = Date.now();
    if (now - this.lastCheck < this.checkIntervalMs) return;
    this.lastCheck = now;
    let stamp: string;
    try {
      stamp = this.statStamp();
    } catch {
      return; // mid-rotation (a Secret volume swaps a symlink): try again next time
    }
    if (stamp !== this.stamp) this.load(false);
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

// ---------------------------------------------------------------------------------------------
// Kubernetes: TokenReview + SubjectAccessReview

export const ALERTS_API_GROUP = 'bulwark.io';
export const ALERTS_RESOURCE = 'alerts';

export interface KubernetesAccessOptions {
  /** How long answers are reused (default 10 s). */
  cacheTtlMs?: number;
  /** TokenReview audiences (default: the API server's). */
  audiences?: string[];
  maxCacheEntries?: number;
}

class TtlCache<V> {
  private readonly map = new Map<string, { value: V; expires: number }>();
  constructor(private readonly ttlMs: number, private readonly max: number) {}
  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    if (hit.expires <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    return hit.value;
  }
  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, { value, expires: Date.now() + this.ttlMs });
  }
}

type ReviewApis = {
  createTokenReview(req: { body: object }): Promise<any>;
  createSubjectAccessReview(req: { body: object }): Promise<any>;
};

/** Asks the API server: TokenReview for who, SubjectAccessReview for what (verbs on alerts.bulwark.io). */
export class KubernetesAccess implements AccessControl {
  private readonly tokens: TtlCache<Identity | null>;
  private readonly decisions: TtlCache<boolean>;
  private readonly audiences: string[] | undefined;

  private constructor(private readonly apis: ReviewApis, private readonly logger: Logger, options: KubernetesAccessOptions) {
    const ttl = options.cacheTtlMs ?? 10_000;
    const max = options.maxCacheEntries ?? 1000;
    this.tokens = new TtlCache(ttl, max);
    this.decisions = new TtlCache(ttl, max);
    this.audiences = options.audiences;
  }

  /** `kubeConfig` or, by default, the in-cluster service account (or $KUBECONFIG, ~/.kube/config). */
  static async create(logger: Logger, options: KubernetesAccessOptions & { kubeConfig?: KubeConfig; kubeconfigFile?: string } = {}): Promise<KubernetesAccess> {
    const k8s = await import('@kubernetes/client-node');
    let kc = options.kubeConfig;
    if (!kc) {
      kc = new k8s.KubeConfig();
      if (options.kubeconfigFile) kc.loadFromFile(options.kubeconfigFile);
      else kc.loadFromDefault();
    }
    const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    return new KubernetesAccess(
      {
        createTokenReview: (req) => authn.createTokenReview(req as never),
        createSubjectAccessReview: (req) => authz.createSubjectAccessReview(req as never),
      },
      logger,
      options,
    );
  }

  async authenticate(token: string): Promise<Identity | undefined> {
    const key = sha256(token).toString('hex');
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let review: any;
    try {
      review = await this.apis.createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(this.audiences ? { audiences: this.audiences } : {}) },
        },
      });
    } catch (err) {
      throw new AccessBackendError(`TokenReview failed: ${describeKubeError(err)}`, err);
    }
    const status = review?.status ?? {};
    let identity: Identity | null = null;
    if (status.authenticated === true && typeof status.user?.username === 'string') {
      identity = {
        username: status.user.username,
        uid: status.user.uid ?? '',
        groups: Array.isArray(status.user.groups) ? status.user.groups : [],
        ...(status.user.extra ? { extra: status.user.extra } : {}),
      };
    } else if (status.error) {
      this.logger.info({ error: status.error }, 'TokenReview did not authenticate the token');
    }
    this.tokens.set(key, identity);
    return identity ?? undefined;
  }

  async authorize(identity: Identity, verb: Verb): Promise<boolean> {
    const key = sha256(JSON.stringify([identity.username, identity.uid, identity.groups, identity.extra ?? {}, verb])).toString('hex');
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    let review: any;
    try {
      review = await this.apis.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: identity.username,
            ...(identity.uid ? { uid: identity.uid } : {}),
            groups: identity.groups,
            ...(identity.extra ? { extra: identity.extra } : {}),
            resourceAttributes: { group: ALERTS_API_GROUP, resource: ALERTS_RESOURCE, verb },
          },
        },
      });
    } catch (err) {
      throw new AccessBackendError(`SubjectAccessReview failed: ${describeKubeError(err)}`, err);
    }
    const allowed = review?.status?.allowed === true && review?.status?.denied !== true;
    this.decisions.set(key, allowed);
    return allowed;
  }

  describeRequirement(verb: Verb): string {
    return `RBAC permission to ${verb} ${ALERTS_RESOURCE}.${ALERTS_API_GROUP} (ClusterRole ${verb === 'update' ? 'bulwark-security-admin' : 'bulwark-security-reader'})`;
  }
}

function describeKubeError(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown; message?: unknown };
  if (typeof e?.code === 'number') {
    let detail = '';
    try {
      const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      if (body && typeof body === 'object' && typeof (body as any).message === 'string') detail = `: ${(body as any).message}`;
    } catch {
      // not JSON
    }
    return `HTTP ${e.code}${detail}`;
  }
  return err instanceof Error ? err.message : String(err);
}
