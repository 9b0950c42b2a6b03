// Vitest globalSetup: fails the run when the tests leave or change files in the
// working tree (issue #18 item 1). Every test must write only into its own
// temporary folder. Snapshot = `git status --porcelain --ignored -uall` plus size
// and mtime of every listed file, taken before and after the run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Folders the tests may write to: build output (tsc), dependencies. */
export const ALLOWED_OUTPUT = ['node_modules/', 'dist/', 'coverage/'];

export function snapshotWorkTree(dir = root): Map<string, string> {
  const r = spawnSync('git', ['status', '--porcelain=v1', '-z', '--ignored=traditional', '-uall'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`worktree guard: git status failed: ${r.stderr}`);
  const out = new Map<string, string>();
  for (const entry of r.stdout.split('\0')) {
    if (entry.length < 4) continue;
    const code = entry.slice(0, 2);
    const file = entry.slice(3);
    if (ALLOWED_OUTPUT.some((p) => file === p || file.startsWith(p))) continue;
    let st = 'missing';
    try {
      const s = fs.statSync(path.join(dir, file));
      st = `${s.size}:${s.mtimeMs}`;
    } catch {
      /* deleted */
    }
    out.set(file, `${code} ${st}`);
  }
  return out;
}

export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [file, state] of after) {
    const was = before.get(file);
    if (was === undefined) changes.push(`${state.startsWith(' M') || state.startsWith('M') ? 'changed' : 'added'}: ${file}`);
    else if (was !== state) changes.push(`changed: ${file}`);
  }
  for (const file of before.keys()) if (!after.has(file)) changes.push(`removed or restored: ${file}`);
  return changes.sort();
}

export default function setup() {
  const before = snapshotWorkTree();
  return () => {
    const changes = diffSnapshots(before, snapshotWorkTree());
    if (changes.length > 0) {
      // A throwing teardown is printed but does not change vitest's exit code: set it too.
      process.exitCode = 1;
      throw new Error(
        `the test run left or changed files in the working tree (tests must write only into their own temporary folder):\n  ${changes.join('\n  ')}`,
      );
    }
  };
}
