import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSnapshots, snapshotWorkTree } from './support/worktree-guard.js';

function repo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulwark-guard-'));
  spawnSync('git', ['init', '-q'], { cwd: dir });
  fs.writeFileSync(path.join(dir, '.gitignore'), 'data/\nnode_modules/\n');
  fs.writeFileSync(path.join(dir, 'tracked.txt'), 'a');
  spawnSync('git', ['add', '.'], { cwd: dir });
  spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init'], { cwd: dir });
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data/bulwark.db'), 'user alerts');
  return dir;
}

describe('the working-tree guard (vitest globalSetup)', () => {
  it('reports files a run adds, changes or removes — ignored ones included — and nothing under node_modules/dist', () => {
    const dir = repo();
    const before = snapshotWorkTree(dir);
    expect(diffSnapshots(before, snapshotWorkTree(dir))).toEqual([]);
    fs.writeFileSync(path.join(dir, 'data/bulwark.db'), 'user alerts + a test alert');
    fs.writeFileSync(path.join(dir, 'tracked.txt'), 'b');
    fs.writeFileSync(path.join(dir, 'stray.pem'), 'x');
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.writeFileSync(path.join(dir, 'node_modules/x.js'), 'x');
    expect(diffSnapshots(before, snapshotWorkTree(dir))).toEqual(['added: stray.pem', 'changed: data/bulwark.db', 'changed: tracked.txt']);
  });
});
