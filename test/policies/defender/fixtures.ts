// Manifests and runners shared by the defender tests: subjects are always built through
// toSubject from realistic objects, as the webhook, the audit analyser and `bulwark scan` build them.
import { compileConfig } from '../../../policies/config.js';
import { defaultConfig, type BulwarkConfig } from '../../../config/load.js';
import { evaluateSubject } from '../../../policies/evaluate.js';
import { DEFAULT_LISTS } from '../../../policies/lists.js';
import { toSubject } from '../../../policies/subject.js';
import type { AnyCheck, EvalContext, Finding, K8sObject, PolicyLists, Subject } from '../../../policies/types.js';

export function lists(overrides: Partial<PolicyLists> = {}): PolicyLists {
  return {
    sensitiveHostPaths: [...DEFAULT_LISTS.sensitiveHostPaths],
    minerNames: [...DEFAULT_LISTS.minerNames],
    minerPoolSchemes: [...DEFAULT_LISTS.minerPoolSchemes],
    dashboardNames: [...DEFAULT_LISTS.dashboardNames],
    dashboardPodLabels: [...(DEFAULT_LISTS.dashboardPodLabels ?? [])],
    allowedCapabilities: [...DEFAULT_LISTS.allowedCapabilities],
    ...overrides,
  };
}

const DEFAULT_CTX: EvalContext = { lists: lists() };

export function subjectOf(obj: unknown): Subject {
  const subject = toSubject(obj as K8sObject);
  if (!subject) throw new Error(`no subject for ${JSON.stringify(obj)}`);
  return subject;
}

/** Runs one check directly on the subject of `obj` (when the check applies to it). */
export function runCheck(check: AnyCheck, obj: unknown, ctx: Partial<EvalContext> = {}): Finding[] {
  const subject = subjectOf(obj);
  if (!check.appliesTo.includes(subject.type)) return [];
  return check.evaluate(subject, { ...DEFAULT_CTX, ...ctx });
}

/** Paths of the findings of one check, for compact tables. */
export function pathsOf(check: AnyCheck, obj: unknown, ctx: Partial<EvalContext> = {}): string[] {
  return runCheck(check, obj, ctx).map((f) => f.path);
}

/** Evaluates through the real configuration path (compileConfig + evaluateSubject) and keeps one policy's findings. */
export function evaluateWithConfig(policy: string, obj: unknown, ctx: Omit<EvalContext, 'lists'> = {}, edit: (c: BulwarkConfig) => void = () => {}): Finding[] {
  const config = defaultConfig();
  edit(config);
  const { findings, errors } = evaluateSubject(subjectOf(obj), compileConfig(config), ctx);
  if (errors.length) throw errors[0]!.error;
  return findings.filter((f) => f.policy === policy);
}

export function pod(spec: Record<string, unknown>, name = 'web', namespace = 'default'): K8sObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec };
}

export function deployment(podSpec: Record<string, unknown>, name = 'web', namespace = 'default'): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: podSpec },
    },
  };
}

export function cronJob(podSpec: Record<string, unknown>, name = 'nightly', namespace = 'default'): K8sObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', ...podSpec } } } },
    },
  };
}

export function container(name: string, extra: Record<string, unknown> = {}, image = 'nginx:1.27'): Record<string, unknown> {
  return { name, image, ...extra };
}

/** Every garbage shape a field may take in an untrusted object. */
export const GARBAGE: readonly unknown[] = [null, undefined, 0, 42, '', 'yes', true, [], [null], {}, { a: 1 }, [[1]]];

export function role(rules: unknown, kind: 'Role' | 'ClusterRole' = 'ClusterRole', extra: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: kind === 'Role' ? { name: 'r', namespace: 'team' } : { name: 'r' },
    rules,
    ...extra,
  };
}

export function binding(roleRef: unknown, subjects: unknown, kind: 'RoleBinding' | 'ClusterRoleBinding' = 'ClusterRoleBinding'): K8sObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: kind === 'RoleBinding' ? { name: 'b', namespace: 'team' } : { name: 'b' },
    roleRef,
    subjects,
  };
}
