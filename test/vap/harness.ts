// A ValidatingAdmissionPolicy evaluator for the tests, on @bufbuild/cel: evaluates a generated policy
// (matchConstraints, matchConditions, variables, validations, messageExpression) on an object the way
// the API server does, with `object`, `oldObject`, `request`, `params` (null) and `namespaceObject`
// bound. The Kubernetes CEL libraries the policies use are the strings extension (split, join,
// lowerAscii, upperAscii, trim, indexOf, lastIndexOf, substring), which @bufbuild/cel/ext provides,
// and `matches` (RE2), which is standard CEL.
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

type Obj = Record<string, any>;
type Program = (ctx: Record<string, unknown>) => unknown;

const env = celEnv({ funcs: strings });
const programs = new Map<string, Program>();

function program(expression: string): Program {
  let p = programs.get(expression);
  if (!p) {
    p = plan(env, parse(expression)) as unknown as Program;
    programs.set(expression, p);
  }
  return p;
}

/**
 * A JSON value as the API server hands a typed object to CEL: integers are CEL ints, objects are
 * maps, and null fields are absent (typed decoding drops them).
 */
export function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value !== null && typeof value === 'object') {
    const out = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out.set(k, toCel(v));
    return out;
  }
  return value;
}

export class CelEvaluationError extends Error {}

function evaluate(expression: string, bindings: Record<string, unknown>, where: string): unknown {
  const result = program(expression)(bindings);
  if (isCelError(result)) throw new CelEvaluationError(`${where}: ${(result as Error).message}`);
  return result;
}

/** The resource of each kind, as matchConstraints names them. */
export const RESOURCES: Record<string, { group: string; resource: string }> = {
  Pod: { group: '', resource: 'pods' },
  PodTemplate: { group: '', resource: 'podtemplates' },
  ReplicationController: { group: '', resource: 'replicationcontrollers' },
  Deployment: { group: 'apps', resource: 'deployments' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
  Role: { group: 'rbac.authorization.k8s.io', resource: 'roles' },
  ClusterRole: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  Service: { group: '', resource: 'services' },
  Ingress: { group: 'networking.k8s.io', resource: 'ingresses' },
};

export interface RequestInfo {
  operation?: string;
  username: string;
  groups: string[];
  namespace: string;
}

/** Whether the policy's matchConstraints select this object's kind. */
export function constraintsMatch(policy: Obj, kind: string, operation = 'CREATE'): boolean {
  const r = RESOURCES[kind];
  if (!r) return false;
  return (policy.spec.matchConstraints.resourceRules as Obj[]).some(
    (rule) => rule.apiGroups.includes(r.group) && rule.resources.includes(r.resource) && rule.operations.includes(operation),
  );
}

export interface PolicyVerdict {
  /** False when matchConstraints or a matchCondition left the object alone. */
  matched: boolean;
  /** Whether every validation held. */
  allowed: boolean;
  /** The messageExpression results of the failed validations. */
  messages: string[];
}

/** Evaluates one ValidatingAdmissionPolicy on `object`. Throws CelEvaluationError where the API server would fail the evaluation. */
export function evaluatePolicy(policy: Obj, object: Obj, req: RequestInfo, oldObject: Obj | null = null): PolicyVerdict {
  if (!constraintsMatch(policy, String(object.kind), req.operation)) return { matched: false, allowed: true, messages: [] };
  const name = policy.metadata.name as string;
  const variables = new Map<string, unknown>();
  const r = RESOURCES[String(object.kind)]!;
  const bindings: Record<string, unknown> = {
    object: toCel(object),
    oldObject: oldObject === null ? null : toCel(oldObject),
    params: null,
    namespaceObject: req.namespace ? toCel({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: req.namespace } }) : null,
    request: toCel({
      operation: req.operation ?? 'CREATE',
      namespace: req.namespace,
      name: object.metadata?.name ?? '',
      kind: { group: r.group, version: 'v1', kind: object.kind },
      resource: { group: r.group, version: 'v1', resource: r.resource },
      userInfo: { username: req.username, groups: req.groups },
    }),
    variables,
  };
  for (const c of (policy.spec.matchConditions ?? []) as Obj[]) {
    const v = evaluate(c.expression, bindings, `${name} matchConditions ${c.name}`);
    if (v !== true) return { matched: false, allowed: true, messages: [] };
  }
  for (const v of (policy.spec.variables ?? []) as Obj[]) {
    variables.set(v.name, evaluate(v.expression, bindings, `${name} variables.${v.name}`));
  }
  const messages: string[] = [];
  (policy.spec.validations as Obj[]).forEach((v, i) => {
    const ok = evaluate(v.expression, bindings, `${name} validations[${i}]`);
    if (typeof ok !== 'boolean') throw new CelEvaluationError(`${name} validations[${i}] returned ${String(ok)}, not a bool`);
    if (ok) return;
    let text: string;
    try {
      text = String(evaluate(v.messageExpression, bindings, `${name} validations[${i}].messageExpression`));
    } catch (err) {
      text = `messageExpression failed (${(err as Error).message}); message: ${v.message}`;
    }
    messages.push(text);
  });
  return { matched: true, allowed: messages.length === 0, messages };
}
