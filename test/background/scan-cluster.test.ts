// `bulwark scan --cluster` against the API-server stand-in (real HTTPS, real list paths and paging),
// and the sarif / policyreport formats of `scan` for files and clusters.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { main } from '../../cli/main.js';
import { withScanIO, type ScanReport } from '../../cli/scan.js';
import { startApiServerStandIn, type StandIn } from '../support/apiserver.js';

type Obj = Record<string, any>;

let api: StandIn;
let dir: string;
let kubeconfig: string;
let config: string;

async function scan(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await withScanIO(
    { stdout: { write: (s: string) => (stdout += s), isTTY: false }, stderr: { write: (s: string) => (stderr += s) }, stdin: Readable.from(['']), env: {} },
    () => main(['node', 'bulwark', 'scan', ...args]),
  );
  return { code, stdout, stderr };
}

const privilegedSpec = { containers: [{ name: 'app', image: 'nginx:1.25', securityContext: { privileged: true } }] };
const restrictedSpec = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'app',
      image: 'registry.example/app:1.0',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, readOnlyRootFilesystem: true },
      resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
    },
  ],
};

beforeAll(async () => {
  api = await startApiServerStandIn();
  dir = await mkdtemp(join(tmpdir(), 'bulwark-scan-cluster-'));
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeconfig('ctx-a'));
  config = join(dir, 'bulwark.yaml');
  await writeFile(config, 'exemptions:\n  namespaces: [kube-system]\n');
  // Namespaces with and without the mode label.
  for (const [name, labels] of [
    ['team-a', {}],
    ['team-b', { 'bulwark.io/mode': 'warn' }],
    ['kube-system', {}],
  ] as const) {
    api.objects.set(`/api/v1/namespaces/${name}`, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, uid: `ns-${name}` } });
  }
  const deploy = api.addObject({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'priv', namespace: 'team-a', uid: 'd-1' },
    spec: { selector: { matchLabels: { app: 'priv' } }, template: { metadata: { labels: { app: 'priv' } }, spec: privilegedSpec } },
  });
  const rs = api.addObject({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'priv-5d9',
      namespace: 'team-a',
      uid: 'rs-1',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'priv', uid: deploy.metadata.uid, controller: true }],
    },
    spec: { selector: { matchLabels: { app: 'priv' } }, template: { metadata: { labels: { app: 'priv' } }, spec: privilegedSpec } },
  });
  // Three pods from the template (folded into the Deployment), one edited to add hostNetwork (reported).
  for (let i = 0; i < 3; i++) {
    api.addObject({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `priv-5d9-${i}`,
        namespace: 'team-a',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'priv-5d9', uid: rs.metadata.uid, controller: true }],
      },
      spec: { ...privilegedSpec, serviceAccountName: 'default', nodeName: 'node-1' },
      status: { phase: 'Running' },
    });
  }
  api.addObject({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'priv-5d9-edited',
      namespace: 'team-a',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'priv-5d9', uid: rs.metadata.uid, controller: true }],
    },
    spec: { ...privilegedSpec, hostNetwork: true },
  });
  api.addObject({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'clean', namespace: 'team-b' },
    spec: { selector: { matchLabels: { app: 'c' } }, template: { metadata: { labels: { app: 'c' } }, spec: restrictedSpec } },
  });
  api.addObject({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'hostpath', namespace: 'team-b' },
    spec: {
      selector: { matchLabels: { app: 'h' } },
      template: { metadata: { labels: { app: 'h' } }, spec: { ...restrictedSpec, volumes: [{ name: 'root', hostPath: { path: '/' } }] } },
    },
  });
  api.addObject({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'everyone-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:authenticated' }],
  });
  // kube-system is exempt by default config.
  api.addObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, spec: { ...privilegedSpec, hostNetwork: true } });
  // Many pods in one namespace, to page through (limit 500).
  for (let i = 0; i < 1001; i++) {
    api.addObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `bulk-${String(i).padStart(4, '0')}`, namespace: 'bulk' }, spec: restrictedSpec });
  }
});

afterAll(async () => {
  await api?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bulwark scan --cluster', () => {
  it('judges every listed object as admission would: owned pods folded into the workload unless they differ', async () => {
    const { code, stdout, stderr } = await scan(['--cluster', '--kubeconfig', kubeconfig, '--config', config, '--format', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ScanReport;
    const withFindings = report.results.filter((r) => r.findings.length > 0).map((r) => `${r.kind} ${r.namespace}/${r.name}`);
    expect(withFindings).toContain('Deployment team-a/priv');
    expect(withFindings).toContain('Pod team-a/priv-5d9-edited');
    expect(withFindings).toContain('DaemonSet team-b/hostpath');
    expect(withFindings).toContain('ClusterRoleBinding /everyone-admin');
    // The template's pods and the ReplicaSet are reported once, on the Deployment.
    expect(withFindings.filter((w) => w.includes('priv-5d9'))).toEqual(['Pod team-a/priv-5d9-edited']);
    expect(report.results.map((r) => r.name)).not.toContain('priv-5d9-0');
    const edited = report.results.find((r) => r.name === 'priv-5d9-edited')!;
    expect(edited.findings.map((f) => f.policy)).toContain('host-namespaces');
    // kube-system is exempt, the 1001 paged pods all arrived.
    expect(report.summary.exempt).toBeGreaterThanOrEqual(1);
    expect(report.results.filter((r) => r.namespace === 'bulk')).toHaveLength(1001);
    expect(report.results.find((r) => r.name === 'clean')!.findings).toEqual([]);
    expect(report.results[0]!.source).toBe('cluster ctx-a');
    // The stand-in saw paged list requests with the kubeconfig's token.
    const pods = api.requests.filter((r) => r.path === '/api/v1/pods');
    expect(pods.map((r) => r.query)).toEqual(expect.arrayContaining([expect.stringContaining('limit=500'), expect.stringContaining('continue=')]));
  });

  it('-n limits to one namespace and lists namespaced paths; cluster-scoped kinds are not read', async () => {
    const before = api.requests.length;
    const { code, stdout } = await scan(['--cluster', '--kubeconfig', kubeconfig, '-n', 'team-b', '--format', 'json']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ScanReport;
    expect(new Set(report.results.map((r) => r.namespace))).toEqual(new Set(['team-b']));
    const paths = api.requests.slice(before).map((r) => r.path);
    expect(paths).toContain('/apis/apps/v1/namespaces/team-b/deployments');
    expect(paths).not.toContain('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings');
  });

  it('uses the bulwark.io/mode label, and --mode enforce overrides it', async () => {
    const run = async (extra: string[]) => {
      const { stdout } = await scan(['--cluster', '--kubeconfig', kubeconfig, '-n', 'team-b', '--format', 'policyreport', ...extra]);
      const docs = parseAllDocuments(stdout).map((d) => d.toJSON() as Obj);
      return docs[0]!.results.filter((r: Obj) => r.resources[0].name === 'hostpath').map((r: Obj) => r.result);
    };
    expect(new Set(await run([]))).toEqual(new Set(['warn']));
    expect(new Set(await run(['--mode', 'enforce']))).toEqual(new Set(['fail']));
  });

  it('--profile pss-restricted answers "what fails if I enforce restricted here"', async () => {
    const { stdout } = await scan(['--cluster', '--kubeconfig', kubeconfig, '-n', 'team-a', '--profile', 'pss-restricted', '--format', 'json']);
    const report = JSON.parse(stdout) as ScanReport;
    const policies = report.results.find((r) => r.name === 'priv')!.findings.map((f) => f.policy);
    expect(policies.length).toBeGreaterThan(0);
    expect(policies.every((p) => p.startsWith('pss-'))).toBe(true);
  });

  it('--context picks a context and an unknown one is a clear error (exit 2)', async () => {
    const bad = await scan(['--cluster', '--kubeconfig', kubeconfig, '--context', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('context "nope" is not in the kubeconfig (it has: ctx-a)');
    const good = await scan(['--cluster', '--kubeconfig', kubeconfig, '--context', 'ctx-a', '-n', 'team-b']);
    expect(good.code).toBe(1);
    expect(good.stdout).toContain('DaemonSet team-b/hostpath');
  });

  it('a kind RBAC forbids is an error naming it (exit 2); the other kinds are still judged', async () => {
    api.forbidden.add('clusterrolebindings');
    try {
      const { code, stdout, stderr } = await scan(['--cluster', '--kubeconfig', kubeconfig, '--format', 'json']);
      expect(code).toBe(2);
      expect(stderr).toMatch(
        /cannot list ClusterRoleBinding: GET \/apis\/rbac.authorization.k8s.io\/v1\/clusterrolebindings: 403 .*forbidden.*RBAC forbids it/,
      );
      expect((JSON.parse(stdout) as ScanReport).results.some((r) => r.name === 'priv')).toBe(true);
    } finally {
      api.forbidden.delete('clusterrolebindings');
    }
  });

  it('a cluster without batch/v1 CronJobs (Kubernetes 1.20) is read at batch/v1beta1, not reported as incomplete', async () => {
    const cron = api.addObject({
      apiVersion: 'batch/v1beta1',
      kind: 'CronJob',
      metadata: { name: 'old-cron', namespace: 'team-a' },
      spec: {
        schedule: '* * * * *',
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] } } } },
      },
    });
    api.unserved.add('batch/v1|cronjobs');
    try {
      const { code, stdout, stderr } = await scan(['--cluster', '--kubeconfig', kubeconfig, '-n', 'team-a', '--format', 'json']);
      expect(stderr).toBe('');
      expect(code).toBe(1);
      const found = (JSON.parse(stdout) as ScanReport).results.find((r) => r.name === 'old-cron')!;
      expect(found.kind).toBe('CronJob');
      expect(found.findings.map((f) => f.policy)).toContain('privileged-container');
      // Without the older version either, the kind is reported as not served (exit 2).
      api.unserved.add('batch/v1beta1|cronjobs');
      const none = await scan(['--cluster', '--kubeconfig', kubeconfig, '-n', 'team-a', '--format', 'json']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/cannot list CronJob: GET \/apis\/batch\/v1\/namespaces\/team-a\/cronjobs: 404/);
    } finally {
      api.unserved.clear();
      api.deleteObject(cron.apiVersion, 'CronJob', 'team-a', 'old-cron');
    }
  });

  it('an unreachable API server is one clear line and exit 2, no hang', async () => {
    const dead = join(dir, 'dead-kubeconfig');
    await writeFile(dead, api.kubeconfig().replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'));
    const { code, stdout, stderr } = await scan(['--cluster', '--kubeconfig', dead]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^bulwark scan: cannot reach the API server 127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('rejects PATHs with --cluster and cluster flags without it', async () => {
    expect((await scan(['--cluster', 'x.yaml'])).stderr).toContain('give no PATH with it');
    expect((await scan(['--mode', 'enforce', 'x.yaml'])).stderr).toContain('--mode needs --cluster');
    expect((await scan(['--cluster', '-n', 'a', '-A'])).code).toBe(2);
  });
});

/** The required properties of SARIF 2.1.0 (sarif-schema-2.1.0.json) for what Bulwark emits. */
function assertSarif(doc: Obj): void {
  expect(doc.version).toBe('2.1.0');
  expect(typeof doc.$schema).toBe('string');
  expect(Array.isArray(doc.runs)).toBe(true);
  for (const run of doc.runs) {
    // run: required tool; tool: required driver; toolComponent: required name.
    expect(typeof run.tool.driver.name).toBe('string');
    expect(run.tool.driver.informationUri).toMatch(/^https:\/\//);
    const ids = new Set<string>();
    for (const rule of run.tool.driver.rules) {
      // reportingDescriptor: required id; message strings: required text.
      expect(typeof rule.id).toBe('string');
      expect(ids.has(rule.id)).toBe(false);
      ids.add(rule.id);
      expect(typeof rule.shortDescription.text).toBe('string');
      expect(typeof rule.help.text).toBe('string');
      expect(Array.isArray(rule.properties.tags)).toBe(true);
      expect(new Set(rule.properties.tags).size).toBe(rule.properties.tags.length); // uniqueItems
    }
    for (const result of run.results) {
      // result: required message (text or id); level enum.
      expect(typeof result.message.text).toBe('string');
      expect(['none', 'note', 'warning', 'error']).toContain(result.level);
      expect(ids.has(result.ruleId)).toBe(true);
      expect(run.tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
      for (const loc of result.locations) {
        if (loc.physicalLocation) {
          expect(typeof loc.physicalLocation.artifactLocation.uri).toBe('string');
          if (loc.physicalLocation.region) expect(loc.physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
        } else {
          expect(loc.logicalLocations.length).toBeGreaterThan(0);
        }
        for (const l of loc.logicalLocations ?? []) expect(typeof l.fullyQualifiedName).toBe('string');
      }
    }
  }
}

describe('bulwark scan --format sarif', () => {
  it('files: physical locations with the line of the object, rules from the policy metadata', async () => {
    const file = join(dir, 'two.yaml');
    await writeFile(
      file,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: app, image: nginx, securityContext: {privileged: true}}]\n`,
    );
    const { code, stdout } = await scan(['--format', 'sarif', file]);
    expect(code).toBe(1);
    const doc = JSON.parse(stdout) as Obj;
    assertSarif(doc);
    const run = doc.runs[0];
    expect(run.tool.driver.name).toBe('bulwark');
    const priv = run.results.find((r: Obj) => r.ruleId === 'privileged-container');
    expect(priv.level).toBe('error');
    expect(priv.locations[0].physicalLocation.artifactLocation.uri).toBe(file);
    expect(priv.locations[0].physicalLocation.region.startLine).toBe(5);
    const rule = run.tool.driver.rules.find((r: Obj) => r.id === 'privileged-container');
    expect(rule.properties.tags).toContain('defender');
    expect(rule.shortDescription.text.length).toBeGreaterThan(5);
  });

  it('cluster objects: logical locations', async () => {
    const { stdout } = await scan(['--cluster', '--kubeconfig', kubeconfig, '-n', 'team-a', '--format', 'sarif']);
    const doc = JSON.parse(stdout) as Obj;
    assertSarif(doc);
    const r = doc.runs[0].results.find((x: Obj) => x.ruleId === 'privileged-container' && x.locations[0].logicalLocations[0].name === 'priv');
    expect(r.locations[0].physicalLocation).toBeUndefined();
    expect(r.locations[0].logicalLocations[0].fullyQualifiedName).toBe('Deployment/team-a/priv');
  });
});

describe('bulwark scan --format policyreport', () => {
  it('one PolicyReport per namespace and one ClusterPolicyReport, wgpolicyk8s.io/v1alpha2', async () => {
    const { code, stdout } = await scan(['--cluster', '--kubeconfig', kubeconfig, '--config', config, '--format', 'policyreport']);
    expect(code).toBe(1);
    const docs = parseAllDocuments(stdout).map((d) => d.toJSON() as Obj);
    const cluster = docs.filter((d) => d.kind === 'ClusterPolicyReport');
    expect(cluster).toHaveLength(1);
    expect(cluster[0]!.metadata).toMatchObject({ name: 'bulwark' });
    expect(cluster[0]!.metadata.namespace).toBeUndefined();
    const namespaced = docs.filter((d) => d.kind === 'PolicyReport');
    expect(namespaced.map((d) => d.metadata.namespace).sort()).toEqual(['bulk', 'team-a', 'team-b']);
    for (const d of docs) {
      expect(d.apiVersion).toBe('wgpolicyk8s.io/v1alpha2');
      expect(d.metadata.name).toBe('bulwark');
      expect(Object.keys(d.summary).sort()).toEqual(['error', 'fail', 'pass', 'skip', 'warn']);
    }
    const teamA = namespaced.find((d) => d.metadata.namespace === 'team-a')!;
    const priv = teamA.results.find((r: Obj) => r.policy === 'privileged-container' && r.resources[0].kind === 'Deployment');
    expect(priv).toMatchObject({
      rule: 'privileged-container',
      result: 'fail',
      severity: 'high',
      category: 'defender',
      source: 'bulwark',
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'priv', uid: 'd-1' }],
    });
    expect(priv.message.startsWith('[privileged-container] ')).toBe(true);
    expect(priv.timestamp.seconds).toBeGreaterThan(1_700_000_000);
    expect(priv.timestamp.nanos).toBeGreaterThanOrEqual(0);
    expect(teamA.summary.fail).toBe(teamA.results.filter((r: Obj) => r.result === 'fail').length);
    // Only failures are listed: the clean bulk namespace has an empty report.
    expect(namespaced.find((d) => d.metadata.namespace === 'bulk')!.results).toEqual([]);
    const crb = cluster[0]!.results.find((r: Obj) => r.resources[0].name === 'everyone-admin');
    expect(crb.resources[0].namespace).toBeUndefined();
  });

  it('files too, with pss categories for pss profiles', async () => {
    const file = join(dir, 'pod.yaml');
    await writeFile(
      file,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: app, image: nginx, securityContext: {privileged: true}}]\n`,
    );
    const { stdout } = await scan(['--format', 'policyreport', '--profile', 'pss-baseline', file]);
    const report = parseYaml(stdout) as Obj;
    expect(report.kind).toBe('PolicyReport');
    expect(report.metadata.namespace).toBe('a');
    expect(report.results.map((r: Obj) => r.category)).toEqual(report.results.map(() => 'pss-baseline'));
    expect(report.results[0].resources[0]).toEqual({ apiVersion: 'v1', kind: 'Pod', namespace: 'a', name: 'p' });
  });
});
