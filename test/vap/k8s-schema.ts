// The Kubernetes OpenAPI schema of admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and
// ValidatingAdmissionPolicyBinding (test/fixtures/kubernetes, a minimal part of upstream's), compiled with
// ajv strictly (unknown fields rejected, as `kubectl --validate=strict` does), and the API server's
// further validation rules that the schema does not carry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';

type Obj = Record<string, any>;

const openapi = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'kubernetes', 'admissionregistration-v1-vap.schema.json'), 'utf8'));

/** Every object schema closed to unknown properties (strict field validation). */
function strict(schema: Obj): Obj {
  if (Array.isArray(schema)) return schema.map(strict);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema))
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, strict(s as Obj)])) : strict(v as Obj);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema({ $id: 'k8s', ...strict(openapi) });
export const validatePolicy = ajv.getSchema('k8s#/components/schemas/io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy')!;
export const validateBinding = ajv.getSchema('k8s#/components/schemas/io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding')!;

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CEL_IDENTIFIER = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** The API server's validation of the fields the schema leaves open (pkg/apis/admissionregistration/validation). */
export function apiServerProblems(o: Obj): string[] {
  const problems: string[] = [];
  const name = o.metadata?.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) problems.push(`metadata.name ${name}`);
  for (const [k, v] of Object.entries((o.metadata?.labels ?? {}) as Obj)) {
    if (typeof v !== 'string' || v.length > 63 || (v !== '' && !QUALIFIED_NAME.test(v))) problems.push(`label ${k}=${v}`);
  }
  const rules = (r: Obj): void => {
    for (const op of r.operations ?? []) if (!['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*'].includes(op)) problems.push(`operation ${op}`);
    if (r.scope !== undefined && !['Cluster', 'Namespaced', '*'].includes(r.scope)) problems.push(`scope ${r.scope}`);
    if (!r.apiGroups?.length || !r.apiVersions?.length || !r.resources?.length) problems.push('rule without groups, versions or resources');
  };
  if (o.kind === 'ValidatingAdmissionPolicy') {
    const spec = o.spec;
    if (!['Fail', 'Ignore'].includes(spec.failurePolicy)) problems.push(`failurePolicy ${spec.failurePolicy}`);
    if (!spec.matchConstraints?.resourceRules?.length) problems.push('matchConstraints.resourceRules is required');
    spec.matchConstraints.resourceRules.forEach(rules);
    if ((spec.matchConditions ?? []).length > 64) problems.push('more than 64 matchConditions');
    for (const c of spec.matchConditions ?? []) if (!QUALIFIED_NAME.test(c.name) || c.name.length > 63) problems.push(`matchCondition name ${c.name}`);
    const names = new Set<string>();
    for (const v of spec.variables ?? []) {
      if (!CEL_IDENTIFIER.test(v.name) || names.has(v.name)) problems.push(`variable name ${v.name}`);
      names.add(v.name);
    }
    if (!spec.validations?.length) problems.push('no validations');
    for (const v of spec.validations ?? []) {
      if (!['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge', undefined].includes(v.reason)) problems.push(`reason ${v.reason}`);
      if (typeof v.message === 'string' && /\n/.test(v.message)) problems.push('message with a line break');
    }
  } else {
    const spec = o.spec;
    const actions: string[] = spec.validationActions ?? [];
    if (actions.length === 0 || actions.some((a) => !['Deny', 'Warn', 'Audit'].includes(a)) || new Set(actions).size !== actions.length)
      problems.push(`validationActions ${actions}`);
    if (actions.includes('Deny') && actions.includes('Warn')) problems.push('Deny and Warn together');
    if (!spec.policyName) problems.push('no policyName');
    (spec.matchResources?.resourceRules ?? []).forEach(rules);
  }
  return problems;
}
