// Robustness (fuzz) suite, seeded and deterministic: realistic objects of every subject kind, audit
// events and whole AdmissionReviews are mutated structurally (nulls, deletions, numbers, NaN-like
// strings, booleans, huge strings and arrays, deep nesting, arrays for objects and back, keys like
// `__proto__`, `constructor`, `toString`, `/`, `~`, unicode) and run through every entry point's
// pure path. DESIGN.md: "Bad input gets a clear error … never a crash, a hang or a lost alert".
// A check that throws on garbage is a bug (its `errors` entry must stay empty), messages stay
// human, patches only add, reviews get a clean 4xx error or a well-formed response echoing uid.
//
// A failure prints its seed: `FUZZ_SEED=<seed> npx vitest run test/fuzz.test.ts` replays the
// stream from there; the cases found so far are pinned as regression tests at the bottom.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/model.js';
import { AuditAnalyser } from '../audit/analyser.js';
import { auditEventProblem, type AuditEvent } from '../audit/event.js';
import { isRequestReceivedLine, skimLine } from '../audit/skim.js';
import { compileConfig, type CompiledConfig } from '../policies/config.js';
import { defaultConfig } from '../config/load.js';
import { evaluateSubject } from '../policies/evaluate.js';
import { POD_BEARING_KINDS, SUBJECT_KINDS, toSubject } from '../policies/subject.js';
import { type K8sObject } from '../policies/types.js';
import { isSeverity } from '../core/severity.js';
import type { AdmissionRequest } from '../webhook/admission.js';
import { decide } from '../webhook/decide.js';
import { decisionAlert } from '../webhook/decision-alert.js';
import { computeMutation } from '../webhook/mutate.js';
import { encodeAdmissionResponse, encodeAllowed, nameOf, parseAdmissionReview } from '../webhook/review.js';
import { newAlert } from '../alerts/model.js';
import { boundAlert } from '../alerts/bound.js';
import { prng } from './support/prng.js';
import { goJSON, goLine, skimmedFieldsOf } from './audit/helpers.js';

// ---------------------------------------------------------------------------------------------
// PRNG and generators

class Gen {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }
  chance(p: number): boolean {
    return this.random() < p;
  }
  int(max: number): number {
    return Math.floor(this.random() * (max + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
}

const BASE_SEED = Number(process.env.FUZZ_SEED ?? 20240601);

/** Sets an own, enumerable property, as JSON.parse does (`obj.__proto__ = x` would set the prototype). */
function setOwn(obj: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep copy keeping own `__proto__` keys, NaN, Infinity (YAML has `.nan`, `.inf`). */
function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) setOwn(out, key, clone((value as Record<string, unknown>)[key]));
    return out as T;
  }
  return value;
}

/** What comes over the wire: JSON only (NaN → null, undefined dropped). */
function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const HUGE_STRING = 'A'.repeat(70_000);
const ODD_KEYS = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '/',
  '~',
  '~1',
  'a/b~c',
  '',
  ' ',
  'ü',
  '名前',
  '😀',
  '\u0000',
  'length',
  '0',
  '-1',
];
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__'];
const ODD_STRINGS = [
  '',
  'NaN',
  'undefined',
  'null',
  '[object Object]',
  'true',
  '0',
  '-1',
  '1e309',
  'Infinity',
  ' ',
  '\n',
  '\u202e\u0000',
  '😀',
  'ünïcødé',
  '*',
  '/',
  '~',
  '..',
  '/..',
  '__proto__',
  'constructor',
  'toString',
];

function deepNest(depth: number): unknown {
  let v: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) v = i % 2 ? { n: v } : [v];
  return v;
}

/** Whether a value is small enough to copy thousands of times (the suite must stay fast). */
function isSmall(value: unknown, budget = { n: 200 }): boolean {
  if (typeof value === 'string') return (budget.n -= 1 + value.length / 100) > 0;
  if (typeof value !== 'object' || value === null) return --budget.n > 0;
  for (const v of Object.values(value)) if (!isSmall(v, budget)) return false;
  return --budget.n > 0;
}

/** A garbage value, sometimes shaped like what was there. */
function garbage(g: Gen, old: unknown): unknown {
  switch (g.int(24)) {
    case 0:
      return null;
    case 1:
      return g.pick([0, -1, 1, 1.5, -0, 2 ** 53, -(2 ** 31), 65536, 1e308, -1e-308]);
    case 2:
      return g.pick([NaN, Infinity, -Infinity]);
    case 3:
      return g.chance(0.5);
    case 4:
      return g.pick(ODD_STRINGS);
    case 5:
      return HUGE_STRING;
    case 6:
      return [];
    case 7:
      return {};
    case 8: {
      // a huge array, of copies of what was there when that is small
      const copy = old !== undefined && isSmall(old) && g.chance(0.5);
      return Array.from({ length: g.pick([1000, 5000]) }, (_, i) => (copy ? clone(old) : i));
    }
    case 9:
      return [old === undefined ? null : clone(old)]; // an array where an object (or a scalar) was
    case 10: // an object where an array was
      if (Array.isArray(old)) {
        const o: Record<string, unknown> = {};
        old.forEach((v, i) => setOwn(o, String(i), clone(v)));
        return o;
      }
      return { value: clone(old) };
    case 11:
      return deepNest(g.pick([3, 50, 400]));
    case 12:
      return JSON.parse('{"__proto__":{"polluted":true,"name":"x"},"constructor":{"prototype":{"x":1}}}');
    case 13:
      return { toString: 1, valueOf: {} };
    case 14:
      return { length: 3, 0: 'a' };
    case 15:
      return [null, undefined, 1, 'a', {}, []];
    case 16:
      return Array.from({ length: 300 }, () => HUGE_STRING.slice(0, 100));
    case 17:
      return (typeof old === 'string' || typeof old === 'number' ? String(old) : '') + g.pick(ODD_STRINGS);
    case 18:
      return typeof old === 'number' ? String(old) : typeof old === 'string' && /^\d+$/.test(old) ? Number(old) : g.pick(ODD_STRINGS);
    case 19:
      return g.pick([
        'kernel.shm_rmid_forced',
        'SYS_ADMIN',
        'ALL',
        'Unconfined',
        'RuntimeDefault',
        'Localhost',
        'windows',
        '/var/run/docker.sock',
        '/',
        'cluster-admin',
        'system:anonymous',
        '*',
      ]);
    case 20:
      return { a: { b: { c: [{ d: null }] } } };
    case 21:
      return [[[]]];
    case 22:
      return g.pick([-1, 0, 1]).toString(16);
    case 23:
      return ['ALL', 'SYS_ADMIN', 'CAP_SYS_ADMIN', 'sys_admin', 7, null, { add: 'x' }];
    default:
      return undefined;
  }
}

type Loc = { parent: Record<string, unknown> | unknown[]; key: string | number; depth: number };

/** Every (parent, key) slot in the value, up to a depth. */
function slots(root: unknown, maxDepth = 14): Loc[] {
  const out: Loc[] = [];
  const walk = (node: unknown, depth: number) => {
    if (depth > maxDepth || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      if (node.length > 50) return; // huge arrays a previous mutation made: do not walk them
      node.forEach((v, i) => {
        out.push({ parent: node, key: i, depth });
        walk(v, depth + 1);
      });
    } else {
      for (const key of Object.keys(node)) {
        out.push({ parent: node as Record<string, unknown>, key, depth });
        walk((node as Record<string, unknown>)[key], depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}

function objectNodes(root: unknown): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (node: unknown, depth: number) => {
    if (depth > 14 || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      if (node.length <= 50) node.forEach((v) => walk(v, depth + 1));
      return;
    }
    out.push(node as Record<string, unknown>);
    for (const v of Object.values(node)) walk(v, depth + 1);
  };
  walk(root, 0);
  return out;
}

/** Applies 1–4 structural mutations in place; returns what it did, for the failure report. */
function mutateInPlace(g: Gen, root: Record<string, unknown>, protect: readonly string[] = []): string[] {
  const done: string[] = [];
  const n = 1 + g.int(3);
  for (let m = 0; m < n; m++) {
    if (g.chance(0.15)) {
      const nodes = objectNodes(root);
      const node = g.pick(nodes);
      const key = g.pick(ODD_KEYS);
      const value = garbage(g, undefined);
      setOwn(node, key, value);
      done.push(`add key ${JSON.stringify(key)} = ${short(value)}`);
      continue;
    }
    const all = slots(root).filter((s) => !(s.parent === root && protect.includes(String(s.key))));
    if (all.length === 0) break;
    if (g.chance(0.12)) {
      // A string field named like an Object.prototype member: catches `TABLE[userString]` lookups.
      const strings = all.filter((s) => typeof (s.parent as Record<string, unknown>)[s.key] === 'string');
      if (strings.length) {
        const slot = g.pick(strings);
        const value = g.pick(PROTO_NAMES);
        setOwn(slot.parent, slot.key, value);
        done.push(`${pathOf(root, slot)} = ${JSON.stringify(value)}`);
        continue;
      }
    }
    const slot = g.pick(all);
    const old = (slot.parent as Record<string, unknown>)[slot.key];
    const where = `${pathOf(root, slot)}`;
    if (g.chance(0.15)) {
      if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
      else delete slot.parent[slot.key as string];
      done.push(`delete ${where}`);
      continue;
    }
    const value = garbage(g, old);
    if (value === undefined && !Array.isArray(slot.parent)) delete slot.parent[slot.key as string];
    else setOwn(slot.parent, slot.key, value);
    done.push(`${where} = ${short(value)}`);
  }
  return done;
}

function pathOf(root: unknown, slot: Loc): string {
  // Re-find the slot's path (only for reports; cheap enough at these sizes).
  const find = (node: unknown, prefix: string, depth: number): string | undefined => {
    if (node === slot.parent) return `${prefix}${typeof slot.key === 'number' ? `[${slot.key}]` : `.${slot.key}`}`;
    if (depth > 14 || typeof node !== 'object' || node === null) return undefined;
    for (const [k, v] of Object.entries(node)) {
      const hit = find(v, Array.isArray(node) ? `${prefix}[${k}]` : `${prefix}.${k}`, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  };
  return find(root, '', 0) ?? '?';
}

function short(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}… (${s.length} chars)` : s;
}

// ---------------------------------------------------------------------------------------------
// What a human message must not contain (quoted user values are allowed to say anything)

const BAD_TOKENS = ['undefined', '[object Object]', 'NaN', '[native code]', 'function '];

/**
 * The input's own strings that hold a bad token (a user named `NaN`, a pod named `undefined`):
 * a message may repeat those verbatim; a bad token from anywhere else is code coercing a value.
 */
function suspectInputs(input: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, depth: number) => {
    if (typeof v === 'string') {
      if (BAD_TOKENS.some((t) => v.includes(t))) out.add(v);
    } else if (typeof v === 'object' && v !== null && depth < 40) {
      for (const x of Object.values(v)) walk(x, depth + 1);
    }
  };
  walk(input, 0);
  return [...out].sort((a, b) => b.length - a.length);
}

function inhuman(text: unknown, inputs: readonly string[] = []): string | undefined {
  if (typeof text !== 'string') return `not a string: ${short(text)}`;
  if (text.trim() === '') return 'empty';
  let unquoted = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const s of inputs) unquoted = unquoted.split(s).join('');
  for (const bad of BAD_TOKENS) if (unquoted.includes(bad)) return `contains ${JSON.stringify(bad)}: ${text.slice(0, 300)}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The corpus: realistic objects of every subject kind

const SEC_ANNOTATIONS = {
  'seccomp.security.alpha.kubernetes.io/pod': 'unconfined',
  'container.seccomp.security.alpha.kubernetes.io/app': 'unconfined',
  'container.apparmor.security.beta.kubernetes.io/app': 'unconfined',
  'container.apparmor.security.beta.kubernetes.io/init': 'localhost/x',
};

function riskyPodSpec(): Record<string, unknown> {
  return {
    hostNetwork: true,
    hostPID: true,
    hostIPC: true,
    hostUsers: true,
    os: { name: 'linux' },
    serviceAccountName: 'default',
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      fsGroup: 0,
      supplementalGroups: [0],
      seccompProfile: { type: 'Unconfined' },
      appArmorProfile: { type: 'Unconfined' },
      seLinuxOptions: { type: 'spc_t', user: 'system_u', role: 'sysadm_r', level: 's0' },
      sysctls: [
        { name: 'kernel.shm_rmid_forced', value: '1' },
        { name: 'net.core.somaxconn', value: '1024' },
      ],
      windowsOptions: { hostProcess: false },
    },
    containers: [
      {
        name: 'app',
        image: 'xmrig/xmrig:6.21',
        command: ['xmrig'],
        args: ['-o', 'stratum+tcp://pool.minexmr.com:4444', '--donate-level=1'],
        ports: [{ containerPort: 8080, hostPort: 8080, protocol: 'TCP' }],
        env: [
          { name: 'POOL', value: 'stratum+tcp://x' },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
        resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } },
        securityContext: {
          privileged: true,
          allowPrivilegeEscalation: true,
          readOnlyRootFilesystem: false,
          runAsUser: 0,
          runAsNonRoot: false,
          procMount: 'Unmasked',
          capabilities: { add: ['SYS_ADMIN', 'NET_RAW', 'CAP_SYS_PTRACE', 'BPF'], drop: ['MKNOD'] },
          seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/x.json' },
          appArmorProfile: { type: 'Localhost', localhostProfile: 'x' },
          seLinuxOptions: { type: 'container_t' },
          windowsOptions: { hostProcess: true },
        },
        volumeMounts: [
          { name: 'docker', mountPath: '/var/run/docker.sock' },
          { name: 'root', mountPath: '/host', readOnly: true },
        ],
        livenessProbe: { httpGet: { host: '10.0.0.1', port: 8080, path: '/' }, tcpSocket: { host: 'evil', port: 22 } },
        readinessProbe: { tcpSocket: { host: 'metadata.google.internal', port: 80 } },
        startupProbe: { exec: { command: ['true'] } },
        lifecycle: { postStart: { httpGet: { host: '169.254.169.254', port: 80 } }, preStop: { tcpSocket: { host: 'x', port: 1 } } },
      },
      {
        name: 'sidecar',
        image: 'docker.io/library/busybox@sha256:abc',
        securityContext: { capabilities: { add: ['ALL'] }, allowPrivilegeEscalation: false },
      },
    ],
    initContainers: [
      {
        name: 'init',
        image: 'busybox:1.36',
        securityContext: { privileged: true, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
        restartPolicy: 'Always',
      },
    ],
    ephemeralContainers: [
      { name: 'debug', image: 'nicolaka/netshoot', targetContainerName: 'app', securityContext: { capabilities: { add: ['SYS_PTRACE'] }, privileged: true } },
    ],
    volumes: [
      { name: 'docker', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } },
      { name: 'root', hostPath: { path: '//etc/../' } },
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'data', nfs: { server: 'nfs', path: '/exports' } },
      { name: 'tmp', emptyDir: {} },
      { name: 'eph', ephemeral: { volumeClaimTemplate: { spec: {} } } },
      { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 't' } }] } },
    ],
  };
}

function hardenedPodSpec(): Record<string, unknown> {
  return {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'web',
        image: 'nginxinc/nginx-unprivileged:1.27-alpine',
        ports: [{ containerPort: 8080 }],
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: {} }],
  };
}

const POD_META = (ns: string) => ({ name: 'web', namespace: ns, labels: { app: 'web' }, annotations: { ...SEC_ANNOTATIONS } });
const TEMPLATE = (spec: Record<string, unknown>) => ({ metadata: { labels: { app: 'web' }, annotations: { ...SEC_ANNOTATIONS } }, spec });

function podBearing(kind: string, spec: Record<string, unknown>, ns = 'kube-system'): K8sObject {
  const meta = { name: `x-${kind.toLowerCase()}`, namespace: ns, labels: { app: 'web' } };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata: POD_META(ns), spec };
    case 'PodTemplate':
      return { apiVersion: 'v1', kind, metadata: meta, template: TEMPLATE(spec) };
    case 'ReplicationController':
      return { apiVersion: 'v1', kind, metadata: meta, spec: { replicas: 1, selector: { app: 'web' }, template: TEMPLATE(spec) } };
    case 'Job':
      return { apiVersion: 'batch/v1', kind, metadata: meta, spec: { backoffLimit: 1, template: TEMPLATE({ ...spec, restartPolicy: 'Never' }) } };
    case 'CronJob':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata: meta,
        spec: { schedule: '*/5 * * * *', jobTemplate: { metadata: {}, spec: { template: TEMPLATE({ ...spec, restartPolicy: 'OnFailure' }) } } },
      };
    default:
      return { apiVersion: 'apps/v1', kind, metadata: meta, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: TEMPLATE(spec) } };
  }
}

function compactCorpus(): K8sObject[] {
  const out: K8sObject[] = [];
  for (const kind of POD_BEARING_KINDS) {
    out.push(podBearing(kind, riskyPodSpec()));
    out.push(podBearing(kind, hardenedPodSpec(), 'default'));
  }
  out.push({
    apiVersion: 'v1',
    kind: 'EphemeralContainers',
    metadata: { name: 'web', namespace: 'default' },
    ephemeralContainers: [
      { name: 'debug', image: 'busybox', targetContainerName: 'app', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } },
      { name: 'shell', image: 'kali/kali', stdin: true, tty: true },
    ],
  });
  const rules = [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['secrets'], resourceNames: ['one'], verbs: ['get'] },
    { apiGroups: [''], resources: ['pods/exec', 'pods/*', '*/attach', 'serviceaccounts/token', 'nodes/proxy'], verbs: ['create', 'get'] },
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'roles'], verbs: ['bind', 'escalate'] },
    { apiGroups: [''], resources: ['users', 'groups', 'serviceaccounts'], verbs: ['impersonate'] },
    { apiGroups: ['authentication.k8s.io'], resources: ['uids'], verbs: ['impersonate'] },
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['patch'], resourceNames: ['bulwark'] },
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['delete'] },
    { apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['approve'] },
    { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] },
    { nonResourceURLs: ['*'], verbs: ['*'] },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] },
  ];
  out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'team-a' }, rules });
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'cr', labels: { 'rbac.example.com/aggregate': 'true' } },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
    rules,
  });
  const subjects = [
    { kind: 'User', name: 'system:anonymous', apiGroup: 'rbac.authorization.k8s.io' },
    { kind: 'Group', name: 'system:unauthenticated' },
    { kind: 'ServiceAccount', name: 'default', namespace: 'ci' },
    { kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' },
  ];
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'rb', namespace: 'team-a' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects,
  });
  out.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'crb' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects,
  });
  out.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes-dashboard', namespace: 'kubernetes-dashboard' },
    spec: {
      type: 'NodePort',
      selector: { 'k8s-app': 'kubernetes-dashboard' },
      externalIPs: ['1.2.3.4'],
      ports: [{ port: 443, targetPort: 8443, nodePort: 30443 }],
    },
  });
  out.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'LoadBalancer', selector: { app: 'headlamp' }, ports: [{ port: 80 }] },
  });
  out.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'dash', namespace: 'kube-system' },
    spec: {
      defaultBackend: { service: { name: 'kubernetes-dashboard', port: { number: 443 } } },
      rules: [
        { host: 'dash.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'headlamp', port: { number: 80 } } } }] } },
        { http: { paths: [{ backend: { serviceName: 'weave-scope-app', servicePort: 80 } }] } },
      ],
      tls: [{ hosts: ['dash.example.com'], secretName: 'tls' }],
    },
  });
  out.push({
    apiVersion: 'extensions/v1beta1',
    kind: 'Ingress',
    metadata: { name: 'old', namespace: 'x' },
    spec: { backend: { serviceName: 'kubernetes-dashboard', servicePort: 443 } },
  });
  return out;
}

function fileCorpus(): K8sObject[] {
  const files = [
    'examples/manifests/cluster-admin-binding.yaml',
    'examples/manifests/docker-sock-deployment.yaml',
    'examples/manifests/hardened-deployment.yaml',
    'examples/manifests/privileged-pod.yaml',
    'test/fixtures/scan/multi.yaml',
    'test/fixtures/scan/pod-list.yaml',
    'test/fixtures/scan/yes-privileged.yaml',
  ];
  const out: K8sObject[] = [];
  const add = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    const o = v as K8sObject;
    if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) o.items.forEach(add);
    else if (typeof o.kind === 'string' && SUBJECT_KINDS.includes(o.kind)) out.push(o);
  };
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(new URL(`../${f}`, import.meta.url), 'utf8');
    } catch {
      continue; // a fixture moved: the compact corpus still covers every kind
    }
    for (const doc of parseAllDocuments(text)) if (!('empty' in doc)) add(doc.toJS());
  }
  return out;
}

const CORPUS: K8sObject[] = [...compactCorpus(), ...fileCorpus()];

// ---------------------------------------------------------------------------------------------
// Configs

const PROFILES = ['defender', 'pss-baseline', 'pss-restricted', 'pss-restricted@v1.0'];
const COMPILED: { profile: string; compiled: CompiledConfig }[] = PROFILES.map((profile) => ({
  profile,
  compiled: compileConfig({ ...defaultConfig(), profiles: [profile] }),
}));
/** Every profile at once, an image exemption, warn for some: what the webhook decision runs. */
const WEBHOOK_COMPILED = compileConfig({
  ...defaultConfig(),
  profiles: ['defender', 'pss-restricted'],
  actions: { 'kube-system-workload': 'warn', 'pss-run-as-non-root': 'audit' },
  exemptions: { namespaces: ['bulwark-system'], usernames: [], groups: [], images: ['registry.k8s.io/*'] },
});
const ALL_MUTATIONS = [
  'seccomp-runtime-default',
  'no-privilege-escalation',
  'drop-all-capabilities',
  'run-as-non-root',
  'read-only-root-filesystem',
  'default-resources',
];
const MUTATE_COMPILED = compileConfig({
  ...defaultConfig(),
  mutations: ALL_MUTATIONS,
  mutationDefaults: { resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } } },
  exemptions: { namespaces: [], usernames: [], groups: [], images: ['busybox*'] },
});

// ---------------------------------------------------------------------------------------------
// Assertions shared by the fuzz loops and the regression cases

/** toSubject + evaluateSubject under every profile: the problems, empty when all is well. */
function evaluationProblems(obj: K8sObject): string[] {
  const problems: string[] = [];
  const inputs = suspectInputs(obj);
  let subject;
  try {
    subject = toSubject(obj);
  } catch (err) {
    return [`toSubject threw: ${(err as Error).stack}`];
  }
  if (!subject) return problems;
  const ctx = { user: { username: 'alice', groups: ['devs'] }, operation: 'CREATE' };
  for (const { profile, compiled } of COMPILED) {
    let evaluation;
    try {
      evaluation = evaluateSubject(subject, compiled, ctx);
    } catch (err) {
      problems.push(`${profile}: evaluateSubject threw: ${(err as Error).stack}`);
      continue;
    }
    for (const e of evaluation.errors) problems.push(`${profile}: check ${e.policy} threw: ${e.error.stack?.split('\n').slice(0, 4).join(' | ')}`);
    for (const f of evaluation.findings) {
      if (typeof f.policy !== 'string' || f.policy === '') problems.push(`${profile}: finding without policy: ${short(f)}`);
      if (!isSeverity(f.severity)) problems.push(`${profile}: ${f.policy}: unknown severity ${short(f.severity)}`);
      const bad = inhuman(f.message, inputs);
      if (bad) problems.push(`${profile}: ${f.policy}: message ${bad}`);
      if (typeof f.path !== 'string') problems.push(`${profile}: ${f.policy}: path is not a string: ${short(f.path)}`);
      if (f.image !== undefined && typeof f.image !== 'string') problems.push(`${profile}: ${f.policy}: image is not a string`);
    }
  }
  return problems;
}

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

function requestAround(obj: unknown, operation: 'CREATE' | 'UPDATE', old?: unknown): AdmissionRequest {
  const o = (typeof obj === 'object' && obj !== null ? obj : {}) as Record<string, unknown>;
  const kind = typeof o.kind === 'string' ? o.kind : 'Pod';
  const ephemeral = kind === 'EphemeralContainers';
  return {
    uid: UID,
    kind: { group: '', version: 'v1', kind },
    resource: { group: '', version: 'v1', resource: ephemeral ? 'pods' : `${kind.toLowerCase()}s` },
    ...(ephemeral ? { subResource: 'ephemeralcontainers' } : {}),
    namespace: 'team-a',
    name: 'web',
    operation,
    userInfo: { username: 'alice', groups: ['devs', 'system:authenticated'] },
    object: obj as K8sObject,
    oldObject: (operation === 'UPDATE' ? (old ?? null) : null) as K8sObject | null,
    dryRun: false,
  };
}

function mutationProblems(request: AdmissionRequest): string[] {
  let result;
  try {
    result = computeMutation(request, MUTATE_COMPILED);
  } catch (err) {
    return [`computeMutation(${request.operation}) threw: ${(err as Error).stack?.split('\n').slice(0, 4).join(' | ')}`];
  }
  const problems: string[] = [];
  for (const op of result.patch) {
    if (op.op !== 'add') problems.push(`patch op ${op.op} at ${op.path}`);
    if (typeof op.path !== 'string' || !op.path.startsWith('/')) problems.push(`patch path ${short(op.path)}`);
  }
  try {
    JSON.stringify(result.patch);
  } catch (err) {
    problems.push(`patch does not serialise: ${(err as Error).message}`);
  }
  return problems;
}

function alertProblems(alert: Alert, where: string, inputs: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (typeof alert.type !== 'string' || alert.type === '') problems.push(`${where}: alert without type`);
  if (!isSeverity(alert.severity)) problems.push(`${where}: ${alert.type}: severity ${short(alert.severity)}`);
  for (const [name, text] of [
    ['message', alert.message],
    ['title', alert.title],
  ] as const) {
    const bad = inhuman(text, inputs);
    if (bad) problems.push(`${where}: ${alert.type}: ${name} ${bad}`);
  }
  for (const k of ['group', 'version', 'kind', 'name'] as const) {
    if (typeof alert.resource?.[k] !== 'string') problems.push(`${where}: ${alert.type}: resource.${k} is ${short(alert.resource?.[k])}`);
  }
  const kindBad = alert.resource && typeof alert.resource.kind === 'string' ? inhuman(alert.resource.kind || 'x', inputs) : undefined;
  if (kindBad) problems.push(`${where}: ${alert.type}: resource.kind ${kindBad}`);
  if (typeof alert.namespace !== 'string') problems.push(`${where}: ${alert.type}: namespace ${short(alert.namespace)}`);
  if (typeof alert.user?.username !== 'string' || !Array.isArray(alert.user.groups)) problems.push(`${where}: ${alert.type}: user ${short(alert.user)}`);
  if (typeof alert.firstSeen !== 'string' || typeof alert.lastSeen !== 'string') problems.push(`${where}: ${alert.type}: times`);
  try {
    JSON.stringify(alert);
  } catch (err) {
    problems.push(`${where}: ${alert.type}: alert does not serialise: ${(err as Error).message}`);
  }
  return problems;
}

/** The webhook path of one review body, as server.ts runs it. */
function reviewProblems(body: unknown): string[] {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) {
    const bad = typeof parsed.error === 'string' && parsed.error.length > 0 && parsed.error.length < 2000 ? undefined : `error ${short(parsed.error)}`;
    return bad ? [bad] : [];
  }
  const request = parsed.request;
  const problems: string[] = [];
  const inputs = suspectInputs(body);
  let decision;
  try {
    decision = decide({
      request,
      compiled: WEBHOOK_COMPILED,
      namespaceModes: { modeOf: (ns) => (ns === 'warned' ? 'warn' : undefined) },
      serverNamespace: 'bulwark-system',
    });
  } catch (err) {
    return [`decide threw: ${(err as Error).stack?.split('\n').slice(0, 5).join(' | ')}`];
  }
  for (const e of decision.errors) problems.push(`decide: check ${e.policy} threw: ${e.error.stack?.split('\n').slice(0, 4).join(' | ')}`);
  const text = decision.response ? encodeAdmissionResponse(decision.response) : encodeAllowed(request.uid);
  const review = JSON.parse(text) as { response: Record<string, unknown> };
  if (review.response.uid !== request.uid) problems.push(`uid not echoed: ${short(review.response.uid)}`);
  if (typeof review.response.allowed !== 'boolean') problems.push('allowed is not a boolean');
  const lines = [
    ...((review.response.warnings as string[] | undefined) ?? []),
    ...(typeof (review.response.status as { message?: unknown } | undefined)?.message === 'string'
      ? (review.response.status as { message: string }).message.split('\n')
      : []),
  ];
  for (const line of lines) {
    if (!/^\[[a-z0-9-]+\] /.test(line)) problems.push(`line without [policy] prefix: ${line.slice(0, 120)}`);
    const bad = inhuman(line, inputs);
    if (bad) problems.push(`response line ${bad}`);
  }
  if (decision.findings.length > 0) {
    try {
      const alert = newAlert(decisionAlert(decision, request, WEBHOOK_COMPILED, nameOf(request), new Date(0)));
      problems.push(...alertProblems(alert, 'decisionAlert', inputs));
    } catch (err) {
      problems.push(`decisionAlert threw: ${(err as Error).stack?.split('\n').slice(0, 4).join(' | ')}`);
    }
  }
  problems.push(...mutationProblems(request));
  return problems;
}

function report(failures: string[]): string {
  return `${failures.length} failing cases; the first ones:\n${failures.slice(0, 8).join('\n\n')}`;
}

// ---------------------------------------------------------------------------------------------
// The fuzz loops

const OBJECT_MUTANTS_PER_BASE = Math.ceil(3300 / CORPUS.length);

describe('fuzz: policies on mutated objects of every subject kind', () => {
  it('covers every subject kind', () => {
    const kinds = new Set(CORPUS.map((o) => o.kind));
    for (const kind of SUBJECT_KINDS) expect(kinds, kind).toContain(kind);
  });

  it(`evaluates ≥ 3000 mutants under ${PROFILES.join(', ')} without a throwing check or an inhuman finding`, () => {
    const failures: string[] = [];
    let count = 0;
    CORPUS.forEach((base, b) => {
      for (let i = 0; i < OBJECT_MUTANTS_PER_BASE; i++) {
        const seed = BASE_SEED + b * 10_000 + i;
        const g = new Gen(seed);
        const mutant = clone(base) as Record<string, unknown>;
        const did = mutateInPlace(g, mutant, g.chance(0.9) ? ['kind'] : []);
        count++;
        const problems = evaluationProblems(mutant);
        if (problems.length) failures.push(`seed ${seed} (${String(base.kind)} #${b}): ${did.join('; ')}\n  ${problems.slice(0, 3).join('\n  ')}`);
      }
    });
    expect(count).toBeGreaterThanOrEqual(3000);
    expect(failures, report(failures)).toEqual([]);
  });

  it('computes /mutate patches for pod-bearing mutants (CREATE and UPDATE): only adds, no exception', () => {
    const failures: string[] = [];
    const bases = CORPUS.filter((o) => POD_BEARING_KINDS.includes(String(o.kind)) || o.kind === 'EphemeralContainers');
    bases.forEach((base, b) => {
      for (let i = 0; i < 80; i++) {
        const seed = BASE_SEED + 5_000_000 + b * 10_000 + i;
        const g = new Gen(seed);
        const mutant = clone(base) as Record<string, unknown>;
        const did = mutateInPlace(g, mutant, ['kind']);
        const old = g.chance(0.5) ? clone(base) : mutant;
        for (const op of ['CREATE', 'UPDATE'] as const) {
          const problems = mutationProblems(requestAround(mutant, op, old));
          if (problems.length) failures.push(`seed ${seed} (${String(base.kind)} ${op}): ${did.join('; ')}\n  ${problems.join('\n  ')}`);
        }
      }
    });
    expect(failures, report(failures)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Audit events

function auditCorpus(): AuditEvent[] {
  const text = readFileSync(new URL('./fixtures/audit/session.log', import.meta.url), 'utf8');
  const events = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AuditEvent);
  const RESOURCE: Record<string, [string, string]> = {
    Pod: ['pods', ''],
    PodTemplate: ['podtemplates', ''],
    ReplicationController: ['replicationcontrollers', ''],
    Deployment: ['deployments', 'apps'],
    ReplicaSet: ['replicasets', 'apps'],
    StatefulSet: ['statefulsets', 'apps'],
    DaemonSet: ['daemonsets', 'apps'],
    Job: ['jobs', 'batch'],
    CronJob: ['cronjobs', 'batch'],
    EphemeralContainers: ['pods', ''],
    Role: ['roles', 'rbac.authorization.k8s.io'],
    ClusterRole: ['clusterroles', 'rbac.authorization.k8s.io'],
    RoleBinding: ['rolebindings', 'rbac.authorization.k8s.io'],
    ClusterRoleBinding: ['clusterrolebindings', 'rbac.authorization.k8s.io'],
    Service: ['services', ''],
    Ingress: ['ingresses', 'networking.k8s.io'],
  };
  compactCorpus().forEach((obj, i) => {
    const kind = String(obj.kind);
    const [resource, apiGroup] = RESOURCE[kind]!;
    const meta = obj.metadata as { name?: string; namespace?: string };
    events.push({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: `c0ffee00-0000-4000-8000-${String(i).padStart(12, '0')}`,
      stage: 'ResponseComplete',
      requestURI: `/apis/${apiGroup || 'v1'}/namespaces/${meta.namespace ?? ''}/${resource}`,
      verb: i % 3 === 0 ? 'patch' : i % 3 === 1 ? 'create' : 'update',
      user: { username: 'alice@example.com', groups: ['devs', 'system:authenticated'] },
      ...(i % 4 === 0 ? { impersonatedUser: { username: 'system:serviceaccount:kube-system:default', groups: ['system:serviceaccounts'] } } : {}),
      sourceIPs: ['10.0.0.5'],
      userAgent: i % 5 === 0 ? 'kube-hunter/0.6' : 'kubectl/v1.30.2 (linux/amd64) kubernetes/3968350',
      objectRef: {
        resource,
        namespace: meta.namespace,
        name: meta.name,
        apiGroup,
        apiVersion: 'v1',
        ...(kind === 'EphemeralContainers' ? { subresource: 'ephemeralcontainers' } : {}),
      },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: obj,
      responseObject: obj,
      requestReceivedTimestamp: '2024-06-01T10:00:00.000000Z',
      stageTimestamp: '2024-06-01T10:00:00.010000Z',
    } as AuditEvent);
  });
  return events;
}

describe('fuzz: the audit analyser on mutated audit events', () => {
  it('analyses ≥ 2000 mutated events without an exception, a throwing check or an inhuman alert', () => {
    const base = auditCorpus();
    const checkErrors: string[] = [];
    let current = '';
    const analyser = new AuditAnalyser({
      config: defaultConfig(),
      onCheckError: (e) => checkErrors.push(`${current}: check ${e.policy} threw: ${e.error.stack?.split('\n').slice(0, 4).join(' | ')}`),
    });
    const failures: string[] = [];
    let analysed = 0;
    const perBase = Math.ceil(2200 / base.length);
    base.forEach((ev, b) => {
      for (let i = 0; i < perBase; i++) {
        const seed = BASE_SEED + 9_000_000 + b * 10_000 + i;
        const g = new Gen(seed);
        const mutant = clone(ev) as unknown as Record<string, unknown>;
        mutant.auditID = `${ev.auditID}-${i}`; // each mutant its own request (an ID alerts once)
        const did = mutateInPlace(g, mutant, g.chance(0.9) ? ['auditID', 'stage'] : []);
        const line = wire(mutant); // an audit log line / webhook batch item is JSON
        current = `seed ${seed} (event #${b} ${String(ev.verb)} ${String(ev.objectRef?.resource)}): ${did.join('; ')}`;
        const problem = auditEventProblem(line);
        if (problem !== undefined) {
          if (typeof problem !== 'string' || problem === '') failures.push(`${current}\n  auditEventProblem gave ${short(problem)}`);
          continue;
        }
        analysed++;
        let alerts: readonly Alert[];
        try {
          alerts = analyser.analyse(line as unknown as AuditEvent);
        } catch (err) {
          failures.push(`${current}\n  analyse threw: ${(err as Error).stack?.split('\n').slice(0, 5).join(' | ')}`);
          continue;
        }
        const inputs = alerts.length ? suspectInputs(line) : [];
        const problems = alerts.flatMap((a) => alertProblems(a, 'audit', inputs));
        if (problems.length) failures.push(`${current}\n  ${problems.slice(0, 3).join('\n  ')}`);
      }
    });
    expect(analysed).toBeGreaterThan(1500);
    expect([...failures, ...checkErrors], report([...failures, ...checkErrors])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// AdmissionReviews

function reviewCorpus(): Record<string, unknown>[] {
  return compactCorpus().map((obj, i) => {
    const request = requestAround(obj, i % 2 ? 'UPDATE' : 'CREATE', i % 4 === 1 ? clone(obj) : undefined);
    if (i % 4 === 3) (request as unknown as Record<string, unknown>).oldObject = { ...clone(obj), metadata: { name: 'old' } };
    if (i % 5 === 0) request.namespace = 'warned';
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
  });
}

describe('fuzz: AdmissionReview parsing, decision and patch on mutated reviews', () => {
  it('answers ≥ 2000 mutated reviews with a clean error or a well-formed response echoing uid', () => {
    const base = reviewCorpus();
    const failures: string[] = [];
    const perBase = Math.ceil(2200 / base.length);
    base.forEach((review, b) => {
      for (let i = 0; i < perBase; i++) {
        const seed = BASE_SEED + 13_000_000 + b * 10_000 + i;
        const g = new Gen(seed);
        const mutant = clone(review);
        // Mostly mutate inside the request (where the interesting paths are), sometimes anywhere.
        const target = g.chance(0.85) && typeof mutant.request === 'object' && mutant.request !== null ? (mutant.request as Record<string, unknown>) : mutant;
        const did = mutateInPlace(g, target, g.chance(0.9) ? ['uid', 'operation', 'kind', 'apiVersion'] : []);
        const body = wire(mutant); // the server reads JSON
        const problems = reviewProblems(body);
        if (problems.length)
          failures.push(
            `seed ${seed} (review #${b} of ${String((review.request as { kind: { kind: string } }).kind.kind)}): ${did.join('; ')}\n  ${problems.slice(0, 3).join('\n  ')}`,
          );
      }
    });
    expect(failures, report(failures)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Regression cases: what the fuzzing found, pinned. Titles name the seeds that found them (with
// the default FUZZ_SEED or one of the FUZZ_SEED=k*7777777 runs used while writing this suite).

function pod(spec: Record<string, unknown>, annotations: Record<string, unknown> = {}): K8sObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', annotations }, spec };
}

function findingsOf(obj: K8sObject, profile: string) {
  const evaluation = evaluateSubject(toSubject(obj)!, COMPILED.find((c) => c.profile === profile)!.compiled);
  expect(evaluation.errors.map((e) => `${e.policy}: ${e.error.message}`)).toEqual([]);
  return evaluation.findings;
}

/** A value as JSON.parse makes it from `{"toString":1,"valueOf":{}}`: `String()` of it throws. */
const UNPRINTABLE = () => JSON.parse('{"toString":1,"valueOf":{}}') as unknown;

describe('fuzz regressions: checks tolerate garbage and keep messages human', () => {
  it('capabilities.add holding an object whose toString is not a function (seeds 20260661, 20380688)', () => {
    const obj = pod({
      containers: [{ name: 'app', image: 'i', securityContext: { capabilities: { add: ['SYS_ADMIN', UNPRINTABLE(), 7, ['AUDIT_WRITE']], drop: ['ALL'] } } }],
    });
    expect(evaluationProblems(obj)).toEqual([]);
    const baseline = findingsOf(obj, 'pss-baseline').find((f) => f.policy === 'pss-capabilities-baseline')!;
    // Not a string is never an allowed capability (an array no longer passes as the string it prints as).
    expect(baseline.message).toBe(
      'container "app" must not include "SYS_ADMIN", {"toString":1,"valueOf":{}}, 7, ["AUDIT_WRITE"] in securityContext.capabilities.add',
    );
    const restricted = findingsOf(obj, 'pss-restricted').find((f) => f.policy === 'pss-capabilities-restricted')!;
    expect(restricted.message).toContain('must not include "SYS_ADMIN", {"toString":1,"valueOf":{}}, 7, ["AUDIT_WRITE"] in');
  });

  it('an AppArmor or seccomp annotation, or procMount, that is an unprintable object (seeds 20270684, 20280649, 20300608)', () => {
    const obj = pod(
      { containers: [{ name: 'app', image: 'i', securityContext: { procMount: UNPRINTABLE() } }] },
      {
        'container.apparmor.security.beta.kubernetes.io/app': UNPRINTABLE(),
        'seccomp.security.alpha.kubernetes.io/pod': UNPRINTABLE(),
        'container.seccomp.security.alpha.kubernetes.io/app': { profile: 'unconfined' },
      },
    );
    expect(evaluationProblems(obj)).toEqual([]);
    const messages = findingsOf(obj, 'pss-baseline').map((f) => f.message);
    expect(messages).toContain(
      'pod must not set annotation container.apparmor.security.beta.kubernetes.io/app={"toString":1,"valueOf":{}} (allowed: runtime/default, localhost/*)',
    );
    expect(messages).toContain('container "app" must not set securityContext.procMount to {"toString":1,"valueOf":{}}');
    // The seccomp annotations are read up to v1.18.
    const pinned = findingsOf(obj, 'pss-restricted@v1.0').map((f) => f.message);
    expect(pinned).toContain('pod must not set annotation seccomp.security.alpha.kubernetes.io/pod={"toString":1,"valueOf":{}}');
    expect(pinned).toContain('container "app" must not be given annotation container.seccomp.security.alpha.kubernetes.io/app={"profile":"unconfined"}');
    // Strings read exactly as before.
    const plain = pod({ containers: [{ name: 'app', image: 'i', securityContext: { procMount: 'Unmasked' } }] });
    expect(findingsOf(plain, 'pss-baseline').map((f) => f.message)).toContain('container "app" must not set securityContext.procMount to "Unmasked"');
  });

  it('a hostPort that is an object, a string or NaN is shown as what it is, not [object Object] (seed 20340658)', () => {
    const obj = pod({
      containers: [{ name: 'app', image: 'i', ports: [{ hostPort: { a: { b: 1 } } }, { hostPort: '8080' }, { hostPort: NaN }, { hostPort: 9090 }] }],
    });
    expect(evaluationProblems(obj)).toEqual([]);
    expect(findingsOf(obj, 'pss-baseline').find((f) => f.policy === 'pss-host-ports')!.message).toBe(
      'container "app" must not use hostPort {"a":{"b":1}}, "8080", .nan, 9090',
    );
  });

  it('a binding subject or roleRef of an unknown kind is quoted, never printed bare (seeds 20460642, 20510603, 33450631)', () => {
    const binding: K8sObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'crb' },
      roleRef: { kind: 'undefined', name: 'cluster-admin' },
      subjects: [
        { kind: 'undefined', name: 'system:anonymous' },
        { kind: '[object Object]', name: 'x' },
        { kind: 'Group', name: 'system:unauthenticated' },
        { kind: 5, name: 'y' },
      ],
    };
    expect(evaluationProblems(binding)).toEqual([]);
    const anonymous = findingsOf(binding, 'defender').filter((f) => f.policy === 'anonymous-binding');
    expect(anonymous.map((f) => f.message)).toEqual([
      'ClusterRoleBinding "crb" grants role "cluster-admin" to Group "system:unauthenticated": every request without credentials gets it',
    ]);
    const admin = findingsOf({ ...binding, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } }, 'defender').find(
      (f) => f.policy === 'cluster-admin-binding',
    )!;
    expect(admin.message).toBe(
      'ClusterRoleBinding "crb" grants cluster-admin over the whole cluster to subject "system:anonymous" of kind "undefined", subject "x" of kind "[object Object]", Group "system:unauthenticated", subject "y"',
    );
  });
});

describe('fuzz regressions: audit tables are not looked up on Object.prototype', () => {
  const privileged = podBearing('Pod', { containers: [{ name: 'agent', image: 'i', securityContext: { privileged: true } }] }, 'prod');
  const event = (overrides: Record<string, unknown>): AuditEvent =>
    ({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: `regression-${Math.random()}`,
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/prod/pods',
      verb: 'create',
      user: { username: 'dave@example.com', groups: ['system:authenticated'] },
      sourceIPs: ['10.0.0.9'],
      userAgent: 'kubectl/v1.30.2',
      objectRef: { resource: 'pods', namespace: 'prod', name: 'x-pod', apiVersion: 'v1' },
      responseStatus: { code: 201 },
      requestObject: privileged,
      requestReceivedTimestamp: '2024-06-01T10:00:00.000000Z',
      stageTimestamp: '2024-06-01T10:00:00.010000Z',
      ...overrides,
    }) as AuditEvent;

  it('a verb named like an Object.prototype member is not a write (seeds 17067795, 17137807, 24725574)', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    for (const verb of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const alerts = analyser.analyse(event({ verb }));
      expect(
        alerts.map((a) => a.type),
        verb,
      ).toEqual([]);
    }
    // A real create still alerts, with the verb in words.
    const alerts = analyser.analyse(event({}));
    expect(alerts.map((a) => a.message)).toEqual(['dave@example.com created Pod prod/x-pod: container "agent" must not set securityContext.privileged=true']);
  });

  it('a resource named __proto__, toString, … is shown as that name, and is no webhook configuration (seeds 16947797, 32473331, 40281114)', () => {
    const analyser = new AuditAnalyser({ config: defaultConfig() });
    for (const resource of ['__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'constructor']) {
      const webhook = analyser.analyse(
        event({
          verb: 'patch',
          requestObject: undefined,
          objectRef: { resource, apiGroup: 'admissionregistration.k8s.io', name: 'bulwark', apiVersion: 'v1' },
          user: { username: 'mallory@example.com' },
        }),
      );
      expect(
        webhook.map((a) => a.type),
        resource,
      ).toEqual([]);
      const anonymous = analyser.analyse(
        event({
          verb: 'list',
          requestObject: undefined,
          objectRef: { resource, apiVersion: 'v1' },
          responseStatus: { code: 200 },
          user: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
        }),
      );
      expect(anonymous.length, resource).toBeGreaterThan(0);
      for (const a of anonymous) {
        expect(a.resource.kind).toBe(resource);
        expect(alertProblems(a, resource)).toEqual([]);
      }
    }
    // The configured verbs of a real webhook configuration still alert.
    const real = analyser.analyse(
      event({
        verb: 'patch',
        requestObject: undefined,
        objectRef: { resource: 'validatingwebhookconfigurations', apiGroup: 'admissionregistration.k8s.io', name: 'bulwark', apiVersion: 'v1' },
        user: { username: 'mallory@example.com' },
      }),
    );
    expect(real.map((a) => a.message)).toEqual([
      'mallory@example.com patched validating webhook configuration bulwark',
      "mallory@example.com patched ValidatingWebhookConfiguration bulwark, one of Bulwark's own objects",
    ]);
  });
});

describe('fuzz regressions: no stack overflow and no quadratic time on big reviews', () => {
  it('an UPDATE whose object and oldObject nest 20,000 deep is decided, not thrown (fail-open under onError: allow)', () => {
    const deep = (): unknown => JSON.parse('['.repeat(20_000) + ']'.repeat(20_000));
    const deployment = (): K8sObject => {
      const d = podBearing('Deployment', { containers: [{ name: 'c', image: 'i', securityContext: { privileged: true }, x: deep() }] }, 'team-a');
      return d;
    };
    const same = decide({ request: requestAround(deployment(), 'UPDATE', deployment()), compiled: WEBHOOK_COMPILED });
    expect(same.outcome).toBe('skipped');
    const old = deployment();
    (old.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!.image = 'j';
    const changed = decide({ request: requestAround(deployment(), 'UPDATE', old), compiled: WEBHOOK_COMPILED });
    expect(changed.outcome).toBe('denied');
  });

  it('an ephemeralcontainers UPDATE with 50,000 same-named containers is decided in linear time', () => {
    const eph = () => Array.from({ length: 50_000 }, (_, j) => ({ name: `debug-${j}`, image: 'busybox' }));
    const object = { ...pod({ containers: [{ name: 'app', image: 'i' }], ephemeralContainers: eph() }) };
    const oldObject = { ...pod({ containers: [{ name: 'app', image: 'i' }], ephemeralContainers: eph() }) };
    const request = { ...requestAround(object, 'UPDATE', oldObject), subResource: 'ephemeralcontainers' };
    const started = performance.now();
    const decision = decide({ request, compiled: WEBHOOK_COMPILED });
    expect(decision.outcome).toBe('skipped'); // nothing changed
    expect(performance.now() - started).toBeLessThan(2000); // was ~35 s (a scan of the old list per container)
  });

  it('sensitive-host-mount on 30,000 hostPath volumes and mounts runs in linear time', () => {
    const n = 30_000;
    const obj = pod({
      volumes: Array.from({ length: n }, (_, j) => ({ name: `v${j}`, hostPath: { path: '/etc' } })),
      containers: [{ name: 'app', image: 'i', volumeMounts: Array.from({ length: n }, (_, j) => ({ name: `v${j}`, mountPath: `/m${j}` })) }],
    });
    const started = performance.now();
    const findings = findingsOf(obj, 'defender').filter((f) => f.policy === 'sensitive-host-mount');
    expect(performance.now() - started).toBeLessThan(2000); // was ~10 s (a walk of every mount per volume)
    expect(findings).toHaveLength(n);
    expect(findings[0]!.message).toBe('volume "v0" mounts host path "/etc", the sensitive path /etc; mounted by container "app"');
  });
});

// ---------------------------------------------------------------------------------------------
// Attack shapes (#14 §1, §4): what an intruder inside the cluster sends to blind or evade the rules.
// Each property compares the hostile shape with its plain equivalent, so that an evasion shows up
// as a difference, with the seed that found it.

describe('fuzz: attack shapes', () => {
  const typesOf = (a: AuditAnalyser, ev: AuditEvent) =>
    a
      .analyse(ev)
      .map((x) => x.type)
      .sort();

  it('chosen audit IDs: requests sharing a few client-chosen IDs alert exactly as each would alone', () => {
    const base = auditCorpus().filter((e) => e.stage !== 'RequestReceived');
    const failures: string[] = [];
    for (let run = 0; run < 40; run++) {
      const seed = BASE_SEED + 17_000_000 + run;
      const g = new Gen(seed);
      const ids = ['x', 'deadbeef-0000-4000-8000-000000000000', 'y'.repeat(g.int(2000) + 1)].slice(0, g.int(2) + 1);
      const shared = new AuditAnalyser({ config: defaultConfig() });
      // The attacker opens a long watch with the chosen ID first (pending at ResponseStarted).
      shared.analyse({
        ...clone(base[0]!),
        auditID: ids[0]!,
        stage: 'ResponseStarted',
        verb: 'watch',
        requestReceivedTimestamp: '2024-06-01T09:59:59.000000Z',
      } as AuditEvent);
      for (let i = 0; i < 30; i++) {
        const ev = clone(g.pick(base));
        ev.auditID = g.pick(ids);
        ev.requestReceivedTimestamp = new Date(Date.UTC(2024, 5, 1, 10, 0, run, i)).toISOString().replace('Z', '000Z');
        if (g.chance(0.3)) ev.stage = 'ResponseStarted';
        const alone = typesOf(new AuditAnalyser({ config: defaultConfig() }), clone(ev));
        const together = typesOf(shared, ev);
        if (JSON.stringify(alone) !== JSON.stringify(together))
          failures.push(
            `seed ${seed} #${i} (${String(ev.verb)} ${String(ev.requestURI)} as ${ev.auditID.slice(0, 40)}): alone ${alone.join(',')} / with shared IDs ${together.join(',')}`,
          );
      }
    }
    expect(failures, report(failures)).toEqual([]);
  });

  it('impersonating a system identity never removes an alert the authenticated user would raise, and always adds impersonation-of-system-identity', () => {
    const base = auditCorpus().filter((e) => e.stage !== 'RequestReceived' && !e.impersonatedUser);
    const identities = [
      { username: 'system:kube-scheduler', groups: ['system:authenticated'] },
      { username: 'system:kube-controller-manager', groups: ['system:authenticated'] },
      { username: 'system:apiserver', groups: ['system:masters'] },
      { username: 'system:node:worker-1', groups: ['system:nodes', 'system:authenticated'] },
      { username: 'system:serviceaccount:kube-system:clusterrole-aggregation-controller', groups: ['system:serviceaccounts'] },
      { username: 'system:serviceaccount:cert-manager:cert-manager-cainjector', groups: ['system:serviceaccounts'] },
      { username: 'system:serviceaccount:bulwark-system:bulwark', groups: ['system:serviceaccounts'] },
      { username: 'mallory', groups: ['system:masters', 'system:authenticated'] },
    ];
    const failures: string[] = [];
    base.forEach((ev, b) => {
      const g = new Gen(BASE_SEED + 18_000_000 + b);
      const plain = typesOf(new AuditAnalyser({ config: defaultConfig() }), clone(ev));
      const hostile = clone(ev);
      const who = g.pick(identities);
      hostile.impersonatedUser = who;
      const types = typesOf(new AuditAnalyser({ config: defaultConfig() }), hostile);
      const lost = plain.filter((t) => !types.includes(t));
      if (lost.length || !types.includes('impersonation-of-system-identity'))
        failures.push(`event #${b} as ${who.username}: plain ${plain.join(',')} / impersonated ${types.join(',')}`);
    });
    expect(failures, report(failures)).toEqual([]);
  });

  it('$(VAR) expansion: a pool address cut into env entries at random points is found; $$-escaped, it is not', () => {
    const failures: string[] = [];
    const check = COMPILED.find((c) => c.profile === 'defender')!.compiled;
    for (let i = 0; i < 300; i++) {
      const seed = BASE_SEED + 19_000_000 + i;
      const g = new Gen(seed);
      const address = `${g.pick(['stratum+tcp', 'STRATUM+SSL', 'stratum2+tcp'])}://${g.pick(['pool', 'xmr.pool'])}.example.net:${3000 + g.int(999)}`;
      const cuts = [...new Set(Array.from({ length: g.int(4) + 1 }, () => 1 + g.int(address.length - 2)))].sort((a, b) => a - b);
      const bounds = [0, ...cuts, address.length];
      const parts = bounds.slice(0, -1).map((start, k) => address.slice(start, bounds[k + 1]));
      const env = parts.map((value, k) => ({ name: `P${k}`, value }));
      if (g.chance(0.3)) env.splice(g.int(env.length), 0, { name: 'NOISE', value: '$(UNKNOWN)' });
      const ref = parts.map((_, k) => `$(P${k})`).join('');
      const where = g.pick(['args', 'command', 'postStart', 'liveness'] as const);
      const container = (arg: string): Record<string, unknown> => {
        const c: Record<string, unknown> = { name: 'w', image: 'alpine:3', env };
        if (where === 'args') c.args = ['-o', arg];
        else if (where === 'command') c.command = ['worker', arg];
        else if (where === 'postStart') c.lifecycle = { postStart: { exec: { command: ['worker', arg] } } };
        else c.livenessProbe = { exec: { command: ['worker', arg] } };
        return c;
      };
      const podOf = (arg: string) =>
        ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'x' }, spec: { containers: [container(arg)] } }) as K8sObject;
      const found = (arg: string) =>
        evaluateSubject(toSubject(podOf(arg))!, check).findings.some((f) => f.policy === 'crypto-mining-image' && !f.path.includes('.env['));
      if (parts.join('') !== address) failures.push(`seed ${seed}: test bug, parts ${JSON.stringify(parts)}`);
      else if (!found(ref)) failures.push(`seed ${seed}: ${where} ${ref} with env ${JSON.stringify(env)} not found`);
      if (parts.length > 1 && !parts[0]!.includes('://') && found(`$${ref}`)) failures.push(`seed ${seed}: $$-escaped ${where} $${ref} was expanded`);
    }
    expect(failures, report(failures)).toEqual([]);
  });

  it('kubelet paths through nodes/proxy in any encoding still raise exec-into-pod', () => {
    const failures: string[] = [];
    const encode = (g: Gen, s: string) =>
      [...s].map((c) => (/[a-z]/i.test(c) && g.chance(0.3) ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c)).join('');
    for (let i = 0; i < 200; i++) {
      const seed = BASE_SEED + 20_000_000 + i;
      const g = new Gen(seed);
      const endpoint = g.pick(['exec', 'attach', 'run', 'portForward', 'EXEC', 'PortForward']);
      const slashes = '/'.repeat(1 + g.int(2));
      const path = `${slashes}${encode(g, endpoint)}/${g.pick(['prod', 'kube-system'])}/web-${g.int(9)}${endpoint.toLowerCase() === 'portforward' ? '' : '/app'}${g.chance(0.3) ? '/./' : ''}`;
      const ev = {
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: `k-${i}`,
        stage: g.pick(['ResponseStarted', 'ResponseComplete']),
        requestURI: `/api/v1/nodes/${g.pick(['w1', 'w1:10250'])}/proxy${path}?command=sh&cmd=id`,
        verb: g.pick(['get', 'create', 'update', 'patch']),
        user: { username: 'alice', groups: [] },
        objectRef: { resource: 'nodes', name: 'w1', subresource: 'proxy', apiVersion: 'v1' },
        responseStatus: { metadata: {}, code: g.pick([101, 200]) },
        requestReceivedTimestamp: '2024-06-01T10:00:00.000000Z',
      } as unknown as AuditEvent;
      const types = new AuditAnalyser({ config: defaultConfig() }).analyse(ev).map((a) => a.type);
      if (!types.includes('exec-into-pod')) failures.push(`seed ${seed}: ${ev.requestURI} (${ev.verb}) not seen`);
    }
    expect(failures, report(failures)).toEqual([]);
  });

  it('RBAC rules as wide as a wildcard (every verb listed in any order, duplicated; /* and /** URLs) are high-privilege-role', () => {
    const failures: string[] = [];
    const check = COMPILED.find((c) => c.profile === 'defender')!.compiled;
    const every = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    for (let i = 0; i < 200; i++) {
      const seed = BASE_SEED + 21_000_000 + i;
      const g = new Gen(seed);
      const verbs = [...every, ...every.filter(() => g.chance(0.2))].sort(() => g.random() - 0.5);
      const rule = g.pick([
        { apiGroups: ['*'], resources: ['*'], verbs },
        { apiGroups: [''], resources: ['pods'], verbs },
        { apiGroups: [''], resources: [g.pick(['pods/exec', 'pods/attach', '*/exec'])], verbs: [g.pick(['get', 'create'])] },
        {
          nonResourceURLs: [g.pick(['*', '/*', '/**', '**'])],
          verbs: g.chance(0.5) ? ['*'] : ['get', 'post', 'put', 'patch', 'delete'].sort(() => g.random() - 0.5),
        },
      ]);
      const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [rule] } as K8sObject;
      const hit = evaluateSubject(toSubject(role)!, check).findings.some((f) => f.policy === 'high-privilege-role');
      if (!hit) failures.push(`seed ${seed}: ${JSON.stringify(rule)} not flagged`);
    }
    expect(failures, report(failures)).toEqual([]);
  });

  it('gzip audit input: members split anywhere, any trailing garbage: every byte of every member delivered, the tail reported once', async () => {
    const { gzipSync } = await import('node:zlib');
    const { gunzipMembers } = await import('../audit/gunzip.js');
    const failures: string[] = [];
    for (let i = 0; i < 40; i++) {
      const seed = BASE_SEED + 22_000_000 + i;
      const g = new Gen(seed);
      const lines = Array.from({ length: 1 + g.int(200) }, (_, k) => `{"line":${k},"pad":"${'x'.repeat(g.int(300))}"}\n`).join('');
      const members: Buffer[] = [];
      for (let at = 0; at < lines.length;) {
        const end = Math.min(lines.length, at + 1 + g.int(lines.length));
        members.push(gzipSync(lines.slice(at, end)));
        at = end;
      }
      const garbage = g.chance(0.7) ? Buffer.from(Array.from({ length: 1 + g.int(100) }, (_, k) => (k === 0 ? 1 + g.int(254) : g.int(255)))) : Buffer.alloc(0);
      const whole = Buffer.concat([...members, garbage]);
      async function* chunks() {
        for (let at = 0; at < whole.length;) {
          const n = 1 + g.int(4096);
          yield whole.subarray(at, at + n);
          at += n;
        }
      }
      let trailing: { bytes: number } | undefined;
      const out: Buffer[] = [];
      try {
        for await (const b of gunzipMembers(chunks(), (t) => (trailing = t))) out.push(b);
      } catch (err) {
        // Garbage that happens to start like a gzip header is a corrupt member: an error, after every line.
        if (!(garbage[0] === 0x1f && garbage[1] === 0x8b)) failures.push(`seed ${seed}: threw ${(err as Error).message}`);
      }
      if (Buffer.concat(out).toString() !== lines) failures.push(`seed ${seed}: output differs (${Buffer.concat(out).length} of ${lines.length} bytes)`);
      if (garbage.length && !(garbage[0] === 0x1f && garbage[1] === 0x8b) && trailing?.bytes !== garbage.length)
        failures.push(`seed ${seed}: trailing ${JSON.stringify(trailing)} for ${garbage.length} bytes`);
      if (!garbage.length && trailing) failures.push(`seed ${seed}: trailing reported without garbage`);
    }
    expect(failures, report(failures)).toEqual([]);
  });
});

describe('fuzz: attack shapes on the alert pipeline (#14 §2, §3)', () => {
  const reviewOf = (spec: Record<string, unknown>, name = 'attack'): unknown => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `uid-${name}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'mallory', groups: ['system:authenticated'] },
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'team-a' }, spec },
    },
  });

  it('huge findings and duplicate names: the denial stays within the API server limits, the alert small and JSON-safe', () => {
    const failures: string[] = [];
    for (let run = 0; run < 12; run++) {
      const seed = BASE_SEED + 23_000_000 + run;
      const g = new Gen(seed);
      const n = 200 + g.int(4000);
      const names = ['app', 'app', 'x'.repeat(g.int(300)), '\u001b[2J', ''];
      const spec = {
        hostPID: g.chance(0.5),
        containers: Array.from({ length: n }, (_, i) => ({
          name: g.chance(0.3) ? g.pick(names) : `c${i}`,
          image: g.pick(['xmrig/xmrig', 'nginx:1.27', 'busybox']),
          securityContext: { privileged: g.chance(0.8), capabilities: { add: g.chance(0.3) ? ['SYS_ADMIN', 'NET_ADMIN'] : [] } },
        })),
        volumes: Array.from({ length: g.int(200) }, () => ({ name: 'dup', hostPath: { path: g.pick(['/', '/etc', '/var/run/docker.sock', '/tmp']) } })),
      };
      const body = reviewOf(spec, `huge-${seed}`);
      for (const p of reviewProblems(body)) failures.push(`seed ${seed}: ${p}`);
      const parsed = parseAdmissionReview(body);
      if (!parsed.ok) continue;
      const decision = decide({ request: parsed.request, compiled: WEBHOOK_COMPILED });
      const message = decision.response?.status?.message ?? '';
      if (Buffer.byteLength(message) > 16 * 1024) failures.push(`seed ${seed}: denial message of ${Buffer.byteLength(message)} bytes`);
      if (decision.findings.length === 0) continue;
      const alert = boundAlert(newAlert(decisionAlert(decision, parsed.request, WEBHOOK_COMPILED, nameOf(parsed.request), new Date(0))));
      const size = Buffer.byteLength(JSON.stringify(alert));
      if (size > 24 * 1024) failures.push(`seed ${seed}: ${n} containers gave a ${size}-byte alert`);
    }
    expect(failures, report(failures)).toEqual([]);
  });

  it('deep, cyclic and exotic values in evidence are cut where they enter, never thrown on', () => {
    const failures: string[] = [];
    for (let run = 0; run < 200; run++) {
      const seed = BASE_SEED + 24_000_000 + run;
      const g = new Gen(seed);
      let deep: unknown = g.pick(['leaf', 1n, null, () => 1, Symbol('s'), new Date(NaN), Infinity]);
      for (let i = 0, depth = g.int(5000); i < depth; i++) deep = g.chance(0.5) ? [deep] : { k: deep };
      const evidence: Record<string, unknown> = {
        deep,
        wide: Object.fromEntries(Array.from({ length: g.int(3000) }, (_, i) => [`k${i}`, 'v'.repeat(g.int(50))])),
      };
      if (g.chance(0.5)) evidence.self = evidence;
      const alert = newAlert({
        type: 'exec-into-pod',
        title: 't',
        severity: 'high',
        source: 'audit',
        firstSeen: new Date(0).toISOString(),
        namespace: 'n'.repeat(g.int(100_000)),
        resource: { group: '', version: 'v1', kind: 'Pod', name: 'p' },
        user: { username: 'u', groups: [] },
        message: 'm'.repeat(g.int(100_000)),
        evidence,
        tactics: [],
        remediation: '',
      });
      try {
        const bounded = boundAlert(alert);
        const text = JSON.stringify(bounded);
        if (Buffer.byteLength(text) > 24 * 1024) failures.push(`seed ${seed}: ${Buffer.byteLength(text)} bytes`);
      } catch (err) {
        failures.push(`seed ${seed}: boundAlert threw ${(err as Error).message}`);
      }
    }
    expect(failures, report(failures)).toEqual([]);
  });
});

describe('fuzz regressions: gzip member headers are bounded', () => {
  it('a member whose file name never ends is refused after 64 KiB, not buffered without end', async () => {
    const { gunzipMembers } = await import('../audit/gunzip.js');
    const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3]);
    async function* chunks() {
      yield header;
      for (let i = 0; i < 1000; i++) yield Buffer.alloc(4096, 0x41);
    }
    const read = async () => {
      for await (const _ of gunzipMembers(chunks(), () => undefined)) void _;
    };
    await expect(read()).rejects.toThrow(/header longer than 65536 bytes/);
  });
});

describe('fuzz: unauthenticated posts under mTLS (#14 §2)', () => {
  it('no request without a certificate from the client CA reaches anything but GET /healthz, /readyz, /metrics — fresh, resumed or wrong-CA', async () => {
    const fs = await import('node:fs');
    const https = await import('node:https');
    const path = await import('node:path');
    const { createCA, createClientCert } = await import('../certs/x509.js');
    const { request, startTestServer, tempDir } = await import('./webhook/support.js');
    const clientCA = createCA({ commonName: 'apiserver-client-ca' });
    const clientCAFile = path.join(tempDir(), 'client-ca.crt');
    fs.writeFileSync(clientCAFile, clientCA.certPem);
    const ts = await startTestServer({ clientCAFile });
    const caPem = fs.readFileSync(ts.certs.caFile);
    const wrong = createClientCert(createCA({ commonName: 'someone-else' }), { commonName: 'kube-apiserver' });
    const resumed = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    const random = prng(20261204);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const paths = [
      '/validate',
      '/validate/enforce',
      '/validate/audit?timeout=10s',
      '/mutate',
      '/audit',
      '/healthz',
      '/readyz',
      '/metrics',
      '/readyz?verbose=1',
      '/healthz/../validate',
      '//validate',
      '/VALIDATE',
      '/metrics/',
      '/healthz%2f..%2fvalidate',
      '/validate#healthz',
      '*',
    ];
    const OPEN = new Set(['/healthz', '/readyz', '/metrics']);
    const served: string[] = [];
    try {
      for (let n = 0; n < 300; n++) {
        const method = pick(['GET', 'POST', 'PUT', 'DELETE']);
        const route = pick(paths);
        const client = pick(['fresh', 'resumed', 'wrong-ca'] as const);
        const res = await request(ts.port, caPem, {
          method,
          path: route,
          body: method === 'GET' ? undefined : JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: `u${n}` } }),
          headers: { 'content-type': 'application/json' },
          ...(client === 'resumed' ? { agent: resumed } : {}),
          ...(client === 'wrong-ca' ? { cert: wrong.certPem, key: wrong.keyPem } : {}),
        }).catch((err: Error) => ({ status: -1, text: err.message }));
        const open = method === 'GET' && OPEN.has(route.split('?')[0]!);
        if (res.status !== 401 && !open) served.push(`${client} ${method} ${route} → ${res.status}`);
      }
    } finally {
      resumed.destroy();
      await ts.close();
    }
    expect(served).toEqual([]);
  }, 60_000);
});

/** Each event of the audit corpus, 120 times: its seed, a generator and a clone to mutate. */
function eachMutant(offset: number, fn: (g: Gen, mutant: Record<string, unknown>, seed: number, event: number, i: number) => void): void {
  auditCorpus().forEach((ev, b) => {
    for (let i = 0; i < 120; i++) {
      const seed = BASE_SEED + offset + b * 10_000 + i;
      fn(new Gen(seed), clone(ev) as unknown as Record<string, unknown>, seed, b, i);
    }
  });
}

describe("fuzz: the reader's RequestReceived shortcut on mutated lines", () => {
  // Text the shortcut looks for, and text that breaks JSON: spliced into lines at random places.
  const SPLICES = ['","stage":"RequestReceived","', '"', '\\', '\\"', '}', '{', ']', ',', '{"kind":"Event"', '\n', 'RequestReceived', '\u0000'];

  it('never takes a line that parses to another stage for RequestReceived, and takes every API-server-shaped one', () => {
    const failures: string[] = [];
    let taken = 0;
    let checked = 0;
    eachMutant(12_000_000, (g, mutant, seed, b, i) => {
      mutant.stage = g.pick(['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic']);
      if (g.chance(0.3))
        mutant.auditID = g.pick(['', 'a"b', 'a\\b', 'x","stage":"RequestReceived","y', 'é€', 'x'.repeat(300), `${String(mutant.auditID)}-${i}`]);
      const did = g.chance(0.5) ? mutateInPlace(g, mutant, ['stage']) : [];
      let line = JSON.stringify(mutant);
      const intact = line;
      const splices = g.int(2);
      for (let k = 0; k < splices; k++) {
        const at = g.int(line.length);
        line = line.slice(0, at) + g.pick(SPLICES) + line.slice(at);
      }
      checked++;
      const said = isRequestReceivedLine(line);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined; // malformed: reported either way; counting it as an event loses no alert
      }
      const stage = parsed !== null && typeof parsed === 'object' ? (parsed as { stage?: unknown }).stage : undefined;
      if (said) taken++;
      if (said && parsed !== undefined && stage !== 'RequestReceived')
        failures.push(`seed ${seed} (event #${b}; ${did.join('; ')}): taken for RequestReceived, parses to stage ${short(stage)}: ${line.slice(0, 240)}`);
      // An unmutated API-server line of that stage, with an ordinary auditID, is taken.
      const id = typeof mutant.auditID === 'string' ? mutant.auditID : '';
      if (
        splices === 0 &&
        line === intact &&
        stage === 'RequestReceived' &&
        did.length === 0 &&
        id !== '' &&
        id.length <= 256 &&
        !id.includes('\\') &&
        !id.includes('"') &&
        !said
      )
        failures.push(`seed ${seed} (event #${b}): an API-server RequestReceived line was not taken: ${line.slice(0, 240)}`);
    });
    expect(checked).toBeGreaterThan(3000);
    expect(taken).toBeGreaterThan(100);
    expect(failures, report(failures)).toEqual([]);
  });
});

describe("fuzz: the reader's skim of completed requests on mutated lines", () => {
  // Text that the skim's grammar turns on, and text that breaks JSON: spliced in at random places
  // outside the request and response bodies (a body is taken as the API server encoded it: a
  // client's keys and values are escaped inside it, which the mutations inside bodies exercise).
  const SPLICES = [
    '","verb":"delete","',
    ',"impersonatedUser":{"username":"x"}',
    '"',
    '\\',
    '\\"',
    '\\u0041',
    '}',
    '{',
    ']',
    ',',
    '{"kind":"Event"',
    '\n',
    '\u0001',
    'dryRun',
  ];
  const VAP = 'validation.policy.admission.k8s.io/validation_failure';
  const canonical = (o: object): string => JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  /** A Status as the API server writes it for most requests: `{metadata: {}, code}` (and status, message, reason). */
  const simpleStatus = (st: unknown): boolean => {
    if (st === null || typeof st !== 'object') return false;
    const { metadata, code, ...rest } = st as Record<string, unknown>;
    return (
      JSON.stringify(metadata) === '{}' &&
      Number.isInteger(code) &&
      (code as number) >= 1 &&
      (code as number) <= 999 &&
      Object.entries(rest).every(([k, v]) => ['status', 'message', 'reason'].includes(k) && typeof v === 'string')
    );
  };

  it('reads exactly what JSON.parse reads from every line it takes, and takes every API-server-shaped one', () => {
    const failures: string[] = [];
    let taken = 0;
    let checked = 0;
    eachMutant(13_000_000, (g, mutant, seed, b, i) => {
      mutant.stage = g.pick(['ResponseComplete', 'ResponseComplete', 'ResponseComplete', 'ResponseStarted', 'RequestReceived', 'Panic']);
      if (g.chance(0.2)) mutant.auditID = g.pick(['', 'a"b', 'a\\b', 'é€', 'x'.repeat(300), `${String(mutant.auditID)}-${i}`]);
      const did = g.chance(0.5) ? mutateInPlace(g, mutant, ['stage']) : [];
      const intact = goLine(mutant);
      // Where the bodies are in the line (from the first's key to the last's closing brace): no splice goes there.
      let bodies: [number, number] | undefined;
      for (const key of ['requestObject', 'responseObject']) {
        if (mutant[key] === undefined) continue;
        const text = `,"${key}":${goJSON(mutant[key])}`;
        const at = intact.indexOf(text);
        if (at >= 0) bodies = [bodies?.[0] ?? at, at + text.length];
      }
      const places = Array.from({ length: g.int(3) }, () => g.int(intact.length + 1))
        .filter((p) => bodies === undefined || p <= bodies[0] || p > bodies[1])
        .sort((x, y) => y - x);
      let line = intact;
      for (const p of places) line = line.slice(0, p) + g.pick(SPLICES) + line.slice(p);
      checked++;
      const said = skimLine(line);
      let parsed: (AuditEvent & Record<string, any>) | undefined;
      try {
        parsed = JSON.parse(line) as AuditEvent & Record<string, any>;
      } catch {
        parsed = undefined;
      }
      const where = `seed ${seed} (event #${b}; ${did.join('; ')})`;
      if (said !== undefined) {
        taken++;
        if (parsed === undefined) {
          failures.push(`${where}: taken, but JSON.parse rejects it: ${line.slice(0, 240)}`);
          return;
        }
        const expected = skimmedFieldsOf(parsed);
        const annotations = (parsed.annotations ?? {}) as Record<string, unknown>;
        if (
          canonical(said) !== canonical(expected) ||
          parsed.stage !== 'ResponseComplete' ||
          parsed.impersonatedUser !== undefined ||
          String(parsed.requestURI).includes('dryRun') ||
          Object.hasOwn(annotations, VAP) ||
          auditEventProblem(parsed) !== undefined
        )
          failures.push(`${where}: skimmed as ${JSON.stringify(said)}, parses to ${short(expected)} (stage ${short(parsed.stage)}): ${line.slice(0, 240)}`);
      }
      // An unmutated completed request as the API server writes it is taken.
      const annotations = (mutant.annotations ?? {}) as Record<string, unknown>;
      const ref = mutant.objectRef as Record<string, unknown> | undefined;
      const read = [
        mutant.auditID,
        mutant.verb,
        (mutant.user as any)?.username,
        mutant.userAgent,
        ref?.resource,
        ref?.subresource,
        ref?.apiGroup,
        ref?.namespace,
        ref?.name,
      ];
      if (
        places.length === 0 &&
        did.length === 0 &&
        mutant.stage === 'ResponseComplete' &&
        mutant.impersonatedUser === undefined &&
        typeof mutant.requestURI === 'string' &&
        !mutant.requestURI.includes('dryRun') &&
        !/["\\\u0000-\u001f\u2028\u2029]/.test(mutant.requestURI) &&
        !Object.hasOwn(annotations, VAP) &&
        simpleStatus(mutant.responseStatus) &&
        (mutant.objectRef === undefined || typeof (mutant.objectRef as any).resource === 'string') &&
        typeof (mutant.user as any)?.username === 'string' &&
        typeof mutant.auditID === 'string' &&
        mutant.auditID !== '' &&
        mutant.auditID.length <= 256 &&
        read.every((v) => v === undefined || (typeof v === 'string' && !/["\\<>&\u0000-\u001f\u2028\u2029]/.test(v))) &&
        typeof mutant.requestReceivedTimestamp === 'string' &&
        !/["\\<>&\u0000-\u001f\u2028\u2029]/.test(mutant.requestReceivedTimestamp) &&
        typeof mutant.stageTimestamp === 'string' &&
        line.length <= 65_536 &&
        said === undefined
      )
        failures.push(`${where}: an API-server completed request was not taken: ${line.slice(0, 240)}`);
    });
    expect(checked).toBeGreaterThan(3000);
    expect(taken).toBeGreaterThan(300);
    expect(failures, report(failures)).toEqual([]);
  });
});
