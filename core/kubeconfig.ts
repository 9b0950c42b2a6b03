// Where a kubeconfig would come from, as @kubernetes/client-node's loadFromDefault looks for one:
// KUBECONFIG (files that exist), ~/.kube/config, the in-cluster service account. Only file tests:
// the client library itself is loaded by the commands that talk to a cluster.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export type KubeconfigSource = { kind: 'KUBECONFIG'; files: string[] } | { kind: 'home'; file: string } | { kind: 'in-cluster' };

/** The first source that exists, or undefined when there is none. */
export function kubeconfigSource(env: NodeJS.ProcessEnv = process.env): KubeconfigSource | undefined {
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f !== '' && existsSync(f));
    if (files.length > 0) return { kind: 'KUBECONFIG', files };
  }
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return { kind: 'home', file: home };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) return { kind: 'in-cluster' };
  return undefined;
}
