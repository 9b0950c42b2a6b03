import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { parseManifests } from '../../cli/manifests.js';
import { withScanIO, type ScanReport } from '../../cli/scan.js';

// Relative paths, so that sources read as a user would see them (`test/fixtures/scan/multi.yaml:2`).
const FIX = relative(process.cwd(), fileURLToPath(new URL('../fixtures/scan', import.meta.url)));
const EXAMPLES = relative(process.cwd(), fileURLToPath(new URL('../../examples/manifests', import.meta.url)));
const fx = (name: string): string => join(FIX, name);
const ex = (name: string): string => join(EXAMPLES, name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function scan(args: string[], opts: { stdin?: string; tty?: boolean; env?: Record<string, string> } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await withScanIO(
    {
      stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: Readable.from([opts.stdin ?? '']),
      env: opts.env ?? {},
    },
    () => main(['node', 'bulwark', 'scan', ...args]),
  );
  return { code, stdout, stderr };
}

async function scanJson(args: string[], opts: { stdin?: string } = {}): Promise<Run & { report: ScanReport }> {
  const run = await scan(['--format', 'json', ...args], opts);
  return { ...run, report: JSON.parse(run.stdout) as ScanReport };
}

/** `name → policy IDs` of a report, for compact expectations. */
function policiesByName(report: ScanReport): Record<string, string[]> {
  return Object.fromEntries(report.results.map((r) => [r.name, r.findings.map((f) => f.policy)]));
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('bulwark scan: the example manifests of the README', () => {
  it.each([
    ['privileged-pod.yaml', 'debug-shell', ['privileged-container', 'host-namespaces']],
    ['docker-sock-deployment.yaml', 'ci-runner', ['sensitive-host-mount']],
    ['cluster-admin-binding.yaml', 'ci-cluster-admin', ['cluster-admin-binding']],
  ])('%s: finds %s with %j and exits 1', async (file, name, policies) => {
    const { code, report } = await scanJson([ex(file)]);
    expect(code).toBe(1);
    const found = policiesByName(report)[name];
    for (const id of policies) expect(found).toContain(id);
  });

  it('a hardened Deployment passes defender and pss-restricted: exit 0', async () => {
    for (const profile of ['defender', 'pss-restricted', 'pss-baseline']) {
      const { code, report } = await scanJson(['--profile', profile, ex('hardened-deployment.yaml')]);
      expect(report.results.find((r) => r.name === 'web' && r.kind === 'Deployment')?.findings).toEqual([]);
      expect(code).toBe(0);
    }
  });
});

describe('bulwark scan --format json', () => {
  it('prints exactly the contract shape: one result per evaluated object, findings possibly empty', async () => {
    const { code, stdout, stderr, report } = await scanJson([fx('multi.yaml')]);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(stdout.trim().startsWith('{')).toBe(true);
    expect(Object.keys(report)).toEqual(['results', 'errors', 'summary']);
    expect(report.results.map((r) => Object.keys(r))).toEqual([
      ['source', 'kind', 'namespace', 'name', 'findings'],
      ['source', 'kind', 'namespace', 'name', 'findings'],
    ]);
    const [pod, deployment] = report.results;
    expect(pod).toMatchObject({ source: `${fx('multi.yaml')}:2`, kind: 'Pod', namespace: 'team-a', name: 'priv' });
    expect(pod!.findings).toContainEqual({
      policy: 'privileged-container',
      severity: expect.stringMatching(/^(informational|low|medium|high)$/),
      message: expect.stringContaining('"app"'),
      path: 'spec.containers[0].securityContext.privileged',
    });
    for (const f of pod!.findings) expect(Object.keys(f)).toEqual(['policy', 'severity', 'message', 'path']);
    expect(deployment).toEqual({ source: `${fx('multi.yaml')}:23`, kind: 'Deployment', namespace: 'team-a', name: 'clean', findings: [] });
    expect(report.errors).toEqual([]);
    expect(report.summary).toMatchObject({ files: 1, objects: 2, skipped: 1, exempt: 0, errors: 0 });
    expect(report.summary.findings).toBe(pod!.findings.length);
  });

  it('reads JSON Lists, with each item at its own line', async () => {
    const { code, report } = await scanJson([fx('list.json')]);
    expect(code).toBe(1);
    expect(report.results.map((r) => [r.source, r.name])).toEqual([
      [`${fx('list.json')}:6`, 'json-priv'],
      [`${fx('list.json')}:18`, 'json-clean'],
    ]);
    expect(policiesByName(report)['json-priv']).toContain('privileged-container');
    expect(report.summary.skipped).toBe(1); // the ConfigMap
  });

  it('expands any *List kind with items (PodList in YAML)', async () => {
    const { report } = await scanJson([fx('pod-list.yaml')]);
    expect(report.results.map((r) => [r.source, r.name])).toEqual([
      [`${fx('pod-list.yaml')}:4`, 'listed-priv'],
      [`${fx('pod-list.yaml')}:15`, 'listed-clean'],
    ]);
  });

  it('reads YAML as kubectl does (1.1): `privileged: yes` is privileged', async () => {
    const { report } = await scanJson([fx('yes-privileged.yaml')]);
    expect(policiesByName(report)['yes-priv']).toContain('privileged-container');
  });

  it('recurses into directories: only .yaml/.yml/.json, hidden directories skipped, in name order', async () => {
    const { code, report, stderr } = await scanJson([join(FIX, 'tree')]);
    expect(stderr).toBe(''); // tree/.hidden/broken.yaml was never read
    expect(code).toBe(1);
    expect(report.results.map((r) => r.source)).toEqual([`${join(FIX, 'tree', 'apps', 'nested', 'role.yml')}:1`, `${join(FIX, 'tree', 'apps', 'web.yaml')}:1`]);
    expect(policiesByName(report)).toMatchObject({ 'tree-admin': ['cluster-admin-binding'], 'tree-priv': ['privileged-container'] });
    expect(report.summary).toMatchObject({ files: 3, skipped: 1 }); // cm.json: a ConfigMap
  });

  it('reads stdin for `-`, named <stdin>', async () => {
    const stdin =
      '---\napiVersion: v1\nkind: Pod\nmetadata: {name: piped, namespace: x}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext: {privileged: true}\n';
    const { code, report } = await scanJson(['-'], { stdin });
    expect(code).toBe(1);
    expect(report.results[0]).toMatchObject({ source: '<stdin>:2', name: 'piped' });
    expect(policiesByName(report).piped).toContain('privileged-container');
  });
});

describe('bulwark scan: profiles and config', () => {
  it("--profile replaces the config's profiles", async () => {
    const fromConfig = await scanJson(['--config', fx('configs/pss-only.yaml'), fx('multi.yaml')]);
    const priv = fromConfig.report.results.find((r) => r.name === 'priv')!;
    expect(priv.findings.map((f) => f.policy)).not.toContain('privileged-container');
    for (const f of priv.findings) expect(f.policy).toMatch(/^pss-/);

    const replaced = await scanJson(['--config', fx('configs/pss-only.yaml'), '--profile', 'defender', fx('multi.yaml')]);
    const ids = replaced.report.results.flatMap((r) => r.findings.map((f) => f.policy));
    expect(ids).toContain('privileged-container');
    expect(ids.filter((id) => id.startsWith('pss-'))).toEqual([]);
  });

  it('--profile is repeatable and takes pinned PSS versions', async () => {
    const { code, report } = await scanJson(['--profile', 'defender', '--profile', 'pss-restricted@v1.29', fx('multi.yaml')]);
    expect(code).toBe(1);
    const ids = policiesByName(report).priv!;
    expect(ids).toContain('privileged-container');
    expect(ids.some((id) => id.startsWith('pss-'))).toBe(true);
  });

  it('a pinned PSS profile alone finds the privileged pod with PSS IDs', async () => {
    const { code, report } = await scanJson(['--profile', 'pss-baseline@v1.29', fx('multi.yaml')]);
    expect(code).toBe(1);
    expect(policiesByName(report).priv!.length).toBeGreaterThan(0);
    for (const id of policiesByName(report).priv!) expect(id).toMatch(/^pss-/);
  });

  it('actions: {id: off} turns a check off', async () => {
    const { report } = await scanJson(['--config', fx('configs/privileged-off.yaml'), fx('multi.yaml')]);
    expect(policiesByName(report).priv).not.toContain('privileged-container');
  });

  it('an exempt namespace is not evaluated (counted as exempt)', async () => {
    const { code, report } = await scanJson(['--config', fx('configs/exempt-namespace.yaml'), fx('multi.yaml'), fx('list.json')]);
    expect(report.results.map((r) => r.namespace)).toEqual(['team-b', 'team-b']);
    expect(report.summary.exempt).toBe(2);
    expect(code).toBe(1); // team-b's privileged pod still counts
  });

  it('an exempt image drops the findings about its containers', async () => {
    const { code, report } = await scanJson(['--config', fx('configs/exempt-image.yaml'), fx('multi.yaml')]);
    expect(policiesByName(report).priv).not.toContain('privileged-container');
    expect(code).toBe(0);
  });

  it('says on stderr that username and group exemptions cannot apply offline', async () => {
    const { stderr, report } = await scanJson(['--config', fx('configs/exempt-user.yaml'), fx('multi.yaml')]);
    expect(stderr).toMatch(/usernames and exemptions.groups do not apply offline/);
    expect(policiesByName(report).priv).toContain('privileged-container');
  });
});

describe('bulwark scan: exit codes and bad input', () => {
  it('exits 0 when nothing is found', async () => {
    const { code, stdout } = await scan([fx('clean.yaml')]);
    expect(code).toBe(0);
    expect(stdout).toBe('1 object scanned, no findings; 1 skipped (no checks for their kind)\n');
  });

  it('names a broken file with its line and column, still scans the others, and exits 2', async () => {
    const { code, stderr, report } = await scanJson([join(FIX, 'broken')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`${escape(join(FIX, 'broken', 'b-broken.yaml'))}:\\d+:\\d+: invalid YAML`));
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({ file: join(FIX, 'broken', 'b-broken.yaml'), line: expect.any(Number), column: expect.any(Number) });
    expect(report.results.map((r) => r.name)).toEqual(['good-priv', 'good-clean']);
    expect(policiesByName(report)['good-priv']).toContain('privileged-container'); // 2 wins over 1
  });

  it('rejects documents that are not objects (scalar, list, no kind) by line, and evaluates the rest', async () => {
    const { code, report } = await scanJson([fx('garbage.yaml')]);
    expect(code).toBe(2);
    expect(report.errors.map((e) => [e.line, e.message])).toEqual([
      [1, expect.stringMatching(/not a Kubernetes object.*string/)],
      [3, expect.stringMatching(/not a Kubernetes object.*list/)],
      [6, expect.stringMatching(/kind is missing/)],
    ]);
    expect(report.results.map((r) => r.name)).toEqual(['after-garbage']);
  });

  it('an unreadable path is an error; the other paths are still scanned', async () => {
    const { code, stderr, report } = await scanJson([fx('does-not-exist.yaml'), fx('clean.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${fx('does-not-exist.yaml')}: cannot read: no such file or directory`);
    expect(report.results.map((r) => r.name)).toEqual(['plain']);
  });

  it.each([
    ['no PATH', [], /missing required argument/],
    ['an unknown profile', ['--profile', 'defendr', fx('clean.yaml')], /unknown profile "defendr"/],
    ['a malformed pinned version', ['--profile', 'pss-restricted@1.29', fx('clean.yaml')], /version must look like v1.29/],
    ['a version on defender', ['--profile', 'defender@v1.29', fx('clean.yaml')], /only the pss-\* profiles take a version/],
    ['an unknown format', ['--format', 'xml', fx('clean.yaml')], /argument 'xml' is invalid/],
    ['an invalid config', ['--config', fx('configs/broken.yaml'), fx('clean.yaml')], /broken.yaml:1: defaultAction: must be one of/],
    ['a missing config', ['--config', fx('configs/nope.yaml'), fx('clean.yaml')], /nope.yaml: cannot read the configuration/],
  ])('exits 2 on %s, saying why on stderr', async (_what, args, message) => {
    const { code, stdout, stderr } = await scan(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
  });

  describe('directories made on the fly', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bulwark-scan-'));
      await mkdir(join(dir, 'k8s', 'node_modules', 'pkg'), { recursive: true });
      await mkdir(join(dir, 'empty'));
      await writeFile(join(dir, 'k8s', 'node_modules', 'pkg', 'broken.yaml'), 'a: [\n');
      await writeFile(join(dir, 'k8s', '.kube-linter.yaml'), 'checks: [\n');
      await writeFile(join(dir, 'k8s', 'pod.YAML'), 'kind: Pod\nmetadata: {name: upper}\n');
      await symlink(join(dir, 'k8s'), join(dir, 'k8s', 'loop'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('skips node_modules and hidden files, survives a symlink loop', async () => {
      const { code, stderr, report } = await scanJson([join(dir, 'k8s')]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(report.results.map((r) => r.name)).toEqual(['upper']);
    });

    it('an empty directory is an error (a CI gate that scans nothing must not pass)', async () => {
      const { code, stderr } = await scanJson([join(dir, 'empty')]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/no \.yaml, \.yml, \.json files found/);
    });
  });
});

describe('bulwark scan --format table', () => {
  it('groups findings by object, one line each, then a summary', async () => {
    const { code, stdout } = await scan([fx('multi.yaml')]);
    expect(code).toBe(1);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`Pod team-a/priv  (${fx('multi.yaml')}:2)`);
    expect(lines[1]).toMatch(
      /^ {2}(HIGH|MEDIUM|LOW|INFO) +\[privileged-container\] container "app" .* \(at spec\.containers\[0\]\.securityContext\.privileged\)$/,
    );
    expect(stdout).not.toContain('clean'); // objects without findings are counted, not listed
    expect(stdout).not.toMatch(/\x1b\[/);
    expect(lines.at(-3)).toBe(''); // a blank line before the summary
    expect(lines.at(-2)).toMatch(
      /^2 objects scanned, \d+ findings? \(\d+ (high|medium|low|informational).*\) in 1 object; 1 skipped \(no checks for their kind\)$/,
    );
  });

  it('colours severities only on a TTY without NO_COLOR', async () => {
    expect((await scan([fx('multi.yaml')], { tty: true })).stdout).toMatch(/\x1b\[[0-9;]+m(HIGH|MEDIUM|LOW|INFO)/);
    expect((await scan([fx('multi.yaml')], { tty: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(/\x1b\[/);
  });
});

describe('parseManifests', () => {
  it('skips empty documents and refuses alias bombs', () => {
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nkind: Pod\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    const entries = [...parseManifests(`---\n# nothing\n---\n${bomb}`, 'x.yaml')];
    expect(entries).toEqual([expect.objectContaining({ source: 'x.yaml:4:1', error: expect.stringMatching(/alias/i) })]);
  });

  it('reads JSON-looking input that JSON.parse refuses as YAML flow style (stdin, .yaml), as kubectl reads YAML', () => {
    expect([...parseManifests('{"kind": "Pod", "metadata": {"name": "p"},}', '<stdin>')]).toEqual([
      { source: '<stdin>:1', file: '<stdin>', line: 1, object: { kind: 'Pod', metadata: { name: 'p' } } },
    ]);
  });

  it('a .json file is JSON: a trailing comma is invalid JSON, at its line and column', () => {
    expect([...parseManifests('{"kind": "Pod",\n "metadata": {"name": "p"},}', 'p.json')]).toEqual([
      { source: 'p.json:2:28', file: 'p.json', line: 2, column: 28, error: expect.stringMatching(/^invalid JSON: /) },
    ]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
