// `bulwark vap` and `bulwark manifests --vap` as a user runs them (the built CLI), and the UPDATE
// behaviour of the generated policies (only changes to what the checks read are judged).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultConfig } from '../../config/load.js';
import { compileConfig } from '../../policies/config.js';
import { generateVap } from '../../vap/generate.js';
import { evaluatePolicy } from './harness.js';

type Obj = Record<string, any>;

const bin = new URL('../../bin/bulwark.js', import.meta.url).pathname;
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('bulwark vap', () => {
  it('prints policies and bindings as YAML (default) and as one JSON List', () => {
    const yaml = run(['vap']);
    expect(yaml.status).toBe(0);
    const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as Obj);
    expect(docs.filter((d) => d.kind === 'ValidatingAdmissionPolicy').map((d) => d.metadata.name)).toContain('bulwark-privileged-container');
    expect(yaml.stdout).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases
    const json = run(['vap', '--format', 'json', '--api-version', 'v1beta1', '-p', 'pss-baseline']);
    expect(json.status).toBe(0);
    const list = JSON.parse(json.stdout);
    expect(list.kind).toBe('List');
    expect(list.items.every((o: Obj) => o.apiVersion === 'admissionregistration.k8s.io/v1beta1')).toBe(true);
    expect(list.items.filter((o: Obj) => o.kind === 'ValidatingAdmissionPolicy').map((o: Obj) => o.metadata.name)).toContain('bulwark-pss-sysctls');
  });

  it('--explain prints the coverage count and what stays webhook-only', () => {
    const r = run(['vap', '--explain', '-p', 'defender', '-p', 'pss-restricted']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^25 of 26 checks compiled$/m);
    expect(r.stdout).toContain('always webhook-only:');
  });

  it('bad input exits 2 with a message that says what and where', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-vap-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'profiles: [defender]\nactions:\n  privileged-contianer: warn\n');
      const r = run(['vap', '--config', file]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/config\.yaml:3: actions\.privileged-contianer: unknown policy ID .*did you mean "privileged-container"/);
      expect(run(['vap', '--api-version', 'v2']).status).toBe(2);
      expect(run(['vap', '-p', 'pss-strict']).status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('manifests --vap appends the policies compiled from the install config (its namespace exempt)', () => {
    const r = run(['manifests', '--vap']);
    expect(r.status).toBe(0);
    const docs = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Obj)
      .filter(Boolean);
    const policy = docs.find((d) => d.kind === 'ValidatingAdmissionPolicy' && d.metadata.name === 'bulwark-privileged-container')!;
    expect(policy.spec.matchConditions.find((c: Obj) => c.name === 'bulwark-exempt-namespaces').expression).toContain('"bulwark-system"');
    expect(docs.some((d) => d.kind === 'ValidatingAdmissionPolicyBinding')).toBe(true);
  });
});

describe('UPDATE requests', () => {
  const policy = generateVap(compileConfig(defaultConfig())).objects.find((o) => o.metadata.name === 'bulwark-privileged-container')!;
  const deployment = (privileged: boolean, extra: Obj = {}): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'apps', annotations: { 'deployment.kubernetes.io/revision': '1' }, ...extra },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'nginx', securityContext: { privileged } }] } } },
  });
  const req = { operation: 'UPDATE', username: 'alice', groups: [], namespace: 'apps' };

  it('an update that changes nothing the checks read is not judged (a controller bumping its revision annotation)', () => {
    const old = deployment(true);
    const now = deployment(true, { annotations: { 'deployment.kubernetes.io/revision': '2' } });
    expect(evaluatePolicy(policy, now, req, old).matched).toBe(false);
  });

  it('an update of the pod template is judged', () => {
    expect(evaluatePolicy(policy, deployment(true), req, deployment(false))).toMatchObject({ matched: true, allowed: false });
    expect(evaluatePolicy(policy, deployment(false), req, deployment(true))).toMatchObject({ matched: true, allowed: true });
  });

  it('an object being deleted (finalizers running) is not judged', () => {
    expect(evaluatePolicy(policy, deployment(true, { deletionTimestamp: '2026-01-01T00:00:00Z' }), req, deployment(false)).matched).toBe(false);
  });
});
