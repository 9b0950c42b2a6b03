import { describe, expect, it } from 'vitest';
import { anonymousBinding } from '../../../policies/defender/anonymous-binding.js';
import { binding, evaluateWithConfig, GARBAGE, pathsOf, runCheck } from './fixtures.js';

const R = 'rbac.authorization.k8s.io';
const view = { apiGroup: R, kind: 'ClusterRole', name: 'view' };

describe('anonymous-binding', () => {
  it.each([
    ['User system:anonymous', [{ apiGroup: R, kind: 'User', name: 'system:anonymous' }], ['subjects[0]']],
    ['Group system:unauthenticated', [{ apiGroup: R, kind: 'Group', name: 'system:unauthenticated' }], ['subjects[0]']],
    ['a subject without apiGroup', [{ kind: 'Group', name: 'system:unauthenticated' }], ['subjects[0]']],
    [
      'each anonymous subject among others',
      [
        { apiGroup: R, kind: 'User', name: 'alice' },
        { apiGroup: R, kind: 'User', name: 'system:anonymous' },
        null,
        { apiGroup: R, kind: 'Group', name: 'system:unauthenticated' },
      ],
      ['subjects[1]', 'subjects[3]'],
    ],
  ])('fires on %s', (_name, subjects, paths) => {
    expect(pathsOf(anonymousBinding, binding(view, subjects))).toEqual(paths);
    expect(pathsOf(anonymousBinding, binding(view, subjects, 'RoleBinding'))).toEqual(paths);
  });

  it.each([
    ['Group system:authenticated', [{ apiGroup: R, kind: 'Group', name: 'system:authenticated' }]],
    ['Group system:anonymous (wrong kind)', [{ apiGroup: R, kind: 'Group', name: 'system:anonymous' }]],
    ['User system:unauthenticated (wrong kind)', [{ apiGroup: R, kind: 'User', name: 'system:unauthenticated' }]],
    ['a ServiceAccount named system:anonymous', [{ kind: 'ServiceAccount', name: 'system:anonymous', namespace: 'x' }]],
    ['a case variant', [{ apiGroup: R, kind: 'user', name: 'System:Anonymous' }]],
    ['no subjects', undefined],
    ['subjects: null', null],
  ])('does not fire on %s', (_name, subjects) => {
    expect(pathsOf(anonymousBinding, binding(view, subjects))).toEqual([]);
  });

  it.each(GARBAGE.map((g) => [g]))('tolerates garbage %j', (g) => {
    expect(() => runCheck(anonymousBinding, binding(g, g))).not.toThrow();
    expect(() => runCheck(anonymousBinding, binding(g, [g, { kind: 'User', name: 'system:anonymous' }]))).not.toThrow();
  });

  it('names the binding, the role and the subject', () => {
    expect(runCheck(anonymousBinding, binding(view, [{ kind: 'Group', name: 'system:unauthenticated' }]))).toEqual([
      {
        policy: 'anonymous-binding',
        severity: 'high',
        message: 'ClusterRoleBinding "b" grants ClusterRole "view" to Group "system:unauthenticated": every request without credentials gets it',
        path: 'subjects[0]',
      },
    ]);
  });

  it('fires through the configuration path', () => {
    expect(evaluateWithConfig('anonymous-binding', binding(view, [{ kind: 'User', name: 'system:anonymous' }]))).toHaveLength(1);
  });
});
