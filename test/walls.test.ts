// The module walls (.dependency-cruiser.cjs): the real tree keeps them, and a tree that crosses
// them fails the check that `npm test` runs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string, folders: string[]) {
  const r = spawnSync(depcruise, ['--config', config, '--output-type', 'err', ...folders], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('module walls', () => {
  it('hold in this tree', () => {
    const r = cruise(root, ['core', 'config', 'policies', 'webhook', 'audit', 'alerts', 'certs', 'cli']);
    expect(r.out).toMatch(/no dependency violations found/);
    expect(r.code).toBe(0);
  });

  const dir = mkdtempSync(join(tmpdir(), 'bulwark-walls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    'core/log.ts': "import { check } from '../policies/check.js';\nexport const log = check;\n",
    'policies/check.ts': "import type { Alert } from '../alerts/model.js';\nexport const check = (a?: Alert) => a;\n",
    'alerts/model.ts': "import { ID } from '../policies/ids.js';\nexport interface Alert { id: typeof ID }\n",
    'policies/ids.ts': "export const ID = 'x';\n",
    'audit/cli.ts': "import { main } from '../cli/main.js';\nexport const run = main;\n",
    'cli/main.ts': "import { run } from '../audit/cli.js';\nexport const main = () => run;\n",
    'alerts/store.ts': "import { open } from './store-sqlite.js';\nexport const store = open;\n",
    'alerts/store-sqlite.ts': "import { store } from './store.js';\nexport const open = () => store;\n",
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }

  it('fail when one is crossed, naming each rule', () => {
    const r = cruise(dir, ['core', 'policies', 'alerts', 'audit', 'cli']);
    expect(r.code).not.toBe(0);
    for (const rule of ['core-imports-no-module', 'policies-imports-only-core', 'alerts-not-policies', 'nothing-imports-cli', 'no-circular']) {
      expect(r.out, rule).toContain(rule);
    }
  });
});
