// Per-namespace modes: the `bulwark.io/mode` label, read through a namespace informer. The
// informer's cache is the lookup; the request path never calls the API server. Without a
// cluster, config alone decides.
import fs from 'node:fs';
import type { KubeConfig, V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../core/log.js';
import type { Action } from '../policies/config.js';
import { MODE_LABEL, isAction, type NamespaceModes } from './decide.js';

export const NO_NAMESPACE_MODES: NamespaceModes = Object.freeze({ modeOf: () => undefined });

/** Fixed modes (tests, or a cluster-less run that wants some). */
export function staticNamespaceModes(
  modes: Record<string, Action> | Map<string, Action>,
): NamespaceModes & { set(ns: string, mode: Action | undefined): void } {
  const map = modes instanceof Map ? modes : new Map(Object.entries(modes));
  return {
    modeOf: (ns) => map.get(ns),
    set(ns, mode) {
      if (mode) map.set(ns, mode);
      else map.delete(ns);
    },
  };
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type ClusterSource = { kind: 'kubeconfig'; file: string } | { kind: 'env' } | { kind: 'in-cluster' };

/** Where cluster credentials come from: --kubeconfig, then $KUBECONFIG, then the in-cluster service account; else none. */
export function detectCluster(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): ClusterSource | undefined {
  if (kubeconfig) return { kind: 'kubeconfig', file: kubeconfig };
  if (env.KUBECONFIG) return { kind: 'env' };
  if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(SERVICE_ACCOUNT_TOKEN)) return { kind: 'in-cluster' };
  return undefined;
}

export interface InformerNamespaceModes extends NamespaceModes {
  /** True once the first list has filled the cache. */
  readonly synced: boolean;
  /** The uid of namespace kube-system once seen: the cluster's identity when `cluster.name` is not set. */
  readonly kubeSystemUid: string | undefined;
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 5000;

/**
 * Starts a namespace informer and keeps `namespace → mode` for labelled namespaces. Resolves once
 * the informer is started (not necessarily synced: an unreachable API server is retried in the
 * background, and until then config alone decides).
 */
export async function startNamespaceInformer(source: ClusterSource, logger: Logger): Promise<InformerNamespaceModes> {
  const k8s = await import('@kubernetes/client-node');
  const kc: KubeConfig = new k8s.KubeConfig();
  if (source.kind === 'kubeconfig') kc.loadFromFile(source.file);
  else if (source.kind === 'env') kc.loadFromDefault();
  else kc.loadFromCluster();
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer<V1Namespace>(kc, '/api/v1/namespaces', () => api.listNamespace());
  const modes = new Map<string, Action>();
  let synced = false;
  let kubeSystemUid: string | undefined;
  let stopped = false;
  let restart: NodeJS.Timeout | undefined;

  const upsert = (ns: V1Namespace) => {
    synced = true;
    const name = ns.metadata?.name;
    if (!name) return;
    if (name === 'kube-system' && typeof ns.metadata?.uid === 'string' && /^[0-9a-f-]{8,64}$/i.test(ns.metadata.uid)) kubeSystemUid = ns.metadata.uid;
    const value = ns.metadata?.labels?.[MODE_LABEL];
    if (isAction(value)) {
      if (modes.get(name) !== value) logger.info({ namespace: name, mode: value }, `namespace ${name}: ${MODE_LABEL}=${value}`);
      modes.set(name, value);
    } else {
      if (value !== undefined)
        logger.warn({ namespace: name, value }, `namespace ${name}: ignoring ${MODE_LABEL}=${JSON.stringify(value)} (expected enforce, warn or audit)`);
      modes.delete(name);
    }
  };
  const remove = (ns: V1Namespace) => {
    const name = ns.metadata?.name;
    if (name) modes.delete(name);
  };
  const start = () => {
    if (stopped) return;
    informer.start().then(
      () => {
        synced = true;
        logger.info({ namespacesWithMode: modes.size }, 'namespace informer synced');
      },
      (err: unknown) => scheduleRestart(err),
    );
  };
  const scheduleRestart = (err: unknown) => {
    if (stopped || restart) return;
    logger.warn(
      { err: err instanceof Error ? err.message : String(err) },
      `namespace informer error; retrying in ${RESTART_DELAY_MS / 1000}s (meanwhile the last known labels and config decide)`,
    );
    restart = setTimeout(() => {
      restart = undefined;
      start();
    }, RESTART_DELAY_MS);
    restart.unref();
  };
  informer.on('add', upsert);
  informer.on('update', upsert);
  informer.on('delete', remove);
  informer.on('error', scheduleRestart);
  start();
  return {
    modeOf: (ns) => modes.get(ns),
    get synced() {
      return synced;
    },
    get kubeSystemUid() {
      return kubeSystemUid;
    },
    async stop() {
      stopped = true;
      if (restart) clearTimeout(restart);
      await informer.stop().catch(() => undefined);
    },
  };
}
