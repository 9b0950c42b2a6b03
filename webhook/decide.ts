// The admission decision, pure: an AdmissionRequest and the compiled config in, the
// AdmissionResponse and what the alert needs out. No I/O, no clock, no logging: the server does that.
//
// Which requests are checked: webhook/target.ts. Message clipping: webhook/clip.ts. The alert of a
// decision: webhook/decision-alert.ts.
import type { Action, CompiledConfig } from '../policies/config.js';
import type { CheckError } from '../policies/evaluate.js';
import { evaluateSubject, MAX_FINDINGS_PER_CHECK } from '../policies/evaluate.js';
import type { Finding } from '../policies/types.js';
import { SEVERITY_RANK } from '../core/severity.js';
import type { AdmissionRequest, AdmissionResponse } from './admission.js';
import { DENIAL_LIMITS, limitLines, policyIds, WARNING_LIMITS, type Omitted } from './clip.js';
import { requestExemption } from './exemptions.js';
import { isNamespaceRequest, judgeNamespace } from './tampering.js';
import { kindOf, namespaceOf, userOf } from './review.js';
import { admissionTarget } from './target.js';

/** The namespace label that overrides every policy's action for the namespace's objects. */
export const MODE_LABEL = 'bulwark.io/mode';
/** The auditAnnotations key (the API server stores it as `<webhook name>/policies`). */
export const AUDIT_ANNOTATION = 'policies';

const ACTION_RANK: Record<Action, number> = { enforce: 0, warn: 1, audit: 2 };

export function isAction(value: unknown): value is Action {
  return value === 'enforce' || value === 'warn' || value === 'audit';
}

/** Where a namespace's mode comes from: a namespace informer in a cluster, a plain object in tests. */
export interface NamespaceModes {
  /** The `bulwark.io/mode` label of the namespace, when it is set to a valid action. A cache lookup, never I/O. */
  modeOf(namespace: string): Action | undefined;
}

export interface ActionedFinding extends Finding {
  action: Action;
}

/**
 * What happened to a request:
 * `allowed` (checked, nothing found), `skipped` (not a request Bulwark checks), `exempt`,
 * `denied`, `warned`, `audited`.
 */
export type Outcome = 'allowed' | 'skipped' | 'exempt' | 'denied' | 'warned' | 'audited';

export interface DecisionInput {
  request: AdmissionRequest;
  compiled: CompiledConfig;
  /** The namespaces' `bulwark.io/mode` labels (a cache lookup). */
  namespaceModes?: NamespaceModes | undefined;
  /** A mode forced by the route (`/validate/audit`): overrides the label and the config. */
  routeMode?: Action | undefined;
  /** Bulwark's own namespace: never blocked, findings there are at most audited. */
  serverNamespace?: string;
}

export interface Decision {
  outcome: Outcome;
  /** The response to send; undefined means the plain `allowed: true`. */
  response: AdmissionResponse | undefined;
  /** Why the request was skipped or exempt. */
  reason?: string;
  /** Findings with their actions, strongest action first, then severity. */
  findings: ActionedFinding[];
  /** Checks that threw; answered according to config `onError`. */
  errors: CheckError[];
  /** Findings beyond MAX_FINDINGS_PER_CHECK per policy, left out and counted (absent: none). */
  omitted?: OmittedFindings[];
  namespace: string;
  kind: string;
}

export interface OmittedFindings {
  policy: string;
  action: Action;
  count: number;
}

const ALLOWED_NOTHING: Omit<Decision, 'outcome' | 'reason' | 'namespace' | 'kind'> = Object.freeze({
  response: undefined,
  findings: [],
  errors: [],
}) as Omit<Decision, 'outcome' | 'reason' | 'namespace' | 'kind'>;

/**
 * What a request is answered when deciding it failed outside the checks (a bug): denied when config
 * `onError` is deny (never in Bulwark's own namespace), else allowed. Pure.
 */
export function failureDecision(request: AdmissionRequest, compiled: CompiledConfig, serverNamespace: string | undefined): Decision {
  const namespace = namespaceOf(request);
  const deny = compiled.config.onError === 'deny' && namespace !== serverNamespace;
  const response: AdmissionResponse | undefined = deny
    ? {
        uid: request.uid,
        allowed: false,
        status: {
          status: 'Failure',
          code: 403,
          reason: 'Forbidden',
          message: '[bulwark] the request could not be evaluated (internal error); it is denied because onError is deny',
        },
      }
    : undefined;
  return { outcome: deny ? 'denied' : 'allowed', response, findings: [], errors: [], namespace, kind: kindOf(request) };
}

/** The admission decision for one request. Pure. */
export function decide(input: DecisionInput): Decision {
  const { request, compiled } = input;
  const namespace = namespaceOf(request);
  const kind = kindOf(request);
  // A Namespace is judged for one thing: someone weakening Bulwark for it (webhook/tampering.ts).
  if (isNamespaceRequest(request)) return decideNamespace(input, namespace, kind);
  const target = admissionTarget(request);
  if (!target.evaluate) return { ...ALLOWED_NOTHING, outcome: 'skipped', reason: target.reason, namespace, kind };
  const exempt = requestExemption(request, compiled);
  if (exempt) return { ...ALLOWED_NOTHING, outcome: 'exempt', reason: exempt, namespace, kind };

  const user = userOf(request);
  const evaluation = evaluateSubject(target.subject, compiled, { user, operation: request.operation }, { maxFindingsPerCheck: MAX_FINDINGS_PER_CHECK });
  const protectedNamespace = !!input.serverNamespace && namespace === input.serverNamespace;
  const override = input.routeMode ?? (namespace ? input.namespaceModes?.modeOf(namespace) : undefined);
  const actionOf = (configured: Action): Action => (protectedNamespace ? 'audit' : (override ?? configured));

  const actionOfPolicy = (policy: string): Action => actionOf(compiled.actionOf.get(policy) ?? compiled.config.defaultAction);

  const findings: ActionedFinding[] = [];
  for (const f of evaluation.findings) findings.push({ ...f, action: actionOfPolicy(f.policy) });
  if (evaluation.errors.length > 0 && compiled.config.onError === 'deny') {
    // A check that threw counts as a finding of its policy that the request could not pass.
    for (const e of evaluation.errors) {
      findings.push({
        policy: e.policy,
        severity: compiled.checks.find((c) => c.id === e.policy)?.severity ?? 'high',
        message: 'the check failed on this object (internal error); it is denied because onError is deny',
        path: '',
        action: actionOf('enforce'),
      });
    }
  }
  if (findings.length === 0) {
    return { outcome: 'allowed', response: undefined, findings, errors: evaluation.errors, namespace, kind };
  }
  findings.sort(byActionThenSeverity);
  const omitted = evaluation.omitted && [...evaluation.omitted].map(([policy, count]) => ({ policy, count, action: actionOfPolicy(policy) }));
  return respond(request.uid, findings, evaluation.errors, !!request.dryRun, namespace, kind, omitted);
}

/** The omitted findings whose action passes `shown`, as the summary line counts them. */
function omittedOf(omitted: OmittedFindings[] | undefined, shown: (a: Action) => boolean): Omitted | undefined {
  if (!omitted) return undefined;
  const of = omitted.filter((o) => shown(o.action));
  return { count: of.reduce((n, o) => n + o.count, 0), ids: of.map((o) => o.policy) };
}

function decideNamespace(input: DecisionInput, namespace: string, kind: string): Decision {
  const { request, compiled } = input;
  const judged = judgeNamespace(request, compiled, input.serverNamespace);
  if (!judged.judged) return { ...ALLOWED_NOTHING, outcome: 'skipped', reason: judged.reason, namespace, kind };
  const exempt = requestExemption(request, compiled);
  if (exempt) return { ...ALLOWED_NOTHING, outcome: 'exempt', reason: exempt, namespace, kind };
  if (!judged.finding || judged.action === 'off') return { ...ALLOWED_NOTHING, outcome: 'allowed', namespace, kind };
  const findings: ActionedFinding[] = [{ ...judged.finding, action: input.routeMode ?? judged.action }];
  return respond(request.uid, findings, [], !!request.dryRun, namespace, kind);
}

function byActionThenSeverity(a: ActionedFinding, b: ActionedFinding): number {
  return ACTION_RANK[a.action] - ACTION_RANK[b.action] || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];
}

function respond(
  uid: string,
  findings: ActionedFinding[],
  errors: CheckError[],
  dryRun: boolean,
  namespace: string,
  kind: string,
  omitted?: OmittedFindings[],
): Decision {
  const strongest = findings[0]!.action;
  const auditAnnotations = { [AUDIT_ANNOTATION]: policyIds(findings).join(',') };
  const rest = { findings, errors, namespace, kind, ...(omitted ? { omitted } : {}) };
  if (strongest === 'enforce') {
    const shown = findings.filter((f) => f.action !== 'audit');
    return {
      outcome: 'denied',
      response: {
        uid,
        allowed: false,
        status: {
          status: 'Failure',
          code: 403,
          reason: 'Forbidden',
          message: limitLines(
            shown,
            DENIAL_LIMITS,
            dryRun,
            omittedOf(omitted, (a) => a !== 'audit'),
          ).join('\n'),
        },
        auditAnnotations,
      },
      ...rest,
    };
  }
  if (strongest === 'warn') {
    const shown = findings.filter((f) => f.action === 'warn');
    return {
      outcome: 'warned',
      response: {
        uid,
        allowed: true,
        warnings: limitLines(
          shown,
          WARNING_LIMITS,
          dryRun,
          omittedOf(omitted, (a) => a === 'warn'),
        ),
        auditAnnotations,
      },
      ...rest,
    };
  }
  return { outcome: 'audited', response: { uid, allowed: true, auditAnnotations }, ...rest };
}
