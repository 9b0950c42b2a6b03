// kube-system-workload — flags a pod-bearing object (Pod, Deployment, DaemonSet, CronJob, …) in the
// `kube-system` or `kube-public` namespace submitted by a user whose name does not start with `system:` (a human or
// an outside identity, rather than a control-plane component or a service account). kube-system
// holds the cluster's most privileged service accounts and secrets and is rarely watched, so it
// is a favourite place to hide a backdoor; kube-public is readable by every client, anonymous ones
// included, and holds no workloads of its own. In an offline scan there is no user, so every
// workload in those namespaces is reported.
// The namespaces and the users who may use them are data: lists.systemNamespaces and
// lists.systemWorkloadUsers (globs; default system:*).
import { globToRegExp } from '../../core/glob.js';
import { NO_FINDINGS, describeObject } from '../helpers.js';
import { listOf } from '../lists.js';
import type { Check, PodSubject } from '../types.js';

const userMatchers = new WeakMap<readonly string[], RegExp>();

/** One RegExp of a glob list, built once per list. */
function matcherOf(globs: readonly string[]): RegExp {
  let re = userMatchers.get(globs);
  if (re === undefined) {
    re = globs.length ? new RegExp(globs.map((g) => globToRegExp(g).source).join('|')) : /(?!)/;
    userMatchers.set(globs, re);
  }
  return re;
}

export const kubeSystemWorkload: Check<PodSubject> = {
  id: 'kube-system-workload',
  title: 'Workload created in kube-system',
  severity: 'medium',
  tactics: ['Persistence', 'Defense Evasion'],
  remediation:
    'Run application workloads in their own namespace; keep kube-system for control-plane and cluster add-on components installed by administrators.',
  appliesTo: ['pod'],
  evaluate(subject, ctx) {
    const namespace = subject.ref.namespace;
    if (!listOf(ctx.lists, 'systemNamespaces').includes(namespace)) return NO_FINDINGS;
    const user = ctx.user;
    let who: string;
    if (user) {
      const username = typeof user.username === 'string' ? user.username : '';
      if (username !== '' && matcherOf(listOf(ctx.lists, 'systemWorkloadUsers')).test(username)) return NO_FINDINGS;
      who = username ? `by user ${JSON.stringify(username)}` : 'by an unnamed user';
    } else {
      who = '';
    }
    const what = describeObject(subject.ref);
    return [
      {
        policy: kubeSystemWorkload.id,
        severity: kubeSystemWorkload.severity,
        message: who
          ? `${what} is submitted to namespace ${namespace} ${who}, which is not a system: identity`
          : `${what} runs in namespace ${namespace}, which is reserved for control-plane components`,
        path: 'metadata.namespace',
      },
    ];
  },
};
