// Identities and permissions from the API server itself: TokenReview (authentication.k8s.io/v1)
// for who a token is, SubjectAccessReview (authorization.k8s.io/v1) for the verbs on `alerts` in
// group `bulwark.io`.
//
// Audiences: every TokenReview asks for `api.audiences` (default `bulwark`), and an answer whose
// status.audiences contains none of them is refused, as the TokenReview API asks of its clients
// ("validate that a compatible audience identifier is returned ... to ensure that the TokenReview
// server is audience aware"). So users hand Bulwark a token bound to Bulwark
// (`kubectl create token NAME --audience bulwark`), which the API server itself does not accept,
// never their API-server token.
//
// Answers are cached (bounded, see cache.ts) for api.cacheTTL, at most 60 s: that is how long a
// revoked token or a removed RoleBinding can keep working here.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { TtlCache } from './cache.js';
import { AccessBackendError, sha256, type AccessControl, type Identity, type Verb } from './types.js';

export const ALERTS_API_GROUP = 'bulwark.io';
export const ALERTS_RESOURCE = 'alerts';
/** The audience asked for when api.audiences is not set: a token minted for Bulwark alone. */
export const DEFAULT_AUDIENCES: readonly string[] = ['bulwark'];
export const DEFAULT_CACHE_TTL_MS = 10_000;
/** api.cacheTTL may not exceed this: the longest a revoked token or binding keeps working. */
export const MAX_CACHE_TTL_MS = 60_000;
export const DEFAULT_MAX_CACHE_ENTRIES = 1000;

export interface KubernetesAccessOptions {
  /** How long answers are reused (default 10 s, at most 60 s). */
  cacheTtlMs?: number;
  /** TokenReview audiences (default ['bulwark']); an answer must name one of them. */
  audiences?: readonly string[];
  maxCacheEntries?: number;
}

type ReviewApis = {
  createTokenReview(req: { body: object }): Promise<any>;
  createSubjectAccessReview(req: { body: object }): Promise<any>;
};

/** A cached TokenReview answer: lru-cache holds no null, so "nobody" is an object too. */
interface TokenAnswer {
  identity: Identity | undefined;
}

/** Asks the API server: TokenReview for who, SubjectAccessReview for what (verbs on alerts.bulwark.io). */
export class KubernetesAccess implements AccessControl {
  private readonly tokens: TtlCache<TokenAnswer>;
  private readonly decisions: TtlCache<{ allowed: boolean }>;
  readonly audiences: readonly string[];

  private constructor(
    private readonly apis: ReviewApis,
    private readonly logger: Logger,
    options: KubernetesAccessOptions,
  ) {
    const ttl = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    if (ttl > MAX_CACHE_TTL_MS) throw new RangeError(`the cache TTL may be at most ${MAX_CACHE_TTL_MS / 1000} s, got ${ttl / 1000} s`);
    const max = options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
    this.tokens = new TtlCache(ttl, max);
    this.decisions = new TtlCache(ttl, max);
    this.audiences = options.audiences ?? DEFAULT_AUDIENCES;
    if (this.audiences.length === 0 || this.audiences.some((a) => typeof a !== 'string' || a === '')) {
      throw new RangeError('TokenReview audiences must be a non-empty list of non-empty strings');
    }
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
    if (cached !== undefined) return cached.identity;
    let review: any;
    try {
      review = await this.apis.createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, audiences: [...this.audiences] },
        },
      });
    } catch (err) {
      throw new AccessBackendError(`TokenReview failed: ${describeKubeError(err)}`, err);
    }
    const status = review?.status ?? {};
    let identity: Identity | undefined;
    if (status.authenticated === true && typeof status.user?.username === 'string') {
      const granted: unknown[] = Array.isArray(status.audiences) ? status.audiences : [];
      if (!granted.some((a) => typeof a === 'string' && this.audiences.includes(a))) {
        // The token is valid, but not for Bulwark (e.g. a user's API-server token), or the
        // authenticator is not audience-aware: refuse it.
        this.logger.warn(
          { username: status.user.username, requested: this.audiences, granted },
          'TokenReview authenticated a token for another audience: refused (see api.audiences)',
        );
      } else {
        identity = {
          username: status.user.username,
          uid: typeof status.user.uid === 'string' ? status.user.uid : '',
          groups: Array.isArray(status.user.groups) ? status.user.groups.filter((g: unknown) => typeof g === 'string') : [],
          ...(status.user.extra ? { extra: status.user.extra } : {}),
        };
      }
    } else if (status.error) {
      this.logger.info({ error: status.error }, 'TokenReview did not authenticate the token');
    }
    this.tokens.set(key, { identity });
    return identity;
  }

  async authorize(identity: Identity, verb: Verb): Promise<boolean> {
    const key = sha256(JSON.stringify([identity.username, identity.uid, identity.groups, identity.extra ?? {}, verb])).toString('hex');
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached.allowed;
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
    this.decisions.set(key, { allowed });
    return allowed;
  }

  describeRequirement(verb: Verb): string {
    return `RBAC permission to ${verb} ${ALERTS_RESOURCE}.${ALERTS_API_GROUP} (the chart's ClusterRole ${verb === 'update' ? '<release>-security-admin, e.g. bulwark-security-admin' : '<release>-security-reader, e.g. bulwark-security-reader'})`;
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
