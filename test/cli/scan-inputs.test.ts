// `bulwark scan` on a real repository (#18 item 6): files that are not Kubernetes objects are
// skipped and counted (listed with -v), --exclude leaves paths out, a Helm chart is rendered with the
// real helm binary (--helm-chart), a path with no object exits 2, and JSON errors say "invalid JSON".
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../cli/scan.js';
import { helmBinary } from '../support/helm.js';
import { scanCli } from './support.js';

const CHARTS = relative(process.cwd(), fileURLToPath(new URL('../../charts', import.meta.url)));
const CHART = join(CHARTS, 'bulwark');

const scan = scanCli;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-scan-inputs-'));
  await mkdir(join(dir, 'app', 'overlays'), { recursive: true });
  await writeFile(join(dir, 'app', 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [pod.yaml]\n');
  await writeFile(
    join(dir, 'app', 'pod.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers: [{name: app, image: nginx:1.27}]\n',
  );
  await writeFile(join(dir, 'app', 'settings.yaml'), 'replicas: 3\nimage: {tag: v1}\n');
  await writeFile(
    join(dir, 'app', 'overlays', 'priv.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: {name: priv}\nspec:\n  containers: [{name: a, image: x, securityContext: {privileged: true}}]\n',
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('scan on a real repository', () => {
  it("scans the project's own charts/ folder: exit 0, the chart's templates, values and metadata counted as skipped", async () => {
    const r = await scan([CHARTS]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\d+ objects scanned, no findings; .*\b(\d+) not Kubernetes objects \(values, Helm templates, kustomizations; -v lists them\)/);
  });

  it('-v lists each skipped file with the reason', async () => {
    const r = await scan(['-v', CHARTS]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`skipped ${join(CHART, 'Chart.yaml')}: Helm chart metadata`);
    expect(r.stderr).toContain(`skipped ${join(CHART, 'values.yaml')}: values of the Helm chart ${CHART}`);
    expect(r.stderr).toMatch(new RegExp(`skipped ${join(CHART, 'templates', 'deployment.yaml').replace(/[.]/g, '\\.')}: part of the Helm chart`));
  });

  it('skips kustomizations and values-like documents; reads the rest', async () => {
    const r = await scan(['--format', 'json', join(dir, 'app')]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as ScanReport;
    expect(report.results.map((x) => x.name).sort()).toEqual(['priv', 'web']);
  });

  it('--exclude leaves out files and folders by path or name (repeatable)', async () => {
    const r = await scan(['--format', 'json', '--exclude', 'overlays', '--exclude', '*/nothing/*', join(dir, 'app')]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as ScanReport).results.map((x) => x.name)).toEqual(['web']);
  });

  it('a path that yields no object exits 2, saying so', async () => {
    const only = join(dir, 'app', 'settings.yaml');
    const r = await scan([only]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${only}: no Kubernetes object found (1 file or document skipped as not Kubernetes objects: -v lists them)`);
    expect((await scan(['-'], '')).stderr).toContain('<stdin>: no Kubernetes object found');
  });

  it('a broken JSON file says invalid JSON; a Helm template named directly says render it first', async () => {
    await writeFile(join(dir, 'bad.json'), '{"apiVersion": "v1", "kind": "Pod",\n  "metadata": {"name": "x",}}\n');
    const bad = await scan([join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json:\d+:\d+: invalid JSON: /);
    const tpl = await scan([join(CHART, 'templates', 'webhooks.yaml')]);
    expect(tpl.code).toBe(2);
    expect(tpl.stderr).toContain('a Helm template ({{ … }}), not YAML yet: render the chart first (bulwark scan --helm-chart DIR)');
  });

  it('--helm-chart renders the chart with the real helm binary and judges what it renders', async () => {
    const values = join(dir, 'values.yaml');
    await writeFile(values, 'certificates:\n  generate:\n    allowTemplateRender: true\n');
    const r = await scan([
      '--format',
      'json',
      '--profile',
      'pss-restricted',
      '--helm-chart',
      CHART,
      '--helm',
      helmBinary(),
      '--values',
      values,
      '-n',
      'bulwark-system',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as ScanReport).results.map((x) => x.kind)).toContain('Deployment');
    const refused = await scan(['--helm-chart', CHART, '--helm', helmBinary(), '-n', 'bulwark-system']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/helm template .* failed: .*certificates\.mode=generate needs a live cluster/);
    const missing = await scan(['--helm-chart', CHART, '--helm', join(dir, 'no-helm')]);
    expect(missing.stderr).toContain('not found: install helm (https://helm.sh) or give its path with --helm PATH');
    expect((await scan(['--values', values, join(dir, 'app')])).stderr).toContain('--values needs --helm-chart');
  });
});
