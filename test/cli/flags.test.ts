// kubectl habits (#18 item 5): -f/--filename names input files (repeatable, - for stdin), -o/--output
// the format; --format and positional paths stay (DESIGN.md's contract); the old -f FORMAT still
// works for one release with a deprecation note.
import { describe, expect, it } from 'vitest';
import { runCli as auditScan } from '../audit/helpers.js';
import { scanCli } from './support.js';

const scan = scanCli;

const POD = 'examples/manifests/privileged-pod.yaml';
const DEPLOY = 'examples/manifests/docker-sock-deployment.yaml';
const names = (stdout: string) => (JSON.parse(stdout) as { results: { name: string }[] }).results.map((r) => r.name).sort();

describe('bulwark scan: kubectl flags', () => {
  it('-f FILE is repeatable, mixes with positional paths, and -f - reads stdin', async () => {
    const r = await scan(['-o', 'json', '-f', POD, '-f', DEPLOY]);
    expect(r.code).toBe(1);
    expect(names(r.stdout)).toEqual(['ci-runner', 'debug-shell']);
    const stdin = await scan(
      ['-o', 'json', '--filename', '-'],
      'apiVersion: v1\nkind: Pod\nmetadata: {name: piped}\nspec: {containers: [{name: a, image: x, securityContext: {privileged: true}}]}\n',
    );
    expect(names(stdin.stdout)).toEqual(['piped']);
  });

  it('-o and --output choose the format; --format stays an alias; -R is accepted', async () => {
    for (const flag of ['-o', '--output', '--format']) expect(names((await scan([flag, 'json', '-R', POD])).stdout)).toEqual(['debug-shell']);
    expect((await scan(['-o', 'sarif', POD])).stdout).toContain('"version": "2.1.0"');
    const bad = await scan(['-o', 'yaml', POD]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/argument 'yaml' is invalid/);
  });

  it('the old -f json still works, with a deprecation note on stderr', async () => {
    const r = await scan(['-f', 'json', POD]);
    expect(names(r.stdout)).toEqual(['debug-shell']);
    expect(r.stderr).toContain('bulwark scan: -f json as the output format is deprecated and goes in the next release: use -o json');
  });
});

describe('bulwark audit scan: kubectl flags', () => {
  it('-f LOG and -o ndjson; --format and the old -f ndjson still work', async () => {
    const lines = (s: string) => s.trim().split('\n').filter(Boolean).length;
    const a = await auditScan(['-f', 'examples/audit/sample.log', '-o', 'ndjson']);
    expect(a.code).toBe(0);
    expect(lines(a.stdout)).toBe(12);
    const b = await auditScan(['--format', 'ndjson', 'examples/audit/sample.log']);
    expect(lines(b.stdout)).toBe(12);
    const old = await auditScan(['-f', 'ndjson', 'examples/audit/sample.log']);
    expect(lines(old.stdout)).toBe(12);
    expect(old.stderr).toContain('-f ndjson as the output format is deprecated');
  });
});
