// Property test: over many generated objects (seeded, so every run sees the same ones), every
// patch applies with jsonpatch, only adds where nothing (or null) was, adds nothing the API
// server's pod validation would reject, is idempotent, and never makes pss-restricted
// findings worse.
import { describe, expect, it } from 'vitest';
import { compileConfig, type CompiledConfig } from '../../../policies/config.js';
import { defaultConfig } from '../../../config/load.js';
import { evaluateSubject } from '../../../policies/evaluate.js';
import { toSubject } from '../../../policies/subject.js';
import type { K8sObject } from '../../../policies/types.js';
import type { AdmissionRequest } from '../../../webhook/admission.js';
import { computeMutation } from '../../../webhook/mutate.js';
import { KINDS, KIND_NAMES, applyPatch, compiledAll, compiledWith, requestFor } from './support.js';
import { prng } from '../../support/prng.js';

class Gen {
  constructor(readonly random: () => number) {}
  chance(p: number): boolean {
    return this.random() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
  int(max: number): number {
    return Math.floor(this.random() * (max + 1));
  }
  /** Absent (undefined), null, or a value. */
  maybe<T>(make: () => T, pAbsent = 0.35, pNull = 0.15): T | null | undefined {
    const r = this.random();
    if (r < pAbsent) return undefined;
    if (r < pAbsent + pNull) return null;
    return make();
  }
}

const ODD_KEYS = ['a/b', '~0', '~1', 'x~/y', '/', '~', '', 'bulwark.io~1mutated', 'ü', '__proto__x'];
const NAMES = ['app', 'a/b', '~x', 'side~1car', '', 'init', 'debug', 'x'.repeat(70), 'ünï'];
const IMAGES = ['nginx:1.27', 'registry.k8s.io/pause:3.9', 'busybox', '', 'ghcr.io/a/b@sha256:abc'];
const CAPS = ['NET_BIND_SERVICE', 'SYS_ADMIN', 'CAP_SYS_ADMIN', 'ALL', 'NET_RAW', 'sys_admin', 'CHOWN'];
const QUANTITIES = ['50m', '100m', '2', '64Mi', '256Mi', '1Gi', '4Gi', 1];

function withOddKeys(g: Gen, obj: Record<string, unknown>): Record<string, unknown> {
  if (g.chance(0.2)) obj[g.pick(ODD_KEYS)] = g.pick([1, 'v', null, { k: 'v' }]);
  return obj;
}

function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) obj[key] = value;
}

function securityContext(g: Gen): Record<string, unknown> {
  const sc: Record<string, unknown> = {};
  set(
    sc,
    'privileged',
    g.maybe(() => g.chance(0.5), 0.6),
  );
  set(
    sc,
    'allowPrivilegeEscalation',
    g.maybe(() => g.chance(0.5), 0.6),
  );
  set(
    sc,
    'readOnlyRootFilesystem',
    g.maybe(() => g.chance(0.5), 0.6),
  );
  set(
    sc,
    'runAsNonRoot',
    g.maybe(() => g.chance(0.5), 0.7),
  );
  set(
    sc,
    'runAsUser',
    g.maybe(() => g.pick([0, 1000, 65534]), 0.6),
  );
  set(
    sc,
    'seccompProfile',
    g.maybe(() => ({ type: g.pick(['RuntimeDefault', 'Unconfined', 'Localhost']) }), 0.7),
  );
  set(
    sc,
    'capabilities',
    g.maybe(() => {
      const caps: Record<string, unknown> = {};
      set(
        caps,
        'add',
        g.maybe(() => Array.from({ length: g.int(2) }, () => g.pick(CAPS)), 0.4),
      );
      set(
        caps,
        'drop',
        g.maybe(() => Array.from({ length: g.int(2) }, () => g.pick(['ALL', 'NET_RAW', 'all'])), 0.5),
      );
      return caps;
    }, 0.4),
  );
  return withOddKeys(g, sc);
}

function resources(g: Gen): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const part of ['requests', 'limits']) {
    set(
      r,
      part,
      g.maybe(() => {
        const m: Record<string, unknown> = {};
        set(
          m,
          'cpu',
          g.maybe(() => g.pick(QUANTITIES), 0.5),
        );
        set(
          m,
          'memory',
          g.maybe(() => g.pick(QUANTITIES), 0.5),
        );
        return m;
      }),
    );
  }
  return r;
}

function container(g: Gen, names: Set<string>): unknown {
  if (g.chance(0.03)) return g.pick([null, 'junk', 7]);
  let name = g.pick(NAMES);
  if (names.has(name)) name = `${name}-${names.size}`;
  names.add(name);
  const c: Record<string, unknown> = { name, image: g.pick(IMAGES) };
  if (g.chance(0.1)) delete c.name;
  set(
    c,
    'securityContext',
    g.maybe(() => securityContext(g), 0.4, 0.1),
  );
  set(
    c,
    'resources',
    g.maybe(() => resources(g), 0.5, 0.1),
  );
  return withOddKeys(g, c);
}

function podSpec(g: Gen): Record<string, unknown> {
  const names = new Set<string>();
  const spec: Record<string, unknown> = {};
  spec.containers = Array.from({ length: 1 + g.int(2) }, () => container(g, names));
  set(
    spec,
    'initContainers',
    g.maybe(() => Array.from({ length: g.int(2) }, () => container(g, names)), 0.5),
  );
  set(
    spec,
    'ephemeralContainers',
    g.maybe(() => Array.from({ length: g.int(2) }, () => container(g, names)), 0.7),
  );
  set(
    spec,
    'securityContext',
    g.maybe(
      () => {
        const sc: Record<string, unknown> = {};
        set(
          sc,
          'seccompProfile',
          g.maybe(() => ({ type: g.pick(['RuntimeDefault', 'Unconfined']) }), 0.6),
        );
        set(
          sc,
          'runAsNonRoot',
          g.maybe(() => g.chance(0.5), 0.6),
        );
        set(
          sc,
          'runAsUser',
          g.maybe(() => g.pick([0, 1000]), 0.6),
        );
        return withOddKeys(g, sc);
      },
      0.4,
      0.15,
    ),
  );
  set(
    spec,
    'os',
    g.maybe(() => ({ name: g.pick(['linux', 'windows']) }), 0.7, 0.05),
  );
  set(
    spec,
    'resources',
    g.maybe(() => ({ limits: { memory: '2Gi' } }), 0.9, 0.05),
  );
  return withOddKeys(g, spec);
}

function metadata(g: Gen): unknown {
  return g.maybe(
    () => {
      const meta: Record<string, unknown> = { name: 'obj', namespace: 'team-a' };
      set(
        meta,
        'annotations',
        g.maybe(
          () => {
            const a: Record<string, unknown> = {};
            if (g.chance(0.5)) a[g.pick(ODD_KEYS)] = 'x';
            if (g.chance(0.3)) a['bulwark.io/mutated'] = g.pick(['drop-all-capabilities', 'zzz,aaa', '', 'seccomp-runtime-default,no-privilege-escalation']);
            if (g.chance(0.1)) a['seccomp.security.alpha.kubernetes.io/pod'] = 'runtime/default';
            return a;
          },
          0.4,
          0.2,
        ),
      );
      set(
        meta,
        'labels',
        g.maybe(() => ({ [g.pick(ODD_KEYS)]: 'v' })),
      );
      return meta;
    },
    0.1,
    0.05,
  );
}

interface Case {
  request: AdmissionRequest;
  compiled: CompiledConfig;
}

const CONFIGS: CompiledConfig[] = [
  compiledAll(),
  compiledWith(),
  compiledAll({ exemptions: { namespaces: [], usernames: [], groups: [], images: ['registry.k8s.io/*'] } }),
];

function generate(g: Gen): Case {
  const compiled = g.pick(CONFIGS);
  if (g.chance(0.12)) {
    // The ephemeralcontainers subresource: an UPDATE adding ephemeral containers.
    const names = new Set<string>();
    const all = Array.from({ length: 1 + g.int(3) }, () => container(g, names));
    const before = all.slice(0, g.int(all.length - 1));
    if (g.chance(0.5)) {
      const ec = (list: unknown[]) => ({ apiVersion: 'v1', kind: 'EphemeralContainers', metadata: metadata(g), ephemeralContainers: list });
      return {
        compiled,
        request: requestFor(ec(all) as K8sObject, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: ec(before) as K8sObject }),
      };
    }
    const spec = podSpec(g);
    const pod = (list: unknown[]) => ({ apiVersion: 'v1', kind: 'Pod', metadata: metadata(g), spec: { ...spec, ephemeralContainers: list } });
    return {
      compiled,
      request: requestFor(pod(all) as K8sObject, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: pod(before) as K8sObject }),
    };
  }
  const kind = g.pick(KIND_NAMES);
  const k = KINDS[kind]!;
  const obj: Record<string, unknown> = { apiVersion: k.apiVersion, kind };
  set(obj, 'metadata', metadata(g));
  let node = obj;
  for (const key of k.spec.slice(0, -1)) {
    node = (node[key] = {}) as Record<string, unknown>;
  }
  node[k.spec[k.spec.length - 1]!] = podSpec(g);
  const operation = g.chance(0.75) ? 'CREATE' : 'UPDATE';
  return { compiled, request: requestFor(obj as K8sObject, { operation, dryRun: g.chance(0.1) }) };
}

const MUTATED_POINTER = '/metadata/annotations/bulwark.io~1mutated';

function valueAt(doc: unknown, pointer: string): unknown {
  let node = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Every non-null value of `before` is still in `after`, unchanged (objects may gain members). */
function assertPreserved(before: unknown, after: unknown, path: string): void {
  if (before === null || before === undefined) return;
  if (path === MUTATED_POINTER) return;
  if (Array.isArray(before)) {
    expect(Array.isArray(after), path).toBe(true);
    expect((after as unknown[]).length, path).toBe(before.length);
    before.forEach((item, i) => assertPreserved(item, (after as unknown[])[i], `${path}/${i}`));
  } else if (typeof before === 'object') {
    expect(after !== null && typeof after === 'object' && !Array.isArray(after), path).toBe(true);
    for (const [key, value] of Object.entries(before)) {
      const child = (after as Record<string, unknown>)[key];
      if (value !== null) expect(Object.prototype.hasOwnProperty.call(after, key), `${path}/${key}`).toBe(true);
      assertPreserved(value, child, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    }
  } else {
    expect(after, path).toBe(before);
  }
}

const rec = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const unset = (v: unknown): boolean => v === undefined || v === null;

/** What the API server would reject in the fields Bulwark adds (validation of the pod spec). */
function assertAcceptableAdditions(before: unknown, after: unknown, label: string): void {
  const subject = toSubject(after as K8sObject);
  const old = toSubject(before as K8sObject);
  if (!subject || subject.type !== 'pod' || !old || old.type !== 'pod') return;
  const windows = rec(subject.spec.os).name === 'windows';
  const podSc = rec(subject.spec.securityContext);
  const oldPodSc = rec(old.spec.securityContext);
  if (unset(oldPodSc.seccompProfile) && !unset(podSc.seccompProfile)) {
    expect(windows, `${label}: seccompProfile on a Windows pod`).toBe(false);
    const annotations = Object.keys(rec(subject.podMeta.annotations));
    expect(
      annotations.some((k) => k.includes('seccomp.security.alpha.kubernetes.io')),
      `${label}: seccomp field beside a legacy annotation`,
    ).toBe(false);
  }
  if (unset(oldPodSc.runAsNonRoot) && podSc.runAsNonRoot === true) {
    expect(podSc.runAsUser === 0, `${label}: runAsNonRoot with runAsUser 0`).toBe(false);
  }
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const items = subject.spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((c, i) => {
      const oldC = (old.spec[list] as unknown[])[i];
      const sc = rec(rec(c).securityContext);
      const oldSc = rec(rec(oldC).securityContext);
      if (windows) expect(sc, `${label}: new securityContext fields on a Windows pod`).toEqual(oldSc);
      if (unset(oldSc.allowPrivilegeEscalation) && sc.allowPrivilegeEscalation === false) {
        const add = rec(sc.capabilities).add;
        expect(sc.privileged === true, `${label}: allowPrivilegeEscalation=false on a privileged container`).toBe(false);
        expect(Array.isArray(add) && add.includes('CAP_SYS_ADMIN'), `${label}: allowPrivilegeEscalation=false with CAP_SYS_ADMIN`).toBe(false);
      }
      if (podSc.runAsNonRoot === true && unset(oldPodSc.runAsNonRoot)) {
        expect(sc.runAsUser === 0, `${label}: runAsNonRoot with a container runAsUser 0`).toBe(false);
      }
      if (list === 'ephemeralContainers') expect(rec(c).resources, `${label}: resources on an ephemeral container`).toEqual(rec(oldC).resources);
    });
  }
}

const pss = compileConfig({ ...defaultConfig(), profiles: ['pss-restricted'] });
function pssFindings(obj: unknown): Set<string> {
  const subject = toSubject(obj as K8sObject);
  if (!subject) return new Set();
  return new Set(evaluateSubject(subject, pss).findings.map((f) => `${f.policy} ${f.path}`));
}

describe('property: generated objects', () => {
  const CASES = 1000;
  const g = new Gen(prng(0xb01a4c));
  const cases = Array.from({ length: CASES }, () => generate(g));

  it(`${CASES} cases: patches apply, only add where unset, stay valid, are idempotent, and never worsen pss-restricted`, () => {
    let patched = 0;
    let fixed = 0;
    const seen = new Set<string>();
    for (const [i, { request, compiled }] of cases.entries()) {
      const label = `case ${i}: ${JSON.stringify(request.object)}`;
      const snapshot = structuredClone(request.object);
      const result = computeMutation(request, compiled);
      expect(request.object, label).toEqual(snapshot); // computeMutation is pure
      for (const op of result.patch) {
        expect(op.op, label).toBe('add');
        if (op.path !== MUTATED_POINTER) {
          const existing = valueAt(request.object, op.path);
          expect(existing === undefined || existing === null, `${label} ${op.path}`).toBe(true);
        }
      }
      expect(new Set(result.patch.map((op) => op.path)).size, label).toBe(result.patch.length);
      let after: unknown;
      expect(() => (after = applyPatch(request.object, result.patch)), label).not.toThrow();
      assertPreserved(request.object, after, '');
      assertAcceptableAdditions(request.object, after, label);
      const again = computeMutation({ ...request, object: after as K8sObject }, compiled);
      expect(again.patch, label).toEqual([]);
      const before = pssFindings(request.object);
      const afterFindings = pssFindings(after);
      for (const f of afterFindings) expect(before.has(f), `${label}: new finding ${f}`).toBe(true);
      fixed += before.size - afterFindings.size;
      if (result.patch.length > 0) patched++;
      for (const id of result.applied) seen.add(id);
    }
    // Not vacuous: the PSS checks run, and the patches resolve some of their findings.
    expect(pss.checks.length).toBeGreaterThan(0);
    expect(fixed).toBeGreaterThan(CASES / 2);
    // The generator must exercise the mutations, not just the refusals.
    expect(patched).toBeGreaterThan(CASES / 3);
    expect([...seen].sort()).toEqual([
      'default-resources',
      'drop-all-capabilities',
      'no-privilege-escalation',
      'read-only-root-filesystem',
      'run-as-non-root',
      'seccomp-runtime-default',
    ]);
  });
});
