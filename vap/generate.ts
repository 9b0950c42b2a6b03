// Compiles Bulwark's active checks into ValidatingAdmissionPolicy + ValidatingAdmissionPolicyBinding
// objects (admissionregistration.k8s.io/v1, or v1beta1 for Kubernetes 1.28–1.29): a backstop the API
// server evaluates itself, so enforcement survives while the webhook is down.
//
// One policy per check, `bulwark-<policy-id>`. Exemptions (namespaces, usernames, groups) are
// matchConditions; image exemptions are folded into each container predicate. One binding carries
// the configured action (for namespaces without a valid `bulwark.io/mode` label and for cluster-scoped
// objects); one binding per mode (enforce, warn, audit) carries that mode for namespaced objects in
// namespaces labelled with it, as the webhook's namespace override does.
import { globToRegExp } from '../core/glob.js';
import type { Action, CompiledConfig } from '../policies/config.js';
import type { AnyCheck } from '../policies/types.js';
import { PSS_LATEST_VERSION } from '../policies/pss/index.js';
import { lit } from './cel.js';
import { COMPILERS } from './checks/index.js';
import { estimateCost, PER_CALL_LIMIT, RUNTIME_COST_BUDGET } from './cost.js';
import type { CelCompilation, CelVariable, CompileContext, VapTarget } from './types.js';

type Obj = Record<string, any>;

export const VAP_API_VERSIONS = ['v1', 'v1beta1'] as const;
export type VapApiVersion = (typeof VAP_API_VERSIONS)[number];
export const MODE_LABEL = 'bulwark.io/mode';
export const MODES: readonly Action[] = ['enforce', 'warn', 'audit'];
/** The PSS version whose rules are compiled (the newest the engine knows). */
export const VAP_PSS_VERSION = PSS_LATEST_VERSION;

export const VALIDATION_ACTIONS: Record<Action, string[]> = { enforce: ['Deny'], warn: ['Warn'], audit: ['Audit'] };

const OPERATIONS = ['CREATE', 'UPDATE'];

/** The resources each target judges, as rules of matchConstraints (the kinds of policies/subject.ts). */
const TARGET_RULES: Record<VapTarget, { apiGroups: string[]; apiVersions: string[]; resources: string[] }[]> = {
  pod: [
    { apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/ephemeralcontainers', 'podtemplates', 'replicationcontrollers'] },
    { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'] },
    { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs', 'cronjobs'] },
  ],
  role: [{ apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['v1'], resources: ['roles', 'clusterroles'] }],
  binding: [{ apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['v1'], resources: ['rolebindings', 'clusterrolebindings'] }],
  exposure: [
    { apiGroups: [''], apiVersions: ['v1'], resources: ['services'] },
    { apiGroups: ['networking.k8s.io'], apiVersions: ['v1'], resources: ['ingresses'] },
  ],
};

/** Where the pod template sits in each pod-bearing kind, as a CEL expression over `base` (object or oldObject). */
function podPart(base: string, part: 'spec' | 'metadata'): string {
  const at = (path: string): string => {
    const parts = path.split('.');
    const guards = parts.map((_, i) => `has(${base}.${parts.slice(0, i + 1).join('.')})`).join(' && ');
    return `(${guards} ? ${base}.${path} : {})`;
  };
  return (
    `(${base}.kind == 'Pod' ? ${at(part)} : ${base}.kind == 'PodTemplate' ? ${at(`template.${part}`)} : ` +
    `${base}.kind == 'CronJob' ? ${at(`spec.jobTemplate.spec.template.${part}`)} : ${at(`spec.template.${part}`)})`
  );
}

const orEmpty = (base: string, field: string): string => `(has(${base}.${field}) ? ${base}.${field} : [])`;

/** The variables every pod check shares: the pod spec whatever the kind, its containers, volumes, annotations. */
export const POD_VARIABLES: readonly CelVariable[] = [
  { name: 'podSpec', expression: podPart('object', 'spec') },
  { name: 'podMetadata', expression: podPart('object', 'metadata') },
  { name: 'annotations', expression: `(has(variables.podMetadata.annotations) ? variables.podMetadata.annotations : {})` },
  { name: 'containers', expression: orEmpty('variables.podSpec', 'containers') },
  { name: 'initContainers', expression: orEmpty('variables.podSpec', 'initContainers') },
  { name: 'ephemeralContainers', expression: orEmpty('variables.podSpec', 'ephemeralContainers') },
  { name: 'allContainers', expression: 'variables.containers + variables.initContainers + variables.ephemeralContainers' },
  { name: 'volumes', expression: orEmpty('variables.podSpec', 'volumes') },
];

const changed = (a: string, b: string): string => `(has(${a}) != has(${b}) || (has(${a}) && ${a} != ${b}))`;

/** An UPDATE is judged only when it changes what the checks read (the webhook's significant-update rule, simplified). */
const UPDATE_CHANGED: Record<VapTarget, string> = {
  // A workload's own metadata changes on every rollout (the controllers' revision annotations): only a
  // Pod's annotations are pod metadata the checks read; a workload's are inside its spec.
  pod:
    `object.kind == 'PodTemplate' ? ${changed('object.template', 'oldObject.template')} : ` +
    `${changed('object.spec', 'oldObject.spec')} || (object.kind == 'Pod' && ${changed('object.metadata.annotations', 'oldObject.metadata.annotations')})`,
  role: changed('object.rules', 'oldObject.rules'),
  binding: `${changed('object.subjects', 'oldObject.subjects')} || object.roleRef != oldObject.roleRef`,
  exposure: `${changed('object.spec', 'oldObject.spec')} || ${changed('object.metadata.name', 'oldObject.metadata.name')}`,
};

export interface CompiledPolicy {
  id: string;
  action: Action;
  compilation: CelCompilation;
  /** Estimated cost per expression (name → cost) and their sum for one evaluation of the policy. */
  costs: { name: string; cost: number }[];
  totalCost: number;
}

export interface VapResult {
  apiVersion: VapApiVersion;
  objects: Obj[];
  compiled: CompiledPolicy[];
  notCompiled: { id: string; reason: string }[];
  /** How many active checks there were. */
  total: number;
}

/**
 * The control plane reconciling RBAC, which the webhook never judges (webhook/exemptions.ts): the
 * clusterrole-aggregation-controller writing a ClusterRole with an aggregationRule, and system:apiserver
 * writing the bootstrap roles and bindings (labelled kubernetes.io/bootstrapping: rbac-defaults).
 */
const CONTROL_PLANE_RECONCILIATION =
  `!((request.userInfo.username == 'system:serviceaccount:kube-system:clusterrole-aggregation-controller' && object.kind == 'ClusterRole' && has(object.aggregationRule)) || ` +
  `(request.userInfo.username == 'system:apiserver' && has(object.metadata.labels) && 'kubernetes.io/bootstrapping' in object.metadata.labels && object.metadata.labels['kubernetes.io/bootstrapping'] == 'rbac-defaults'))`;

/** The matchConditions every configuration gets (the chart stores these with each policy). */
export function fixedMatchConditions(target: VapTarget): { name: string; expression: string }[] {
  const out = [
    { name: 'bulwark-judged-change', expression: `request.operation != 'UPDATE' || (!has(object.metadata.deletionTimestamp) && (${UPDATE_CHANGED[target]}))` },
  ];
  if (target === 'role' || target === 'binding') out.push({ name: 'bulwark-control-plane-reconciliation', expression: CONTROL_PLANE_RECONCILIATION });
  return out;
}

function matchConditions(compiled: CompiledConfig, target: VapTarget): { name: string; expression: string }[] {
  const out = fixedMatchConditions(target);
  const { namespaces, usernames, groups } = compiled.config.exemptions;
  // JSON string lists are CEL string lists too (the chart writes them with toJson: the same text).
  if (namespaces.length) out.push({ name: 'bulwark-exempt-namespaces', expression: `!(request.namespace in ${JSON.stringify(namespaces)})` });
  if (usernames.length) out.push({ name: 'bulwark-exempt-usernames', expression: `!(request.userInfo.username in ${JSON.stringify(usernames)})` });
  if (groups.length) {
    out.push({
      name: 'bulwark-exempt-groups',
      expression: `!(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${JSON.stringify(groups)}))`,
    });
  }
  return out;
}

function compileContext(compiled: CompiledConfig): CompileContext {
  const images = compiled.config.exemptions.images;
  if (images.length === 0) return { lists: compiled.config.lists };
  const pattern = images.map((g) => globToRegExp(g).source.replace(/\\\//g, '/')).join('|');
  return { lists: compiled.config.lists, imageExempt: (c) => `has(${c}.image) && ${c}.image != '' && ${c}.image.matches(${lit(pattern)})` };
}

/** Checks that stay webhook-only by design, and why (shown by `bulwark vap --explain`). */
const WEBHOOK_ONLY: ReadonlyMap<string, string> = new Map([
  [
    'exposed-service',
    "it judges the pods behind a Service's selector (their images, POSTGRES_HOST_AUTH_METHOD) and the Service behind an Ingress backend; a ValidatingAdmissionPolicy sees only the object under review, and a port-only rule would deny what the webhook allows",
  ],
]);

/** Why a check has no CEL compilation here, or undefined when it has one. */
function inexpressible(check: AnyCheck): string | undefined {
  const compiler = COMPILERS.get(check.id);
  if (!compiler) return WEBHOOK_ONLY.get(check.id) ?? 'no CEL compilation exists for this check';
  const entry = (check as { minimumVersion?: string; policyVersion?: string }).minimumVersion;
  if (compiler.versions && entry !== undefined && !compiler.versions.includes(entry)) {
    const at = (check as { policyVersion?: string }).policyVersion;
    return `the profile is pinned to ${at}, where this check uses its ${entry} rules; only the rules of ${VAP_PSS_VERSION} are compiled to CEL`;
  }
  return undefined;
}

function policyName(id: string): string {
  return `bulwark-${id}`;
}

const LABELS = { 'app.kubernetes.io/name': 'bulwark', 'app.kubernetes.io/part-of': 'bulwark' };

/** Builds every policy and binding for the compiled configuration. */
export function generateVap(compiled: CompiledConfig, apiVersion: VapApiVersion = 'v1'): VapResult {
  const ctx = compileContext(compiled);
  const group = `admissionregistration.k8s.io/${apiVersion}`;
  const objects: Obj[] = [];
  const done: CompiledPolicy[] = [];
  const notCompiled: { id: string; reason: string }[] = [];
  for (const check of compiled.checks) {
    const reason = inexpressible(check);
    if (reason) {
      notCompiled.push({ id: check.id, reason });
      continue;
    }
    const compilation = COMPILERS.get(check.id)!.compile(ctx);
    if (compilation.validations.length === 0) {
      notCompiled.push({ id: check.id, reason: 'its data list is empty: the check can find nothing' });
      continue;
    }
    const action = compiled.actionOf.get(check.id) ?? compiled.config.defaultAction;
    const variables = [...(compilation.target === 'pod' ? POD_VARIABLES : []), ...(compilation.variables ?? [])];
    const conditions = matchConditions(compiled, compilation.target);
    const costs = [
      ...conditions.map((c) => ({ name: `matchConditions.${c.name}`, cost: estimateCost(c.expression) })),
      ...variables.map((v) => ({ name: `variables.${v.name}`, cost: estimateCost(v.expression) })),
      ...compilation.validations.flatMap((v, i) => [
        { name: `validations[${i}].expression`, cost: estimateCost(v.expression) },
        { name: `validations[${i}].messageExpression`, cost: estimateCost(v.messageExpression) },
      ]),
    ];
    const totalCost = costs.reduce((s, c) => s + c.cost, 0);
    const over = costs.find((c) => c.cost > PER_CALL_LIMIT);
    if (over || totalCost > RUNTIME_COST_BUDGET) {
      notCompiled.push({
        id: check.id,
        reason: `its estimated CEL cost (${over ? `${over.name} ${over.cost}` : `total ${totalCost}`}) exceeds the API server's limits`,
      });
      continue;
    }
    done.push({ id: check.id, action, compilation, costs, totalCost });
    const name = policyName(check.id);
    const rules = TARGET_RULES[compilation.target].map((r) => ({ ...r, operations: OPERATIONS }));
    objects.push({
      apiVersion: group,
      kind: 'ValidatingAdmissionPolicy',
      metadata: {
        name,
        labels: { ...LABELS, 'bulwark.io/policy': check.id },
        annotations: {
          'bulwark.io/title': check.title,
          'bulwark.io/severity': check.severity,
          'bulwark.io/estimated-cost': String(totalCost),
          ...(check.id.startsWith('pss-') ? { 'bulwark.io/pss-version': VAP_PSS_VERSION } : {}),
        },
      },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: rules },
        matchConditions: conditions,
        ...(variables.length ? { variables: variables.map((v) => ({ name: v.name, expression: v.expression })) } : {}),
        validations: compilation.validations.map((v) => ({
          expression: v.expression,
          messageExpression: v.messageExpression,
          message: `[${check.id}] ${check.title}`,
          reason: 'Forbidden',
        })),
      },
    });
    objects.push({
      apiVersion: group,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels: { ...LABELS, 'bulwark.io/policy': check.id } },
      spec: {
        policyName: name,
        validationActions: VALIDATION_ACTIONS[action],
        matchResources: { namespaceSelector: { matchExpressions: [{ key: MODE_LABEL, operator: 'NotIn', values: [...MODES] }] } },
      },
    });
    for (const mode of MODES) {
      objects.push({
        apiVersion: group,
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: `${name}-mode-${mode}`, labels: { ...LABELS, 'bulwark.io/policy': check.id, [MODE_LABEL]: mode } },
        spec: {
          policyName: name,
          validationActions: VALIDATION_ACTIONS[mode],
          matchResources: {
            namespaceSelector: { matchLabels: { [MODE_LABEL]: mode } },
            // Cluster-scoped objects ignore namespaceSelector: the configured binding alone judges them.
            resourceRules: rules.map((r) => ({ ...r, scope: 'Namespaced' })),
          },
        },
      });
    }
  }
  return { apiVersion, objects, compiled: done, notCompiled, total: compiled.checks.length };
}
