// The chart's background-scan parts: CRDs, config, RBAC (least privilege), values schema.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../config/load.js';
import { backgroundSettingsOf } from '../../background/scanner.js';
import { LISTED_KINDS, listTarget } from '../../background/kube.js';
import { chartDir, helm } from '../support/helm.js';

type Obj = Record<string, any>;

function render(sets: string[] = []): { docs: Obj[]; code: number; stderr: string } {
  const args = ['template', 'rel', chartDir, '--namespace', 'bulwark-system', '--include-crds', '--set', 'certificates.generate.allowTemplateRender=true'];
  for (const s of sets) args.push('--set', s);
  const r = helm(args);
  const docs =
    r.code === 0
      ? parseAllDocuments(r.stdout)
          .map((d) => d.toJS() as Obj)
          .filter(Boolean)
      : [];
  return { docs, code: r.code, stderr: r.stderr };
}

describe('chart: background scan', () => {
  it('ships the wgpolicyk8s.io v1alpha2 PolicyReport and ClusterPolicyReport CRDs in crds/', () => {
    const files = readdirSync(join(chartDir, 'crds'));
    const crds = files.map((f) => parse(readFileSync(join(chartDir, 'crds', f), 'utf8')) as Obj);
    const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));
    expect(byKind.get('PolicyReport')!.spec.scope).toBe('Namespaced');
    expect(byKind.get('ClusterPolicyReport')!.spec.scope).toBe('Cluster');
    for (const c of crds) {
      expect(c.spec.group).toBe('wgpolicyk8s.io');
      const v = c.spec.versions[0];
      expect(v.name).toBe('v1alpha2');
      const result = v.schema.openAPIV3Schema.properties.results.items.properties;
      expect(result.result.enum).toEqual(['pass', 'fail', 'warn', 'error', 'skip']);
      expect(result.severity.enum).toEqual(expect.arrayContaining(['high', 'medium', 'low', 'info']));
    }
  });

  it('is on by default; the config carries it and parses', () => {
    const { docs } = render();
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    const config = parseConfig(cm.data['config.yaml']);
    expect(backgroundSettingsOf(config)).toMatchObject({ enabled: true, resyncMs: 3_600_000, debounceMs: 5000, maxResultsPerReport: 1000 });
    const env = docs.find((d) => d.kind === 'Deployment')!.spec.template.spec.containers[0].env.map((e: Obj) => e.name);
    expect(env).toContain('POD_NAME');
  });

  it('RBAC: list/watch on every judged kind, reports and the Lease written by name only', () => {
    const { docs } = render();
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'rel-bulwark')!;
    for (const kind of LISTED_KINDS) {
      const group = listTarget(kind).group;
      const rule = role.rules.find((r: Obj) => r.apiGroups.includes(group) && r.resources.includes(kind.resource) && r.verbs.includes('watch'));
      expect(rule, `${kind.resource} is listed and watched`).toBeDefined();
      expect(rule.verbs.sort()).toEqual(['list', 'watch']);
    }
    const named = role.rules.find((r: Obj) => r.apiGroups.includes('wgpolicyk8s.io') && r.resourceNames);
    expect(named).toMatchObject({ resourceNames: ['bulwark'], verbs: ['get', 'update', 'delete'] });
    for (const r of role.rules) expect(r.resources).not.toContain('secrets');
    const lease = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'rel-bulwark-background-lease')!;
    expect(lease.metadata.namespace).toBe('bulwark-system');
    expect(lease.rules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: ['bulwark-background-scan'],
      verbs: ['get', 'update'],
    });
  });

  it('a shared store (PostgreSQL) adds the maintenance Lease, by name only; a per-replica SQLite store does not', () => {
    const maintenance = (docs: Obj[], kind: string) => docs.find((d) => d.kind === kind && d.metadata.name === 'rel-bulwark-maintenance-lease');
    const sqlite = render().docs;
    expect(maintenance(sqlite, 'Role')).toBeUndefined();
    expect(maintenance(sqlite, 'RoleBinding')).toBeUndefined();
    for (const set of ['alerts.storeUrlSecret=bulwark-store', 'alerts.storeUrl=postgres://bulwark@db/alerts']) {
      const { docs } = render([set]);
      const role = maintenance(docs, 'Role')!;
      expect(role.metadata.namespace).toBe('bulwark-system');
      expect(role.rules).toEqual([
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['bulwark-maintenance'], verbs: ['get', 'update'] },
      ]);
      const binding = maintenance(docs, 'RoleBinding')!;
      expect(binding.roleRef).toMatchObject({ kind: 'Role', name: 'rel-bulwark-maintenance-lease' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'rel-bulwark', namespace: 'bulwark-system' }]);
    }
  });

  it('backgroundScan.enabled=false drops the extra RBAC', () => {
    const { docs } = render(['backgroundScan.enabled=false']);
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'rel-bulwark')!;
    expect(role.rules.some((r: Obj) => r.resources.includes('pods'))).toBe(false);
    expect(docs.some((d) => d.kind === 'Role' && d.metadata.name === 'rel-bulwark-background-lease')).toBe(false);
  });

  it('values.schema.json rejects a bad value', () => {
    const r = render(['reports.maxResultsPerReport=0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/maxResultsPerReport/);
  });
});
