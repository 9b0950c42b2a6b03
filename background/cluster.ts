// One read of a cluster's posture (`bulwark scan --cluster`): list the namespaces (their
// `bulwark.io/mode` labels) and every judged kind, then judge them as admission would.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Action } from '../policies/config.js';
import type { K8sObject } from '../policies/types.js';
import { MODE_LABEL, isAction } from '../webhook/decide.js';
import { staticNamespaceModes } from '../webhook/namespaces.js';
import { judgeAll, type JudgeOptions, type JudgedObject } from './judge.js';
import { KubeError, LISTED_KINDS, kubeErrorOf, kubeRequest, listAll, listPath, listTarget, servedVersion } from './kube.js';

export interface ClusterReadOptions {
  /** One namespace, or all (undefined). */
  namespace?: string | undefined;
  /** Called for a kind that cannot be listed (403, 404): the read goes on without it. */
  onKindError?: (kind: string, error: KubeError) => void;
}

export interface ClusterRead {
  objects: K8sObject[];
  modes: Map<string, Action>;
  /** Kinds that could not be listed. */
  failedKinds: string[];
}

/** Lists the namespaces' modes and every judged kind. A connection failure or 401 throws; 403/404 on one kind is reported and skipped. */
export async function readCluster(kc: KubeConfig, opts: ClusterReadOptions = {}): Promise<ClusterRead> {
  const modes = new Map<string, Action>();
  const failedKinds: string[] = [];
  const nsPath = opts.namespace ? `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}` : '/api/v1/namespaces';
  try {
    const namespaces = opts.namespace ? { items: [await getOne(kc, nsPath)] } : await listAll(kc, nsPath, 'Namespace', 'v1');
    for (const ns of namespaces.items) {
      const value = ns?.metadata?.labels?.[MODE_LABEL];
      if (typeof ns?.metadata?.name === 'string' && isAction(value)) modes.set(ns.metadata.name, value);
    }
  } catch (err) {
    if (!(err instanceof KubeError) || err.status === 0 || err.status === 401) throw err;
    // Without namespace labels the config decides, as admission does without its informer.
    opts.onKindError?.('Namespace', err);
    failedKinds.push('Namespace');
  }
  const objects: K8sObject[] = [];
  for (const kind of LISTED_KINDS) {
    const target = listTarget(kind);
    if (opts.namespace && !target.namespaced) continue;
    try {
      const version = await servedVersion(kc, kind, opts.namespace);
      const { items } = await listAll(kc, listPath(kind, opts.namespace, version), kind.kind, listTarget(kind, version).apiVersion);
      objects.push(...items);
    } catch (err) {
      if (!(err instanceof KubeError) || err.status === 0 || err.status === 401) throw err;
      opts.onKindError?.(kind.kind, err);
      failedKinds.push(kind.kind);
    }
  }
  return { objects, modes, failedKinds };
}

async function getOne(kc: KubeConfig, path: string): Promise<any> {
  const res = await kubeRequest(kc, 'GET', path);
  if (res.status !== 200) throw kubeErrorOf('GET', path, res.status, res.body);
  return res.body;
}

/** Reads and judges a cluster. */
export async function judgeCluster(
  kc: KubeConfig,
  opts: ClusterReadOptions & Omit<JudgeOptions, 'namespaceModes'>,
): Promise<{ judged: JudgedObject[]; read: ClusterRead }> {
  const read = await readCluster(kc, opts);
  const judged = judgeAll(read.objects, { ...opts, namespaceModes: staticNamespaceModes(read.modes) });
  return { judged, read };
}
