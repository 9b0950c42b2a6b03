import { describe, expect, it } from 'vitest';
import { ruleGrants, ruleGrantsNonResource, type ResourceAttributes } from '../../../policies/rbac.js';
import { GARBAGE } from './fixtures.js';

const getSecrets: ResourceAttributes = { verb: 'get', group: '', resource: 'secrets' };
const execPods: ResourceAttributes = { verb: 'create', group: '', resource: 'pods', subresource: 'exec' };

describe('ruleGrants (as the Kubernetes RBAC authorizer)', () => {
  it.each([
    ['exact verb, group and resource', { apiGroups: [''], resources: ['secrets'], verbs: ['get'] }, getSecrets],
    ['* verbs', { apiGroups: [''], resources: ['secrets'], verbs: ['*'] }, getSecrets],
    ['* apiGroups', { apiGroups: ['*'], resources: ['secrets'], verbs: ['get'] }, getSecrets],
    ['* resources', { apiGroups: [''], resources: ['*'], verbs: ['get'] }, getSecrets],
    ['* resources cover subresources', { apiGroups: [''], resources: ['*'], verbs: ['create'] }, execPods],
    ['resource/subresource', { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }, execPods],
    ['*/subresource', { apiGroups: [''], resources: ['*/exec'], verbs: ['create'] }, execPods],
    ['pods/* (Bulwark reads it as every pods subresource)', { apiGroups: [''], resources: ['pods/*'], verbs: ['create'] }, execPods],
    ['*/* (every subresource)', { apiGroups: [''], resources: ['*/*'], verbs: ['create'] }, execPods],
    [
      'a listed resourceName when the request names it',
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['tls'] },
      { ...getSecrets, name: 'tls' },
    ],
    ['extra garbage entries beside the match', { apiGroups: [7, ''], resources: [null, 'secrets'], verbs: [{}, 'get'] }, getSecrets],
  ])('grants with %s', (_name, rule, attrs) => {
    expect(ruleGrants(rule, attrs)).toBe(true);
  });

  it.each([
    ['another verb', { apiGroups: [''], resources: ['secrets'], verbs: ['list'] }, getSecrets],
    ['another group: apps has no secrets', { apiGroups: ['apps'], resources: ['secrets'], verbs: ['get'] }, getSecrets],
    ['the main resource for a subresource request', { apiGroups: [''], resources: ['pods'], verbs: ['create'] }, execPods],
    ['a subresource rule for the main resource', { apiGroups: [''], resources: ['pods/exec'], verbs: ['get'] }, { verb: 'get', group: '', resource: 'pods' }],
    ['*/subresource of another subresource', { apiGroups: [''], resources: ['*/attach'], verbs: ['create'] }, execPods],
    [
      'pods/* for another resource',
      { apiGroups: [''], resources: ['pods/*'], verbs: ['create'] },
      { verb: 'create', group: '', resource: 'podsx', subresource: 'exec' },
    ],
    ['pods/* for pods itself', { apiGroups: [''], resources: ['pods/*'], verbs: ['get'] }, { verb: 'get', group: '', resource: 'pods' }],
    ['a prefix of the resource', { apiGroups: [''], resources: ['secret'], verbs: ['get'] }, getSecrets],
    ['case differences', { apiGroups: [''], resources: ['Secrets'], verbs: ['GET'] }, getSecrets],
    ['resourceNames and a request without a name', { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['tls'] }, getSecrets],
    ['resourceNames and another name', { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['tls'] }, { ...getSecrets, name: 'db' }],
    ['no apiGroups', { resources: ['secrets'], verbs: ['get'] }, getSecrets],
    ['no verbs', { apiGroups: [''], resources: ['secrets'] }, getSecrets],
    ['a string instead of a list', { apiGroups: '*', resources: '*', verbs: '*' }, getSecrets],
  ])('does not grant with %s', (_name, rule, attrs) => {
    expect(ruleGrants(rule, attrs)).toBe(false);
  });

  it('can ignore resourceNames', () => {
    const rule = { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['tls'] };
    expect(ruleGrants(rule, getSecrets, { ignoreResourceNames: true })).toBe(true);
  });

  it.each(GARBAGE.map((g) => [g]))('never throws on garbage %j', (g) => {
    expect(ruleGrants(g, getSecrets)).toBe(false);
    expect(ruleGrants({ apiGroups: g, resources: g, verbs: g, resourceNames: g }, execPods)).toBe(false);
    expect(ruleGrantsNonResource(g, 'get', '/metrics')).toBe(false);
  });
});

describe('ruleGrantsNonResource', () => {
  it.each([
    [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }, 'get', '/metrics', true],
    [{ nonResourceURLs: ['*'], verbs: ['*'] }, 'post', '/anything', true],
    [{ nonResourceURLs: ['/healthz/*'], verbs: ['get'] }, 'get', '/healthz/etcd', true],
    [{ nonResourceURLs: ['/healthz*'], verbs: ['get'] }, 'get', '/healthz', true],
    [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }, 'get', '/metrics/cadvisor', false],
    [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }, 'post', '/metrics', false],
    [{ nonResourceURLs: ['*'], verbs: ['get'] }, '*', '*', false],
    [{ verbs: ['*'] }, 'get', '/metrics', false],
  ])('%j grants %s %s: %s', (rule, verb, url, expected) => {
    expect(ruleGrantsNonResource(rule, verb, url)).toBe(expected);
  });
});
