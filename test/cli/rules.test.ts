// `bulwark rules`: the catalogue is data built from every rule's metadata; docs/rules.md lists it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ALERT_TYPES } from '../../audit/rules/index.js';
import { ruleCatalogue, RULE_SOURCES } from '../../cli/rules.js';
import { allPolicyMetas } from '../../policies/registry.js';

const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin', 'bulwark.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The rows of the catalogue table in docs/rules.md: `| \`id\` | severity | sources | tactics | title |`. */
function docRows(): string[][] {
  const text = readFileSync(join(root, 'docs', 'rules.md'), 'utf8');
  return text
    .split('\n')
    .filter((l) => /^\| `[a-z0-9-]+` \|/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

describe('rule catalogue', () => {
  const catalogue = ruleCatalogue();

  it('covers every policy and every audit alert type, each once, with full metadata', () => {
    const ids = catalogue.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of allPolicyMetas().keys()) expect(ids).toContain(id);
    for (const id of AUDIT_ALERT_TYPES) expect(ids).toContain(id);
    for (const e of catalogue) {
      expect(e.title, e.id).not.toBe('');
      expect(['low', 'medium', 'high']).toContain(e.severity);
      expect(e.tactics.length, e.id).toBeGreaterThan(0);
      expect(e.remediation.length, e.id).toBeGreaterThan(10);
      expect(e.sources.length, e.id).toBeGreaterThan(0);
      for (const s of e.sources) expect(RULE_SOURCES).toContain(s);
    }
  });

  it('says where each rule fires', () => {
    const by = new Map(catalogue.map((e) => [e.id, e.sources]));
    expect(by.get('privileged-container')).toEqual(['admission', 'audit', 'background']);
    expect(by.get('pss-run-as-user')).toEqual(['admission', 'background']);
    expect(by.get('exec-into-pod')).toEqual(['audit']);
    expect(by.get('bulwark-tampering')).toEqual(['admission', 'audit']);
  });

  it('docs/rules.md lists exactly the catalogue (id, severity, sources, tactics, title)', () => {
    const expected = catalogue.map((e) => [`\`${e.id}\``, e.severity, e.sources.join(', '), e.tactics.join(', '), e.title]);
    const rows = docRows();
    const missing = expected.filter((r) => !rows.some((d) => d.join('|') === r.join('|')));
    const extra = rows.filter((d) => !expected.some((r) => d.join('|') === r.join('|')));
    // On failure, the message is the row to paste into docs/rules.md.
    expect(missing.map((r) => `| ${r.join(' | ')} |`)).toEqual([]);
    expect(extra.map((r) => `| ${r.join(' | ')} |`)).toEqual([]);
  });

  it('the README links the page', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('docs/rules.md');
  });
});

describe('bulwark rules', () => {
  it('prints the catalogue as JSON', () => {
    const r = run(['rules', '--format', 'json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as Array<{ id: string; remediation: string; sources: string[] }>;
    expect(parsed.map((e) => e.id)).toEqual(ruleCatalogue().map((e) => e.id));
    expect(parsed.find((e) => e.id === 'exec-into-pod')?.sources).toEqual(['audit']);
  });

  it('prints a table by default, and -o json as an alias', () => {
    const r = run(['rules']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID\s+SEVERITY\s+SOURCES\s+TACTICS\s+TITLE$/);
    expect(r.stdout).toMatch(/^exec-into-pod\s+medium\s+audit\s+Execution\s+Exec into a pod$/m);
    expect(JSON.parse(run(['rules', '-o', 'json']).stdout).length).toBe(ruleCatalogue().length);
  });

  it('rejects an unknown format with exit 2', () => {
    const r = run(['rules', '--format', 'yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--format must be table or json, got "yaml"');
  });
});
