// What every identity backend of the alerts API shares: who the caller is, what they want to do,
// and how a backend says it cannot answer or is not ready.
import { createHash } from 'node:crypto';

export interface Identity {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request wants to do to alerts: the Kubernetes verbs of the ClusterRoles. */
export type Verb = 'list' | 'get' | 'update';

export interface Readiness {
  ready: boolean;
  /** Why not, when not ready (never a token). */
  reason?: string;
}

export interface AccessControl {
  /** The identity a bearer token stands for; undefined when the token is not valid. */
  authenticate(token: string): Promise<Identity | undefined>;
  authorize(identity: Identity, verb: Verb): Promise<boolean>;
  /** Says, for a 403, what the caller lacks. */
  describeRequirement(verb: Verb): string;
  /** Whether the backend can authenticate anyone right now (the alerts API's /readyz). */
  readiness?(): Readiness;
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
