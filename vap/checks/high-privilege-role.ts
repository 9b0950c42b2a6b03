// high-privilege-role: no Role or ClusterRole rule grants a takeover permission, matched as the RBAC
// authorizer matches (`*` verbs, groups and resources, `*/<subresource>`, and conservatively `<resource>/*`).
// The reasons and targets are the engine's own (policies/defender/high-privilege-role.ts).
import { lit, message } from '../cel.js';
import type { CheckCompiler } from '../types.js';
import { REASONS, type Target } from '../../policies/defender/high-privilege-role.js';

const listHas = (field: string, cond: (x: string) => string): string => `(has(r.${field}) && r.${field}.exists(x, ${cond('x')}))`;

function grants(t: Target, anyName: boolean): string {
  const inList = (field: string, values: string[]): string => `(has(r.${field}) && (${values.map((v) => `${lit(v)} in r.${field}`).join(' || ')}))`;
  const verbs = t.verbs.length > 2 ? listHas('verbs', (x) => `${x} == '*' || ${x} in [${t.verbs.map(lit).join(', ')}]`) : inList('verbs', ['*', ...t.verbs]);
  const groups = inList('apiGroups', ['*', t.group]);
  const res = t.subresource
    ? inList('resources', ['*', '*/*', `${t.resource}/${t.subresource}`, `*/${t.subresource}`, `${t.resource}/*`])
    : inList('resources', ['*', t.resource]);
  const names = anyName ? '' : ` && !(has(r.resourceNames) && size(r.resourceNames) > 0)`;
  return `(${verbs} && ${groups} && ${res}${names})`;
}

/** Every verb: `*`, or an explicit list of every standard verb (as wide as `*`). */
const everyVerb = (verbs: readonly string[]): string => `(has(r.verbs) && ('*' in r.verbs || (${verbs.map((v) => `${lit(v)} in r.verbs`).join(' && ')})))`;
const EVERY_RESOURCE_VERB = everyVerb(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']);
const EVERYTHING = `(${EVERY_RESOURCE_VERB} && has(r.resources) && '*' in r.resources && has(r.apiGroups) && size(r.apiGroups) > 0)`;
/** …and with it every verb on core pods (run any pod, delete any pod). */
const EVERY_POD = `(${EVERYTHING} && ('*' in r.apiGroups || '' in r.apiGroups))`;
/** Every verb on every non-resource URL: `*`, or a prefix star whose prefix (trailing `*`s trimmed) is `/` or empty. */
const NON_RESOURCE = `(${everyVerb(['get', 'post', 'put', 'patch', 'delete'])} && has(r.nonResourceURLs) && r.nonResourceURLs.exists(u, u.matches('^/?[*]+$')))`;

export const highPrivilegeRole: CheckCompiler = {
  id: 'high-privilege-role',
  compile() {
    const reasons = REASONS.map((r) => ({
      when: `(${r.targets.map((t) => grants(t, r.anyName)).join(' || ')})`,
      why: r.why,
      what: r.targets
        .map((t) => `${t.verbs.length > 3 ? 'write' : t.verbs.join(', ')} on ${t.subresource ? `${t.resource}/${t.subresource}` : t.resource}`)
        .join(' or '),
    }));
    const anyReason = `(${EVERYTHING} || ${reasons.map((r) => r.when).join(' || ')} || ${NON_RESOURCE})`;
    let text = lit('a rule grants * on nonResourceURLs * (every verb on every non-resource URL)');
    for (let i = reasons.length - 1; i >= 0; i--) {
      text = `object.rules.exists(r, ${reasons[i]!.when}) ? ${lit(`a rule grants ${reasons[i]!.what} (${reasons[i]!.why})`)} : ${text}`;
    }
    text = `object.rules.exists(r, ${EVERYTHING}) ? 'a rule grants every verb on * (every verb on every resource in scope' + (object.rules.exists(r, ${EVERY_POD}) ? ', pods included: run any pod, delete any pod)' : ')') : ${text}`;
    return {
      target: 'role',
      validations: [
        {
          expression: `!(has(object.rules) && object.rules.exists(r, ${anyReason}))`,
          messageExpression: message(this.id, `(${text})`),
        },
      ],
      differences: [
        'one message for the first reason found, without the rule index and the verbs as the rule writes them; the webhook gives one line per rule and reason',
      ],
    };
  },
};
