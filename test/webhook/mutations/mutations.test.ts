// Each mutation: what it fills in, and when it refuses to. A user's value is never overridden.
import { describe, expect, it } from 'vitest';
import type { K8sObject } from '../../../policies/types.js';
import { computeMutation } from '../../../webhook/mutate.js';
import { RESOURCE_DEFAULTS, applyPatch, at, compiledWith, objectOf, requestFor } from './support.js';

function mutate(id: string, podSpec: unknown, podMeta?: Record<string, unknown>) {
  const compiled = compiledWith({ mutations: [id], mutationDefaults: RESOURCE_DEFAULTS });
  const object = objectOf('Pod', podSpec, podMeta);
  const result = computeMutation(requestFor(object), compiled);
  return { result, patched: applyPatch<K8sObject>(object, result.patch) };
}

const app = (securityContext?: unknown, extra: Record<string, unknown> = {}) =>
  securityContext === undefined ? { name: 'app', image: 'nginx', ...extra } : { name: 'app', image: 'nginx', securityContext, ...extra };

describe('seccomp-runtime-default', () => {
  const id = 'seccomp-runtime-default';
  it('sets the pod seccompProfile to RuntimeDefault', () => {
    expect(at(mutate(id, { containers: [app()] }).patched, 'spec', 'securityContext', 'seccompProfile')).toEqual({ type: 'RuntimeDefault' });
  });
  it('replaces a null pod securityContext or seccompProfile (null is unset)', () => {
    expect(mutate(id, { securityContext: null, containers: [app()] }).result.patch[0]).toEqual({
      op: 'add',
      path: '/spec/securityContext',
      value: { seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(mutate(id, { securityContext: { seccompProfile: null }, containers: [app()] }).result.patch[0]).toEqual({
      op: 'add',
      path: '/spec/securityContext/seccompProfile',
      value: { type: 'RuntimeDefault' },
    });
  });
  it.each([
    ['the pod sets a seccompProfile (even Unconfined)', { securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [app()] }, undefined],
    ['one container sets a seccompProfile', { containers: [app(), app({ seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } })] }, undefined],
    ['an init container sets a seccompProfile', { containers: [app()], initContainers: [app({ seccompProfile: { type: 'Unconfined' } })] }, undefined],
    ['the legacy pod annotation is set', { containers: [app()] }, { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } }],
    ['a legacy container annotation is set', { containers: [app()] }, { annotations: { 'container.seccomp.security.alpha.kubernetes.io/app': 'unconfined' } }],
    ['the pod is a Windows pod', { os: { name: 'windows' }, containers: [app()] }, undefined],
  ])('refuses when %s', (_, spec, meta) => {
    expect(mutate(id, spec, meta).result.patch).toEqual([]);
  });
  it("reads the legacy annotation on a workload's pod template", () => {
    const d = objectOf('Deployment', { containers: [app()] }, { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default' } });
    expect(computeMutation(requestFor(d), compiledWith({ mutations: [id] })).patch).toEqual([]);
  });
});

describe('no-privilege-escalation', () => {
  const id = 'no-privilege-escalation';
  it('sets allowPrivilegeEscalation: false where unset or null', () => {
    const { patched } = mutate(id, { containers: [app(), app({ allowPrivilegeEscalation: null, runAsUser: 5 })] });
    expect(at(patched, 'spec', 'containers', 0, 'securityContext')).toEqual({ allowPrivilegeEscalation: false });
    expect(at(patched, 'spec', 'containers', 1, 'securityContext')).toEqual({ allowPrivilegeEscalation: false, runAsUser: 5 });
  });
  it("keeps the user's true", () => {
    expect(mutate(id, { containers: [app({ allowPrivilegeEscalation: true })] }).result.patch).toEqual([]);
  });
  it.each([
    ['privileged', { privileged: true }],
    ['adding CAP_SYS_ADMIN', { capabilities: { add: ['CAP_SYS_ADMIN'] } }],
    ['adding SYS_ADMIN', { capabilities: { add: ['NET_ADMIN', 'SYS_ADMIN'] } }],
    ['adding sys_admin', { capabilities: { add: ['sys_admin'] } }],
    ['adding ALL', { capabilities: { add: ['ALL'] } }],
  ])('leaves a container %s without allowPrivilegeEscalation (the API server rejects the pair)', (_, sc) => {
    const { result, patched } = mutate(id, { containers: [app(sc)] });
    expect(result.patch).toEqual([]);
    expect(at(patched, 'spec', 'containers', 0, 'securityContext', 'allowPrivilegeEscalation')).toBeUndefined();
  });
  it('patches a container that sets privileged: false', () => {
    expect(at(mutate(id, { containers: [app({ privileged: false })] }).patched, 'spec', 'containers', 0, 'securityContext')).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
    });
  });
  it('skips Windows pods', () => {
    expect(mutate(id, { os: { name: 'windows' }, containers: [app()] }).result.patch).toEqual([]);
  });
});

describe('drop-all-capabilities', () => {
  const id = 'drop-all-capabilities';
  it('adds drop: [ALL] and keeps add', () => {
    const { patched } = mutate(id, { containers: [app({ capabilities: { add: ['NET_BIND_SERVICE'] } })] });
    expect(at(patched, 'spec', 'containers', 0, 'securityContext', 'capabilities')).toEqual({ add: ['NET_BIND_SERVICE'], drop: ['ALL'] });
  });
  it.each([
    ['a drop list without ALL', { capabilities: { drop: ['NET_RAW'] } }],
    ['an empty drop list', { capabilities: { drop: [] } }],
  ])('keeps %s', (_, sc) => {
    expect(mutate(id, { containers: [app(sc)] }).result.patch).toEqual([]);
  });
  it('replaces null capabilities and null drop', () => {
    expect(mutate(id, { containers: [app({ capabilities: null })] }).result.patch[0]).toEqual({
      op: 'add',
      path: '/spec/containers/0/securityContext/capabilities',
      value: { drop: ['ALL'] },
    });
    expect(mutate(id, { containers: [app({ capabilities: { drop: null } })] }).result.patch[0]).toEqual({
      op: 'add',
      path: '/spec/containers/0/securityContext/capabilities/drop',
      value: ['ALL'],
    });
  });
  it('skips Windows pods', () => {
    expect(mutate(id, { os: { name: 'windows' }, containers: [app()] }).result.patch).toEqual([]);
  });
  it('leaves malformed fields alone rather than emit a patch that cannot apply', () => {
    expect(mutate(id, { containers: [app('nope'), app({ capabilities: ['ALL'] }), 'junk', null] }).result.patch).toEqual([]);
  });
});

describe('run-as-non-root', () => {
  const id = 'run-as-non-root';
  it('sets the pod runAsNonRoot: true', () => {
    expect(at(mutate(id, { containers: [app({ runAsUser: 1000 })] }).patched, 'spec', 'securityContext', 'runAsNonRoot')).toBe(true);
  });
  it.each([
    ['the pod sets runAsNonRoot: false', { securityContext: { runAsNonRoot: false }, containers: [app()] }],
    ['a container sets runAsNonRoot', { containers: [app(), app({ runAsNonRoot: false })] }],
    ['the pod runs as user 0', { securityContext: { runAsUser: 0 }, containers: [app()] }],
    ['an init container runs as user 0', { containers: [app()], initContainers: [app({ runAsUser: 0 })] }],
    ['a container is privileged', { containers: [app({ privileged: true })] }],
    ['the pod is a Windows pod', { os: { name: 'windows' }, containers: [app()] }],
  ])('refuses when %s', (_, spec) => {
    expect(mutate(id, spec).result.patch).toEqual([]);
  });
});

describe('read-only-root-filesystem', () => {
  const id = 'read-only-root-filesystem';
  it('sets readOnlyRootFilesystem: true where unset, keeps false', () => {
    const { patched } = mutate(id, { containers: [app(), app({ readOnlyRootFilesystem: false })] });
    expect(at(patched, 'spec', 'containers', 0, 'securityContext', 'readOnlyRootFilesystem')).toBe(true);
    expect(at(patched, 'spec', 'containers', 1, 'securityContext', 'readOnlyRootFilesystem')).toBe(false);
  });
});

describe('default-resources', () => {
  const id = 'default-resources';
  const resources = (patched: unknown, i = 0) => at(patched, 'spec', 'containers', i, 'resources');
  it('fills requests and limits key by key', () => {
    const { patched } = mutate(id, {
      containers: [app(), app(undefined, { resources: { requests: { cpu: '2' } } }), app(undefined, { resources: { requests: null, limits: {} } })],
    });
    expect(resources(patched, 0)).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(resources(patched, 1)).toEqual({ requests: { cpu: '2', memory: '128Mi' }, limits: { memory: '512Mi' } });
    expect(resources(patched, 2)).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  });
  it('adds no request for a resource the container limits (the API server defaults it to the limit)', () => {
    const { patched } = mutate(id, { containers: [app(undefined, { resources: { limits: { cpu: '50m', memory: '64Mi' } } })] });
    expect(resources(patched)).toEqual({ limits: { cpu: '50m', memory: '64Mi' } });
  });
  it("adds no limit below the container's own request", () => {
    const { patched } = mutate(id, { containers: [app(undefined, { resources: { requests: { memory: '1Gi' } } })] });
    expect(resources(patched)).toEqual({ requests: { cpu: '100m', memory: '1Gi' } });
    const { patched: small } = mutate(id, { containers: [app(undefined, { resources: { requests: { memory: '256Mi' } } })] });
    expect(resources(small)).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } });
  });
  it('never touches ephemeral containers, and skips pods with pod-level resources', () => {
    expect(mutate(id, { containers: [], ephemeralContainers: [app()] }).result.patch).toEqual([]);
    expect(mutate(id, { resources: { limits: { memory: '1Gi' } }, containers: [app()] }).result.patch).toEqual([]);
  });
  it('applies to Windows pods too', () => {
    expect(mutate(id, { os: { name: 'windows' }, containers: [app()] }).result.applied).toEqual([id]);
  });
});
