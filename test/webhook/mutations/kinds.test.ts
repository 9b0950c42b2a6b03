// Every mutation, on every pod-bearing kind: the exact operations, at the right template path.
import { describe, expect, it } from 'vitest';
import { computeMutation } from '../../../webhook/mutate.js';
import { KIND_NAMES, RESOURCE_DEFAULTS, applyPatch, compiledWith, objectOf, requestFor, specPointer } from './support.js';

const podSpec = () => ({
  containers: [{ name: 'app', image: 'nginx:1.27' }],
  initContainers: [{ name: 'init', image: 'busybox:1.36' }],
  ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36' }],
});

const annotationOp = (ids: string) => ({ op: 'add', path: '/metadata/annotations', value: { 'bulwark.io/mutated': ids } });

/** Per mutation: the operations it yields on podSpec(), given the pod spec's pointer. */
const EXPECTED: Record<string, (sp: string) => unknown[]> = {
  'seccomp-runtime-default': (sp) => [{ op: 'add', path: `${sp}/securityContext`, value: { seccompProfile: { type: 'RuntimeDefault' } } }],
  'no-privilege-escalation': (sp) =>
    ['containers', 'initContainers', 'ephemeralContainers'].map((list) => ({
      op: 'add',
      path: `${sp}/${list}/0/securityContext`,
      value: { allowPrivilegeEscalation: false },
    })),
  'drop-all-capabilities': (sp) =>
    ['containers', 'initContainers', 'ephemeralContainers'].map((list) => ({
      op: 'add',
      path: `${sp}/${list}/0/securityContext`,
      value: { capabilities: { drop: ['ALL'] } },
    })),
  'run-as-non-root': (sp) => [{ op: 'add', path: `${sp}/securityContext`, value: { runAsNonRoot: true } }],
  'read-only-root-filesystem': (sp) =>
    ['containers', 'initContainers', 'ephemeralContainers'].map((list) => ({
      op: 'add',
      path: `${sp}/${list}/0/securityContext`,
      value: { readOnlyRootFilesystem: true },
    })),
  // Ephemeral containers may not set resources.
  'default-resources': (sp) =>
    ['containers', 'initContainers'].map((list) => ({
      op: 'add',
      path: `${sp}/${list}/0/resources`,
      value: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    })),
};

describe('each mutation on each pod-bearing kind (CREATE)', () => {
  for (const kind of KIND_NAMES) {
    describe(kind, () => {
      for (const [id, expected] of Object.entries(EXPECTED)) {
        it(`${id} patches ${specPointer(kind)}`, () => {
          const compiled = compiledWith({ mutations: [id], mutationDefaults: RESOURCE_DEFAULTS });
          const object = objectOf(kind, podSpec());
          const result = computeMutation(requestFor(object), compiled);
          expect(result.applied).toEqual([id]);
          expect(result.patch).toEqual([...expected(specPointer(kind)), annotationOp(id)]);
          expect(() => applyPatch(object, result.patch)).not.toThrow();
        });
      }

      it('the default mutations merge into one add per missing securityContext', () => {
        const object = objectOf(kind, podSpec());
        const result = computeMutation(requestFor(object), compiledWith());
        const sp = specPointer(kind);
        const container = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
        expect(result.applied).toEqual(['drop-all-capabilities', 'no-privilege-escalation', 'seccomp-runtime-default']);
        expect(result.patch).toEqual([
          { op: 'add', path: `${sp}/securityContext`, value: { seccompProfile: { type: 'RuntimeDefault' } } },
          { op: 'add', path: `${sp}/containers/0/securityContext`, value: container },
          { op: 'add', path: `${sp}/initContainers/0/securityContext`, value: container },
          { op: 'add', path: `${sp}/ephemeralContainers/0/securityContext`, value: container },
          annotationOp('drop-all-capabilities,no-privilege-escalation,seccomp-runtime-default'),
        ]);
        const patched = applyPatch(object, result.patch);
        expect(computeMutation(requestFor(patched), compiledWith()).patch).toEqual([]);
      });

      it('fills members of existing securityContexts one by one', () => {
        const spec = {
          securityContext: { runAsUser: 1000 },
          containers: [{ name: 'app', image: 'nginx', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }],
        };
        const result = computeMutation(requestFor(objectOf(kind, spec)), compiledWith());
        const sp = specPointer(kind);
        expect(result.patch.slice(0, 3)).toEqual([
          { op: 'add', path: `${sp}/securityContext/seccompProfile`, value: { type: 'RuntimeDefault' } },
          { op: 'add', path: `${sp}/containers/0/securityContext/allowPrivilegeEscalation`, value: false },
          { op: 'add', path: `${sp}/containers/0/securityContext/capabilities/drop`, value: ['ALL'] },
        ]);
      });
    });
  }
});

describe('the ephemeralcontainers subresource', () => {
  const old = { name: 'debug-1', image: 'busybox' };
  const added = { name: 'debug-2', image: 'busybox' };

  it('patches only the ephemeral container being added, with no pod-level field and no annotation (Pod, 1.22+)', () => {
    const pod = (containers: unknown[]) => objectOf('Pod', { containers: [{ name: 'app', image: 'nginx' }], ephemeralContainers: containers });
    const compiled = compiledWith({
      mutations: [
        'seccomp-runtime-default',
        'no-privilege-escalation',
        'drop-all-capabilities',
        'run-as-non-root',
        'read-only-root-filesystem',
        'default-resources',
      ],
      mutationDefaults: RESOURCE_DEFAULTS,
    });
    const request = requestFor(pod([old, added]), { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: pod([old]) });
    const result = computeMutation(request, compiled);
    expect(result.patch).toEqual([
      {
        op: 'add',
        path: '/spec/ephemeralContainers/1/securityContext',
        value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
      },
    ]);
    expect(result.applied).toEqual(['drop-all-capabilities', 'no-privilege-escalation', 'read-only-root-filesystem']);
  });

  it('patches the added container of the pre-1.22 EphemeralContainers object', () => {
    const ec = (containers: unknown[]) => ({
      apiVersion: 'v1',
      kind: 'EphemeralContainers',
      metadata: { name: 'web', namespace: 'team-a' },
      ephemeralContainers: containers,
    });
    const request = requestFor(ec([old, added]), { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: ec([old]) });
    const result = computeMutation(request, compiledWith());
    expect(result.patch).toEqual([
      { op: 'add', path: '/ephemeralContainers/1/securityContext', value: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
    ]);
    const patched = applyPatch(request.object, result.patch);
    expect(computeMutation({ ...request, object: patched }, compiledWith()).patch).toEqual([]);
  });

  it('leaves everything alone without an oldObject to tell new containers from old', () => {
    const request = requestFor(objectOf('Pod', { containers: [], ephemeralContainers: [added] }), { operation: 'UPDATE', subResource: 'ephemeralcontainers' });
    expect(computeMutation(request, compiledWith()).patch).toEqual([]);
  });

  it('leaves an added container with an exempt image alone', () => {
    const pod = (containers: unknown[]) => objectOf('Pod', { containers: [], ephemeralContainers: containers });
    const compiled = compiledWith({ exemptions: { namespaces: [], usernames: [], groups: [], images: ['busybox*'] } });
    const request = requestFor(pod([old, added]), { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: pod([old]) });
    expect(computeMutation(request, compiled).patch).toEqual([]);
  });
});
