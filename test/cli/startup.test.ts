// `bulwark --help` and `scan` must not load the heavy libraries (issue #18 item 4): walk the
// static (non-type) imports reachable from cli/main.ts and check none of them is one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HEAVY = ['@kubernetes/client-node', 'express', 'better-sqlite3', 'pg', 'prom-client', 'pino'];
// Still loaded by --help (not yet lazy): @peculiar/x509 through certs/x509.ts (certs, manifests).

/** Static value imports of one source file (`import type` and dynamic `import()` excluded). */
function staticImports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)([\s\S]*?)from\s+'([^']+)'/gm)) out.push(m[2]!);
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1]!);
  return out;
}

function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>(); // package → the file importing it
  const files = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) todo.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:') && !seen.has(spec)) seen.set(spec, path.relative(root, file));
    }
  }
  return seen;
}

describe('CLI start-up', () => {
  it('the command tree (cli/main.ts) loads no heavy library statically: each command loads its own', () => {
    const pkgs = reachable(path.join(root, 'cli/main.ts'));
    expect(pkgs.has('commander')).toBe(true); // the walk works
    const heavy = HEAVY.filter((p) => pkgs.has(p)).map((p) => `${p} <- ${pkgs.get(p)}`);
    expect(heavy).toEqual([]);
  });
});
