import { describe, expect, it } from 'vitest';
import { highPrivilegeRole } from '../../../policies/defender/high-privilege-role.js';
import { evaluateWithConfig, GARBAGE, pathsOf, role, runCheck } from './fixtures.js';

const R = 'rbac.authorization.k8s.io';

function messages(rules: unknown, kind: 'Role' | 'ClusterRole' = 'ClusterRole'): string[] {
  return runCheck(highPrivilegeRole, role(rules, kind)).map((f) => f.message);
}

describe('high-privilege-role', () => {
  it.each([
    [
      '* verbs on * resources in * groups (cluster-admin)',
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      'rule 0 grants * on * (every verb on every resource in scope)',
    ],
    [
      '* verbs on * resources of the core group',
      { apiGroups: [''], resources: ['*'], verbs: ['*'] },
      'rule 0 grants * on * (every verb on every resource of API groups "" in scope)',
    ],
    [
      'escalate on clusterroles',
      { apiGroups: [R], resources: ['clusterroles'], verbs: ['escalate'] },
      'rule 0 grants escalate on clusterroles (write roles with permissions the holder does not have)',
    ],
    [
      'bind on roles and clusterroles',
      { apiGroups: [R], resources: ['roles', 'clusterroles'], verbs: ['bind'] },
      'rule 0 grants bind on roles, clusterroles (bind roles with permissions the holder does not have)',
    ],
    [
      'bind on one named ClusterRole',
      { apiGroups: [R], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['admin'] },
      'rule 0 grants bind on clusterroles (only resourceNames "admin") (bind roles with permissions the holder does not have)',
    ],
    [
      'impersonate on users and groups',
      { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
      'rule 0 grants impersonate on users, groups (act as another user, group or service account)',
    ],
    [
      'impersonate on * in * groups',
      { apiGroups: ['*'], resources: ['*'], verbs: ['impersonate'] },
      'rule 0 grants impersonate on users, groups, serviceaccounts, uids (act as another user, group or service account)',
    ],
    ['get on secrets', { apiGroups: [''], resources: ['secrets'], verbs: ['get'] }, 'rule 0 grants get on secrets (read any secret in scope)'],
    [
      'list and watch on secrets',
      { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['list', 'watch', 'create'] },
      'rule 0 grants list, watch on secrets (read any secret in scope)',
    ],
    ['* verbs on secrets', { apiGroups: [''], resources: ['secrets'], verbs: ['*'] }, 'rule 0 grants * on secrets (read any secret in scope)'],
    [
      'get on secrets through * apiGroups',
      { apiGroups: ['*'], resources: ['secrets'], verbs: ['get'] },
      'rule 0 grants get on secrets (read any secret in scope)',
    ],
    [
      'create on pods/exec',
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
      'rule 0 grants create on pods/exec (run commands in pods in scope)',
    ],
    ['create on */exec', { apiGroups: [''], resources: ['*/exec'], verbs: ['create'] }, 'rule 0 grants create on pods/exec (run commands in pods in scope)'],
    [
      'create on pods/attach',
      { apiGroups: [''], resources: ['pods/attach'], verbs: ['create'] },
      'rule 0 grants create on pods/attach (attach to running containers in scope)',
    ],
    [
      'create on serviceaccounts/token',
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      'rule 0 grants create on serviceaccounts/token (mint tokens for service accounts in scope)',
    ],
    [
      'list on nodes/* ',
      { apiGroups: [''], resources: ['nodes/*'], verbs: ['list'] },
      'rule 0 grants list on nodes/proxy (reach the kubelet API directly, past admission control and audit)',
    ],
    [
      'get on nodes/proxy',
      { apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] },
      'rule 0 grants get on nodes/proxy (reach the kubelet API directly, past admission control and audit)',
    ],
    [
      'patch on mutating webhooks',
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['get', 'patch'] },
      'rule 0 grants patch on mutatingwebhookconfigurations (disable or hijack admission webhooks)',
    ],
    [
      'delete on both webhook kinds',
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], verbs: ['delete'] },
      'rule 0 grants delete on mutatingwebhookconfigurations, validatingwebhookconfigurations (disable or hijack admission webhooks)',
    ],
    [
      'approve on signers',
      { apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['approve'], resourceNames: ['kubernetes.io/kube-apiserver-client'] },
      'rule 0 grants approve on signers (only resourceNames "kubernetes.io/kube-apiserver-client") (approve certificate signing requests, issuing credentials for any identity)',
    ],
    [
      'update on certificatesigningrequests/approval',
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
      'rule 0 grants update on certificatesigningrequests/approval (approve certificate signing requests, issuing credentials for any identity)',
    ],
    ['* verbs on nonResourceURLs *', { nonResourceURLs: ['*'], verbs: ['*'] }, 'rule 0 grants * on nonResourceURLs * (every verb on every non-resource URL)'],
  ])('fires on %s', (_name, rule, message) => {
    expect(messages([rule])).toEqual([message]);
  });

  it('reads get on * resources as secrets and nodes/proxy (the kubelet maps GET to get)', () => {
    expect(messages([{ apiGroups: [''], resources: ['*'], verbs: ['get', 'list'] }])).toEqual([
      'rule 0 grants get, list on secrets (read any secret in scope)',
      'rule 0 grants get on pods/exec (run commands in pods in scope)',
      'rule 0 grants get on pods/attach (attach to running containers in scope)',
      'rule 0 grants get, list on nodes/proxy (reach the kubelet API directly, past admission control and audit)',
    ]);
  });

  it('reads pods/* as every pods subresource', () => {
    expect(messages([{ apiGroups: [''], resources: ['pods/*'], verbs: ['create'] }])).toEqual([
      'rule 0 grants create on pods/exec (run commands in pods in scope)',
      'rule 0 grants create on pods/attach (attach to running containers in scope)',
    ]);
  });

  it('gives one finding per (rule, reason), with the rule index in message and path', () => {
    const rules = [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets', 'pods/exec'], verbs: ['get', 'create'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    ];
    const findings = runCheck(highPrivilegeRole, role(rules, 'Role'));
    expect(findings.map((f) => [f.path, f.message])).toEqual([
      ['rules[1]', 'rule 1 grants get on secrets (read any secret in scope)'],
      ['rules[1]', 'rule 1 grants create, get on pods/exec (run commands in pods in scope)'],
      ['rules[2]', 'rule 2 grants get on secrets (read any secret in scope)'],
    ]);
    expect(findings.every((f) => f.severity === 'high' && f.image === undefined)).toBe(true);
  });

  it('reports a full wildcard once, not once per implied reason, and a non-resource wildcard beside it', () => {
    expect(
      pathsOf(
        highPrivilegeRole,
        role([
          { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
          { nonResourceURLs: ['*'], verbs: ['*'] },
        ]),
      ),
    ).toEqual(['rules[0]', 'rules[1]']);
  });

  it.each([
    ['read-only access to ordinary resources', { apiGroups: ['', 'apps'], resources: ['pods', 'deployments', 'configmaps'], verbs: ['get', 'list', 'watch'] }],
    ['secrets in the wrong group (apps has no secrets)', { apiGroups: ['apps'], resources: ['secrets'], verbs: ['get'] }],
    ['create, update and delete secrets without read', { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'update', 'delete'] }],
    ['get on one named secret', { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['app-tls'] }],
    ['create on pods (not the exec subresource)', { apiGroups: [''], resources: ['pods'], verbs: ['create'] }],
    ['create on pods/log', { apiGroups: [''], resources: ['pods/log'], verbs: ['create', 'get'] }],
    ['*/log', { apiGroups: [''], resources: ['*/log'], verbs: ['*'] }],
    ['* verbs on deployments only', { apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }],
    ['* resources but not * verbs', { apiGroups: ['apps'], resources: ['*'], verbs: ['get', 'list', 'watch'] }],
    [
      'get on webhook configurations',
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        verbs: ['get', 'list', 'watch'],
      },
    ],
    [
      'patch on its own webhook configurations by resourceNames',
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
        resourceNames: ['bulwark', 'bulwark-mutate'],
        verbs: ['get', 'patch'],
      },
    ],
    ['webhook configurations in the wrong group', { apiGroups: [''], resources: ['mutatingwebhookconfigurations'], verbs: ['*'] }],
    ['escalate on pods (meaningless)', { apiGroups: [''], resources: ['pods'], verbs: ['escalate', 'bind'] }],
    ['bind on roles in the core group', { apiGroups: [''], resources: ['roles'], verbs: ['bind'] }],
    [
      'create certificatesigningrequests (not approval)',
      { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get'] },
    ],
    ['get on nonResourceURLs *', { nonResourceURLs: ['*'], verbs: ['get'] }],
    ['* verbs on one non-resource URL', { nonResourceURLs: ['/metrics'], verbs: ['*'] }],
    ['no apiGroups (invalid, grants nothing)', { resources: ['*'], verbs: ['*'] }],
    ['empty verbs', { apiGroups: ['*'], resources: ['*'], verbs: [] }],
  ])('does not fire on %s', (_name, rule) => {
    expect(messages([rule])).toEqual([]);
  });

  it('checks the rules present in an aggregated ClusterRole', () => {
    const aggregated = role([{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }], 'ClusterRole', {
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-ops': 'true' } }] },
    });
    expect(pathsOf(highPrivilegeRole, aggregated)).toEqual(['rules[0]']);
    expect(pathsOf(highPrivilegeRole, role(undefined, 'ClusterRole', { aggregationRule: { clusterRoleSelectors: [] } }))).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j as rules, rule and fields', (g) => {
    expect(() => runCheck(highPrivilegeRole, role(g))).not.toThrow();
    expect(() => runCheck(highPrivilegeRole, role([g]))).not.toThrow();
    expect(() => runCheck(highPrivilegeRole, role([{ apiGroups: g, resources: g, verbs: g, resourceNames: g, nonResourceURLs: g }]))).not.toThrow();
  });

  it('fires through the configuration path on a Role', () => {
    const found = evaluateWithConfig('high-privilege-role', role([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], 'Role'));
    expect(found).toEqual([
      { policy: 'high-privilege-role', severity: 'high', message: 'rule 0 grants get on secrets (read any secret in scope)', path: 'rules[0]' },
    ]);
  });
});

describe('high-privilege-role: rules as wide as a wildcard (#12 item 6, #14 §4)', () => {
  const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
  it.each([
    [
      'get on pods/exec (WebSocket exec before 1.35)',
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] },
      'rule 0 grants get on pods/exec (run commands in pods in scope)',
    ],
    [
      'get on pods/attach (WebSocket attach)',
      { apiGroups: [''], resources: ['pods/attach'], verbs: ['get'] },
      'rule 0 grants get on pods/attach (attach to running containers in scope)',
    ],
    [
      '* verbs on pods',
      { apiGroups: [''], resources: ['pods'], verbs: ['*'] },
      'rule 0 grants * on pods (every verb on pods in scope: run any pod, delete any pod)',
    ],
    [
      'nonResourceURLs "/*" with * verbs (a trailing * is a prefix)',
      { nonResourceURLs: ['/*'], verbs: ['*'] },
      'rule 0 grants * on nonResourceURLs "/*" (every verb on every non-resource URL)',
    ],
    [
      'nonResourceURLs "/**" (the authorizer trims every trailing *)',
      { nonResourceURLs: ['/**'], verbs: ['*'] },
      'rule 0 grants * on nonResourceURLs "/**" (every verb on every non-resource URL)',
    ],
    [
      'nonResourceURLs "*" with every HTTP verb listed',
      { nonResourceURLs: ['*'], verbs: ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] },
      'rule 0 grants get, post, put, patch, delete, head, options on nonResourceURLs * (every verb on every non-resource URL)',
    ],
  ])('fires on %s', (_name, rule, message) => {
    expect(messages([rule])).toEqual([message]);
  });

  it('an explicit list of every verb on * resources is as wide as *', () => {
    expect(messages([{ apiGroups: ['*'], resources: ['*'], verbs: [...ALL_VERBS] }])).toEqual([
      'rule 0 grants get, list, watch, create, update, patch, delete, deletecollection on * (every verb on every resource in scope)',
    ]);
    expect(messages([{ apiGroups: [''], resources: ['pods'], verbs: [...ALL_VERBS].reverse() }])).toEqual([
      'rule 0 grants deletecollection, delete, patch, update, create, watch, list, get on pods (every verb on pods in scope: run any pod, delete any pod)',
    ]);
  });

  it.each([
    ['get on nonResourceURLs /*', { nonResourceURLs: ['/*'], verbs: ['get'] }],
    ['* on a narrow prefix', { nonResourceURLs: ['/healthz/*'], verbs: ['*'] }],
    ['some verbs on pods', { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] }],
    ['* on pods/log', { apiGroups: [''], resources: ['pods/log'], verbs: ['*'] }],
    ['* on pods in the apps group (no such resource)', { apiGroups: ['apps'], resources: ['pods'], verbs: ['*'] }],
  ])('does not fire on %s', (_name, rule) => {
    expect(messages([rule])).toEqual([]);
  });
});
