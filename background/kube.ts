// Reading a cluster for posture: the kubeconfig, and paged, bounded GETs of the judged kinds'
// list endpoints (the paths come from policies/kinds.ts, so no discovery round trip is needed).
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { JUDGED_KINDS, type JudgedKind } from '../policies/kinds.js';

export interface KubeSource {
  /** A kubeconfig file; else $KUBECONFIG / ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** Loads the kubeconfig (throws a clear error for a missing file or an unknown context). */
export async function loadKubeConfig(source: KubeSource): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (source.kubeconfig) kc.loadFromFile(source.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new Error(`cannot read the kubeconfig ${source.kubeconfig ?? '(default)'}: ${(err as Error).message}`, { cause: err });
  }
  if (source.context) {
    if (!kc.getContexts().some((c) => c.name === source.context)) {
      throw new Error(
        `context ${JSON.stringify(source.context)} is not in the kubeconfig (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('the kubeconfig names no current cluster (use --context or --kubeconfig)');
  return kc;
}

/** The kinds a cluster read lists: the judged kinds with a list endpoint of their own (not subresources). */
export const LISTED_KINDS: readonly JudgedKind[] = JUDGED_KINDS.filter((k) => !k.resource.includes('/'));

const VERSION_OF_GROUP: Record<string, string> = {
  '': 'v1',
  apps: 'v1',
  batch: 'v1',
  'rbac.authorization.k8s.io': 'v1',
  'networking.k8s.io': 'v1',
};
const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);

/**
 * Older versions a kind is still served at by clusters that do not serve the preferred one yet:
 * CronJob is batch/v1 from Kubernetes 1.21, batch/v1beta1 before (the same shape for the checks).
 */
const OLDER_VERSIONS: Record<string, readonly string[]> = { CronJob: ['v1beta1'] };

/** Where a kind is listed: its preferred group/version (the first group this build knows a version of), or `version`. */
export function listTarget(kind: JudgedKind, version?: string): { apiVersion: string; group: string; namespaced: boolean } {
  const group = kind.groups.find((g) => g in VERSION_OF_GROUP) ?? kind.groups[0]!;
  const v = version ?? VERSION_OF_GROUP[group] ?? 'v1';
  return { apiVersion: group ? `${group}/${v}` : v, group, namespaced: !CLUSTER_SCOPED.has(kind.kind) };
}

/** The versions to try for a kind, preferred first: a 404 on one means the next (an older cluster). */
export function listVersions(kind: JudgedKind): string[] {
  const preferred = listTarget(kind).apiVersion;
  const slash = preferred.indexOf('/');
  return [slash < 0 ? preferred : preferred.slice(slash + 1), ...(OLDER_VERSIONS[kind.kind] ?? [])];
}

/**
 * The version a cluster serves a kind at: the preferred one, or an older one (a 404 on a list of
 * one item moves to the next). Asked only for kinds with older versions; undefined means the
 * preferred one (also when the cluster cannot be asked: the list that follows reports that).
 */
export async function servedVersion(kc: KubeConfig, kind: JudgedKind, namespace?: string): Promise<string | undefined> {
  const versions = listVersions(kind);
  if (versions.length < 2) return undefined;
  for (const version of versions) {
    try {
      const res = await kubeRequest(kc, 'GET', `${listPath(kind, namespace, version)}?limit=1`);
      if (res.status !== 404) return version;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The list path of a kind, in one namespace or all (`namespace` undefined), at its preferred version or `version`. */
export function listPath(kind: JudgedKind, namespace?: string, version?: string): string {
  const t = listTarget(kind, version);
  const base = t.group ? `/apis/${t.apiVersion}` : '/api/v1';
  return t.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.resource}` : `${base}/${kind.resource}`;
}

/** An API error with the HTTP status (0 for a connection failure). */
export class KubeError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

/** The most a single response may hold (a page of 500 objects is far below it). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** One request to the API server with the kubeconfig's credentials; JSON in and out. */
export async function kubeRequest(kc: KubeConfig, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<{ status: number; body: any }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('no current cluster in the kubeconfig', 0);
  const url = new URL(path, cluster.server);
  const opts: https.RequestOptions = {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    timeout: timeoutMs,
  };
  await kc.applyToHTTPSOptions(opts);
  if (url.protocol !== 'https:') throw new KubeError(`the API server ${cluster.server} is not https (Bulwark speaks TLS only)`, 0);
  const payload = body !== undefined ? JSON.stringify(body) : undefined;
  return new Promise((resolve, reject) => {
    const req = https.request(opts, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(new KubeError(`${method} ${url.pathname}: response larger than ${MAX_RESPONSE_BYTES} bytes`, 0));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = text;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new KubeError(`${method} ${url.pathname}: no answer from ${url.host} within ${timeoutMs / 1000}s`, 0)));
    req.on('error', (err) => reject(err instanceof KubeError ? err : new KubeError(`cannot reach the API server ${url.host}: ${(err as Error).message}`, 0)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The error for a non-2xx answer, with what it means for Bulwark. */
export function kubeErrorOf(method: string, path: string, status: number, body: any): KubeError {
  const message = typeof body?.message === 'string' ? body.message : `HTTP ${status}`;
  let hint = '';
  if (status === 401) hint = ' (the credentials were rejected)';
  else if (status === 403) hint = ' (RBAC forbids it: grant list/watch on this resource)';
  else if (status === 404) hint = ' (the API is not served by this cluster)';
  else if (status === 413 || status === 422) hint = ' (the object is too large or invalid for the API server)';
  return new KubeError(`${method} ${path}: ${status} ${message}${hint}`, status);
}

/** Lists every object of a path, page by page (limit 500, continue). Items get kind and apiVersion set. */
export async function listAll(
  kc: KubeConfig,
  path: string,
  kind: string,
  apiVersion: string,
  maxObjects = 200_000,
): Promise<{ items: any[]; resourceVersion: string }> {
  const items: any[] = [];
  let cont: string | undefined;
  let resourceVersion: string;
  do {
    const q = `?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    const res = await kubeRequest(kc, 'GET', path + q);
    if (res.status !== 200) throw kubeErrorOf('GET', path, res.status, res.body);
    for (const item of Array.isArray(res.body?.items) ? res.body.items : []) {
      if (!item || typeof item !== 'object') continue;
      items.push({ ...item, kind, apiVersion });
      if (items.length > maxObjects) throw new KubeError(`GET ${path}: more than ${maxObjects} objects`, 0);
    }
    resourceVersion = String(res.body?.metadata?.resourceVersion ?? '');
    cont = typeof res.body?.metadata?.continue === 'string' && res.body.metadata.continue ? res.body.metadata.continue : undefined;
  } while (cont);
  return { items, resourceVersion };
}
