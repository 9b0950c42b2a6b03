import { describe, expect, it } from 'vitest';
import { clusterAdminBinding } from '../../../policies/defender/cluster-admin-binding.js';
import { binding, evaluateWithConfig, GARBAGE, pathsOf, runCheck } from './fixtures.js';

const R = 'rbac.authorization.k8s.io';
const clusterAdmin = { apiGroup: R, kind: 'ClusterRole', name: 'cluster-admin' };
const alice = [{ apiGroup: R, kind: 'User', name: 'alice' }];

describe('cluster-admin-binding', () => {
  it.each([
    ['a ClusterRoleBinding to cluster-admin', binding(clusterAdmin, alice)],
    ['a RoleBinding to the cluster-admin ClusterRole', binding(clusterAdmin, alice, 'RoleBinding')],
    ['a binding without subjects', binding(clusterAdmin, undefined)],
    ['a roleRef without apiGroup', binding({ kind: 'ClusterRole', name: 'cluster-admin' }, alice)],
    ['garbage subjects', binding(clusterAdmin, [null, 7, { kind: 'User' }])],
  ])('fires on %s', (_name, obj) => {
    expect(pathsOf(clusterAdminBinding, obj)).toEqual(['roleRef.name']);
  });

  it.each([
    ['a binding to admin', binding({ apiGroup: R, kind: 'ClusterRole', name: 'admin' }, alice)],
    ['a binding to a Role named cluster-admin', binding({ apiGroup: R, kind: 'Role', name: 'cluster-admin' }, alice, 'RoleBinding')],
    ['a similar name', binding({ apiGroup: R, kind: 'ClusterRole', name: 'cluster-admin-lite' }, alice)],
    ['another case', binding({ apiGroup: R, kind: 'ClusterRole', name: 'Cluster-Admin' }, alice)],
    ['no roleRef', binding(undefined, alice)],
  ])('does not fire on %s', (_name, obj) => {
    expect(pathsOf(clusterAdminBinding, obj)).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j', (g) => {
    expect(() => runCheck(clusterAdminBinding, binding(g, g))).not.toThrow();
    expect(() => runCheck(clusterAdminBinding, binding(clusterAdmin, [g]))).not.toThrow();
    expect(() => runCheck(clusterAdminBinding, binding({ kind: g, name: g }, alice))).not.toThrow();
  });

  it('names the binding, the scope and every subject', () => {
    const obj = binding(clusterAdmin, [
      { apiGroup: R, kind: 'User', name: 'alice' },
      { apiGroup: R, kind: 'Group', name: 'ops' },
      { kind: 'ServiceAccount', name: 'ci', namespace: 'build' },
    ]);
    expect(runCheck(clusterAdminBinding, obj)).toEqual([
      {
        policy: 'cluster-admin-binding',
        severity: 'high',
        message: 'ClusterRoleBinding "b" grants cluster-admin over the whole cluster to User "alice", Group "ops", ServiceAccount "build/ci"',
        path: 'roleRef.name',
      },
    ]);
    expect(runCheck(clusterAdminBinding, binding(clusterAdmin, alice, 'RoleBinding'))[0]!.message).toBe(
      'RoleBinding "b" grants cluster-admin over namespace "team" to User "alice"',
    );
  });

  it('fires through the configuration path', () => {
    expect(evaluateWithConfig('cluster-admin-binding', binding(clusterAdmin, alice))).toHaveLength(1);
  });
});
